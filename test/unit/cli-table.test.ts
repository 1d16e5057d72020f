// Tables and detail fields of the CLI: aligned, no trailing spaces, and safe against hostile cell text.
import { describe, expect, it } from 'vitest';
import { printable, renderFields, renderTable } from '../../src/cli/table.js';

describe('renderTable', () => {
  it('pads every column but the last to its widest cell', () => {
    const out = renderTable([{ header: 'ID' }, { header: 'STATE' }, { header: 'REASON' }], [
      ['g_1', 'pending', 'INC-1'],
      ['g_22222', 'ended (revoked)', ''],
    ]);
    expect(out).toBe([
      'ID       STATE            REASON',
      'g_1      pending          INC-1',
      'g_22222  ended (revoked)',
      '',
    ].join('\n'));
  });

  it('renders just the header when there are no rows, and treats missing cells as empty', () => {
    expect(renderTable([{ header: 'A' }, { header: 'B' }], [])).toBe('A  B\n');
    expect(renderTable([{ header: 'A' }, { header: 'B' }, { header: 'C' }], [['x']])).toBe('A  B  C\nx\n');
  });

  it('cuts cells longer than maxWidth with an ellipsis', () => {
    const out = renderTable([{ header: 'REASON', maxWidth: 8 }, { header: 'N' }], [['a very long reason', '1']]);
    expect(out).toBe('REASON    N\na very …  1\n');
  });

  it('counts code points, not UTF-16 units, when aligning', () => {
    const out = renderTable([{ header: 'WHO' }, { header: 'X' }], [['zoë🙂', '1'], ['ab', '2']]);
    expect(out).toBe('WHO   X\nzoë🙂  1\nab    2\n');
  });

  it('neutralises control characters so a cell cannot drive the terminal or break the row', () => {
    const out = renderTable([{ header: 'REASON' }, { header: 'N' }], [['\u001b[31mred\nline2\ttab', '1']]);
    expect(out).toBe(`${'REASON'.padEnd(18)}  N\n?[31mred line2 tab  1\n`);
    expect(printable('a\u0007b\u009bc')).toBe('a?b?c');
  });
});

describe('renderFields', () => {
  it('aligns values after the longest label and indents continuation lines', () => {
    expect(renderFields([['state', 'pending'], ['token', 'abc\nshown once'], ['expires', 'in 59m']])).toBe([
      '  state    pending',
      '  token    abc',
      '           shown once',
      '  expires  in 59m',
      '',
    ].join('\n'));
  });
});
