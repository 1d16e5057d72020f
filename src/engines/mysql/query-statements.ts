// The statements of one COM_QUERY, as the server will run them, so the tap can give each result its own text
// (DESIGN §6: one event per result of a multi-statement query). The server parses a statement, runs it, and goes on
// after the `;` its parser stopped at. A top-level `;` ends a statement, except inside a compound statement: a stored
// program's body (CREATE PROCEDURE / FUNCTION / TRIGGER / EVENT / PACKAGE … BEGIN … END) or one of MariaDB's compound
// statements outside a program (BEGIN NOT ATOMIC, IF, CASE, LOOP, WHILE, REPEAT, FOR). Without
// CLIENT_MULTI_STATEMENTS the server reads the whole text as one statement (a second one is a syntax error): one text.
// This is not classification — the event kind comes from the wire — only where the server's statements begin and end.
import { scanSqlTokens, type SqlToken } from '../../audit/sql-scan.js';

const COMPOUND_STARTS = new Set(['IF', 'CASE', 'LOOP', 'WHILE', 'REPEAT', 'FOR']);
const ROUTINES = new Set(['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT', 'PACKAGE']);
/** What may stand right before a statement inside a compound body, or before a routine's body. */
const BEFORE_STATEMENT = new Set(['BEGIN', 'THEN', 'ELSE', 'DO', 'LOOP', 'REPEAT', 'ROW', 'DETERMINISTIC', 'SQL', 'DATA',
  'INVOKER', 'DEFINER', 'ATOMIC']);
/** The word after END that belongs to the closer (END IF, END CASE, END LOOP, …). */
const CLOSER_WORDS = COMPOUND_STARTS;

class Statement {
  constructor(private readonly sql: string, private readonly tokens: readonly SqlToken[]) {}

  word(index: number): string {
    const token = this.tokens[index];
    return token?.kind === 'word' ? this.sql.slice(token.start, token.end).toUpperCase() : '';
  }

  symbol(index: number): string {
    const token = this.tokens[index];
    return token?.kind === 'symbol' ? this.sql.charAt(token.start) : '';
  }

  /** Whether the statement starting at token `first` is a routine definition or a compound statement. */
  isCompound(first: number): boolean {
    let at = first;
    if (this.symbol(at + 1) === ':') at += 2; // a label: `name: BEGIN …`
    const word = this.word(at);
    if (COMPOUND_STARTS.has(word)) return true;
    if (word === 'BEGIN') return this.word(at + 1) === 'NOT' && this.word(at + 2) === 'ATOMIC';
    if (word !== 'CREATE' && word !== 'ALTER') return false;
    at++;
    if (this.word(at) === 'OR' && this.word(at + 1) === 'REPLACE') at += 2;
    if (this.word(at) === 'DEFINER') {
      // DEFINER = user@host | CURRENT_USER[()] | CURRENT_ROLE: skip to the next word that can follow it.
      const limit = at + 8;
      for (at += 1; at < limit && !ROUTINES.has(this.word(at)) && this.word(at) !== 'AGGREGATE'; at++);
    }
    if (this.word(at) === 'AGGREGATE') at++;
    return ROUTINES.has(this.word(at));
  }

  private atStatementStart(index: number): boolean {
    const previous = this.tokens[index - 1];
    if (previous === undefined || previous.kind === 'semicolon' || previous.kind === 'string') return true;
    if (previous.kind === 'symbol') return this.symbol(index - 1) === ':' || this.symbol(index - 1) === ')';
    return BEFORE_STATEMENT.has(this.word(index - 1));
  }

  /** The IF statement has a THEN before its first `;` (the IF() function, in a CASE, meets WHEN / ELSE / END first). */
  private thenAhead(index: number): boolean {
    let parens = 0;
    for (let at = index + 1; at < this.tokens.length; at++) {
      const symbol = this.symbol(at);
      if (symbol === '(') parens++;
      else if (symbol === ')') parens--;
      if (parens > 0) continue;
      if (this.tokens[at]?.kind === 'semicolon') return false;
      const word = this.word(at);
      if (word === 'THEN') return true;
      if (word === 'END' || word === 'ELSE' || word === 'WHEN' || word === 'ELSEIF') return false;
    }
    return false;
  }

  /** Whether the word at `index` opens a block that an END closes. */
  opens(index: number): boolean {
    switch (this.word(index)) {
      case 'BEGIN': case 'CASE': case 'LOOP': case 'WHILE': return true;
      case 'REPEAT': return this.symbol(index + 1) !== '('; // not the REPEAT() function
      case 'FOR': return this.word(index + 2) === 'IN'; // FOR x IN …, not FOR UPDATE / FOR EACH ROW
      case 'IF': return this.atStatementStart(index) && this.thenAhead(index);
      default: return false;
    }
  }
}

/**
 * The statement texts of one COM_QUERY, trimmed, in order; `multiStatements` is whether the session has
 * CLIENT_MULTI_STATEMENTS (negotiated, or turned on with COM_SET_OPTION).
 */
export function splitQueryStatements(sql: string, multiStatements: boolean): string[] {
  const whole = sql.trim();
  if (!multiStatements || !whole.includes(';')) return whole === '' ? [] : [whole];
  const tokens = scanSqlTokens(sql, 'mysql');
  const statement = new Statement(sql, tokens);
  const parts: string[] = [];
  let start = 0;
  let compound = statement.isCompound(0);
  let depth = 0;
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index] as SqlToken;
    if (token.kind === 'semicolon') {
      if (depth > 0) continue;
      const part = sql.slice(start, token.start).trim();
      if (part !== '') parts.push(part);
      start = token.end;
      compound = statement.isCompound(index + 1);
    } else if (compound && token.kind === 'word') {
      if (statement.word(index) === 'END') {
        if (CLOSER_WORDS.has(statement.word(index + 1))) index++;
        depth = Math.max(0, depth - 1);
      } else if (statement.opens(index)) {
        depth++;
      }
    }
  }
  const last = sql.slice(start).trim();
  if (last !== '') parts.push(last);
  return parts;
}

/** A CALL answers with its result sets and then an OK: the results up to that OK are all this statement's. */
export function answersWithSeveralResults(statement: string): boolean {
  // Asked for every result set of every COM_QUERY: a text that starts with neither CALL nor a comment is not a CALL.
  const first = statement.charCodeAt(0) | 0x20;
  if (first !== 0x63 /* c */ && first !== 0x2f /* / */ && first !== 0x23 /* # */ && first !== 0x2d /* - */) return false;
  const tokens = scanSqlTokens(statement.slice(0, 64), 'mysql');
  return new Statement(statement.slice(0, 64), tokens).word(0) === 'CALL';
}
