// Aligned plain-text tables for list commands. Pure: rows in, one string out.

export interface TableColumn {
  readonly header: string;
  /** Longer cells are cut and end in "…" so one long reason cannot push every other column off screen. */
  readonly maxWidth?: number;
}

const GAP = '  ';

/**
 * Cell text comes from the server and, through it, from other users (reasons, client programs): control
 * characters are neutralised so a cell cannot move the cursor, recolour the terminal or break the row.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\t\r\n]/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

/** Width in code points, so one accented letter or emoji counts once rather than per UTF-16 unit. */
function width(text: string): number {
  return [...text].length;
}

function truncate(text: string, maxWidth: number | undefined): string {
  if (maxWidth === undefined || width(text) <= maxWidth) return text;
  return `${[...text].slice(0, Math.max(0, maxWidth - 1)).join('')}…`;
}

/** Renders header and rows with columns padded to their widest cell; no trailing spaces, ends with "\n". */
export function renderTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string {
  const cells = [columns.map((column) => column.header), ...rows].map((row) =>
    columns.map((column, index) => truncate(printable(row[index] ?? ''), column.maxWidth)));
  const widths = columns.map((_column, index) => Math.max(...cells.map((row) => width(row[index] ?? ''))));
  const lastIndex = columns.length - 1;
  return cells
    .map((row) => row.map((cell, index) => (index === lastIndex ? cell : cell + ' '.repeat((widths[index] ?? 0) - width(cell)))).join(GAP).trimEnd())
    .join('\n') + '\n';
}

/** Label/value lines for detail views ("state    pending"); continuation lines of a value stay aligned. */
export function renderFields(fields: readonly (readonly [label: string, value: string])[], indent = '  '): string {
  const labelWidth = Math.max(0, ...fields.map(([label]) => width(label)));
  return fields
    .map(([label, value]) => {
      const pad = ' '.repeat(labelWidth - width(label));
      const [first = '', ...rest] = value.split('\n').map(printable);
      const continuation = rest.map((line) => `\n${indent}${' '.repeat(labelWidth)}${GAP}${line}`.trimEnd()).join('');
      return `${indent}${label}${pad}${GAP}${first}`.trimEnd() + continuation;
    })
    .join('\n') + '\n';
}
