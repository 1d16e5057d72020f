// Where the server's statements begin and end in one COM_QUERY (src/engines/mysql/query-statements.ts): the texts
// the tap gives each result. Expected splits are what MariaDB 10.11 runs (checked against its general log and the
// results a multi-statement COM_QUERY returns).
import { describe, expect, it } from 'vitest';
import { answersWithSeveralResults, splitQueryStatements } from '../../src/engines/mysql/query-statements.js';

const PROCEDURE = `CREATE PROCEDURE fill(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 1;
  DECLARE CONTINUE HANDLER FOR SQLEXCEPTION BEGIN SET @failed = 1; END;
  DECLARE c CURSOR FOR SELECT id FROM t WHERE id IN (1) FOR UPDATE;
  WHILE i <= n DO
    INSERT INTO t VALUES (i, CONCAT('row; ', i), IF(i > 2, 'big', 'small'), REPEAT('x', 2));
    IF (i % 2 = 0) THEN SET @even = @even + 1; ELSEIF i = 3 THEN SET @three = 1; ELSE BEGIN END; END IF;
    CASE i WHEN 1 THEN SET @one = CASE WHEN n > 1 THEN IF(n > 2, 2, 1) ELSE 0 END; ELSE SET @x = 0; END CASE;
    lbl: LOOP LEAVE lbl; END LOOP lbl;
    REPEAT SET i = i + 1; UNTIL i > 0 END REPEAT;
  END WHILE;
  SELECT COUNT(*) AS filled FROM t; -- end; not here
END`;

describe('splitQueryStatements', () => {
  it('without CLIENT_MULTI_STATEMENTS the whole text is one statement (the server refuses a second as a syntax error)', () => {
    expect(splitQueryStatements('  select 1; select 2 ', false)).toEqual(['select 1; select 2']);
    expect(splitQueryStatements(PROCEDURE, false)).toEqual([PROCEDURE]);
    expect(splitQueryStatements('   ', false)).toEqual([]);
  });

  it('splits at top-level semicolons, not inside strings, quoted names or comments', () => {
    expect(splitQueryStatements("select 'a;b', `c;d`; /* ; */ select \"e;\" # ;\n; select 3;  ", true))
      .toEqual(["select 'a;b', `c;d`", '/* ; */ select "e;" # ;', 'select 3']);
    expect(splitQueryStatements('select 1', true)).toEqual(['select 1']);
  });

  it('keeps a stored program body whole: BEGIN … END with nested blocks, IF()/REPEAT() functions, FOR UPDATE', () => {
    expect(splitQueryStatements(`${PROCEDURE}; CALL fill(3); select 'after'`, true)).toEqual([PROCEDURE, 'CALL fill(3)', "select 'after'"]);
  });

  it('knows the routine forms: DEFINER, OR REPLACE, AGGREGATE, triggers, events, bodies without BEGIN', () => {
    const definer = 'CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN SELECT 1; SELECT 2; END';
    const replace = "CREATE OR REPLACE DEFINER = CURRENT_USER FUNCTION f(a INT) RETURNS INT DETERMINISTIC BEGIN RETURN a; END";
    const trigger = 'CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW BEGIN SET NEW.a = 1; SET NEW.b = 2; END';
    const event = "CREATE EVENT ev ON SCHEDULE EVERY 1 HOUR DO BEGIN DELETE FROM t; INSERT INTO t VALUES (1); END";
    const bare = 'CREATE FUNCTION g() RETURNS INT RETURN IF(1, 2, 3)';
    const bareIf = 'CREATE PROCEDURE q(a INT) IF a > 0 THEN SELECT 1; ELSE SELECT 2; END IF';
    expect(splitQueryStatements([definer, replace, trigger, event, bare, bareIf, 'select 9'].join(';\n'), true))
      .toEqual([definer, replace, trigger, event, bare, bareIf, 'select 9']);
    expect(splitQueryStatements('CREATE PROCEDURE r() SELECT 1; SELECT 2', true)).toEqual(['CREATE PROCEDURE r() SELECT 1', 'SELECT 2']);
  });

  it('MariaDB compound statements outside programs; BEGIN alone is a transaction', () => {
    const atomic = 'BEGIN NOT ATOMIC DECLARE x INT DEFAULT 0; SET x = 1; SELECT x; END';
    const topIf = "IF @a IS NULL THEN SELECT 'null'; ELSE SELECT @a; END IF";
    const forLoop = 'FOR i IN 1..3 DO SELECT i; END FOR';
    const labelled = 'outer_block: BEGIN NOT ATOMIC SELECT 1; END outer_block';
    expect(splitQueryStatements([atomic, topIf, forLoop, labelled].join('; '), true)).toEqual([atomic, topIf, forLoop, labelled]);
    expect(splitQueryStatements('BEGIN; select 1; COMMIT', true)).toEqual(['BEGIN', 'select 1', 'COMMIT']);
    expect(splitQueryStatements('select case when 1 then 2 end; select 3 for update; select 4', true))
      .toEqual(['select case when 1 then 2 end', 'select 3 for update', 'select 4']);
  });
});

describe('answersWithSeveralResults', () => {
  it('is true for CALL only', () => {
    expect(answersWithSeveralResults('CALL fill(3)')).toBe(true);
    expect(answersWithSeveralResults('call p')).toBe(true);
    expect(answersWithSeveralResults('select 1')).toBe(false);
    expect(answersWithSeveralResults('callx()')).toBe(false);
  });
});
