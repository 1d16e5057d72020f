// The display tokenizer: lossless on any input, classifies the usual suspects, and its markup escapes everything.
import { describe, expect, it } from 'vitest';
import { highlightSql, tokenizeSql, type SqlDialect } from '../../src/api/ui/sql-highlight.js';

const kinds = (sql: string, dialect: SqlDialect = 'postgres') => tokenizeSql(sql, dialect).filter((t) => t.kind !== 'space').map((t) => [t.kind, t.text]);
/** What the markup reads as once tags are removed and entities decoded. */
const textOf = (markup: string) => markup.replace(/<[^>]*>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

describe('tokenizeSql', () => {
  it('classifies keywords, identifiers, strings, numbers, placeholders, comments and operators', () => {
    expect(kinds(`SELECT "Order", 'it''s', 4.5e3, $1 FROM t -- done`)).toEqual([
      ['keyword', 'SELECT'], ['identifier', '"Order"'], ['operator', ','], ['string', "'it''s'"], ['operator', ','], ['number', '4.5e3'],
      ['operator', ','], ['placeholder', '$1'], ['keyword', 'FROM'], ['word', 't'], ['comment', '-- done'],
    ]);
  });

  it('knows dollar quoting, E-strings and nested block comments on PostgreSQL', () => {
    expect(kinds(`do $x$ select 'no' $x$; /* a /* b */ c */ E'\\''`)).toEqual([
      ['keyword', 'do'], ['string', "$x$ select 'no' $x$"], ['operator', ';'], ['comment', '/* a /* b */ c */'], ['string', "E'\\''"],
    ]);
  });

  it('knows backticks, backslash escapes, # comments and ? placeholders on MySQL', () => {
    expect(kinds("select `a``b`, 'x\\'y', \"dq\" # hash\nwhere id = ?", 'mysql')).toEqual([
      ['keyword', 'select'], ['identifier', '`a``b`'], ['operator', ','], ['string', "'x\\'y'"], ['operator', ','], ['string', '"dq"'],
      ['comment', '# hash'], ['keyword', 'where'], ['word', 'id'], ['operator', '='], ['placeholder', '?'],
    ]);
  });

  it('runs an unterminated string or comment to the end instead of failing', () => {
    expect(kinds("select 'open")).toEqual([['keyword', 'select'], ['string', "'open"]]);
    expect(kinds('select /* open')).toEqual([['keyword', 'select'], ['comment', '/* open']]);
  });

  it('is lossless on arbitrary input, in both dialects', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = `ab1 '"\`$-/*\\#?\n<>&é😀;:.e+`;
    for (let round = 0; round < 500; round++) {
      const sql = Array.from({ length: Math.floor(random() * 40) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      for (const dialect of ['postgres', 'mysql'] as const) {
        expect(tokenizeSql(sql, dialect).map((token) => token.text).join('')).toBe(sql);
        expect(textOf(highlightSql(sql, dialect).value)).toBe(sql);
      }
    }
  });
});

describe('highlightSql', () => {
  it('escapes markup wherever it sits: strings, identifiers, comments, bare text', () => {
    const sql = `select '<script>alert(1)</script>', "<img src=x onerror=alert(1)>" /* </code><b> */ from t where a <b & c > d`;
    const markup = highlightSql(sql, 'postgres').value;
    expect(markup).not.toMatch(/<(?!span class="[a-z]"|\/span>)/);
    expect(markup).toContain('<span class="s">&#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39;</span>');
    expect(markup).toContain('<span class="i">&quot;&lt;img src=x onerror=alert(1)&gt;&quot;</span>');
    expect(markup).toContain('<span class="o">&lt;</span>b <span class="o">&amp;</span>');
    expect(textOf(markup)).toBe(sql);
  });
});
