// The UI's HTML builder: interpolations are escaped unless already SafeHtml; paths, inline JSON and bar widths.
import { describe, expect, it } from 'vitest';
import { escapeHtml, html, SafeHtml, scriptJson, uiPath } from '../../src/api/ui/html.js';
import { barPercent, outcomeText, timelineRow } from '../../src/api/ui/timeline.js';

describe('html``', () => {
  it('escapes every interpolated value, nested arrays too, and passes SafeHtml through', () => {
    const evil = `<script>alert('x')</script>&"`;
    expect(html`<p title="${evil}">${evil}</p>`.value).toBe('<p title="&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;</p>');
    expect(html`<ul>${['<a>', html`<li>${'<b>'}</li>`]}</ul>`.value).toBe('<ul>&lt;a&gt;<li>&lt;b&gt;</li></ul>');
    expect(html`${null}${undefined}${false}${0}${new SafeHtml('<br>')}`.value).toBe('0<br>');
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('builds UI paths with every segment and query value encoded', () => {
    expect(uiPath(['sessions', 's_abc/../x'], { after: 5, q: 'a&b=<c>', skip: undefined, empty: '' })).toBe('/ui/sessions/s_abc%2F..%2Fx?after=5&q=a%26b%3D%3Cc%3E');
  });

  it('writes JSON that cannot end a <script> element', () => {
    expect(scriptJson({ a: '</script><script>', b: '\u2028' }).value).toBe('{"a":"\\u003c/script\\u003e\\u003cscript\\u003e","b":"\\u2028"}');
  });
});

describe('timeline rows', () => {
  const statement = {
    seq: 3, chainSeq: 41, id: 'e_x', kind: 'bind_execute', sql: `select '<script>'`, params: ['<i>1</i>', null],
    started: '2025-01-01T00:00:01.500Z', duration_us: 2_500, error: { code: '22012', message: 'division <by> zero' },
  };

  it('marks errors, shows the offset, escapes SQL, parameters and messages', () => {
    const row = timelineRow(statement, new Date('2025-01-01T00:00:00.000Z'), 'postgres').value;
    expect(row).toContain('<tr id="st-41" class="error"');
    expect(row).toContain('+1.500s');
    expect(row).toContain('ERROR 22012: division &lt;by&gt; zero');
    expect(row).toContain('&lt;script&gt;');
    expect(row).toContain('<code>&lt;i&gt;1&lt;/i&gt;</code>');
    expect(row).toContain('<details><summary>2 parameters</summary>');
    expect(row).not.toMatch(/<(script|i)>/);
    expect(outcomeText({ ...statement, error: undefined, tag: 'SELECT 1', rows: 1 } as never)).toBe('SELECT 1 · 1 row');
  });

  it('scales duration bars on a log scale between 1% and 100%', () => {
    expect(barPercent(0)).toBe(1);
    expect(barPercent(1_000_000)).toBe(100);
    expect(barPercent(60_000_000)).toBe(100);
    expect(barPercent(1_000)).toBe(50);
    expect(barPercent(100)).toBeLessThan(barPercent(1_000));
  });
});
