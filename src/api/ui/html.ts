// HTML built by one tagged template that escapes every interpolated value. Markup is only ever what the template
// literal itself spells out or an already-built SafeHtml: a statement's SQL, a reason, a client program name — all
// recorded from other people — can never become markup, whatever characters they hold.

/** Text known to be markup built by `html` (or escaped by `escapeHtml`); the only thing interpolated unescaped. */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes for both text and (double- or single-quoted) attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((item: HtmlValue) => render(item)).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** `/ui/sessions/<id>` with every segment percent-encoded, plus a query from the defined values. */
export function uiPath(segments: readonly string[], query: Readonly<Record<string, string | number | undefined>> = {}): string {
  const path = `/ui/${segments.map(encodeURIComponent).join('/')}`;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, String(value));
  return params.size > 0 ? `${path}?${params.toString()}` : path;
}

/** JSON for a `<script>` block: `<`, `>`, `&` and the JS line separators escaped, so no value can close the element. */
export function scriptJson(value: unknown): SafeHtml {
  const text = JSON.stringify(value) ?? 'null';
  return new SafeHtml(text.replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
