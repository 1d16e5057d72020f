// The UI's whole stylesheet, inlined into every page: no external assets, nothing to cache-bust, ~3 KB.
export const STYLES = `
:root{--fg:#1d232b;--muted:#5f6b7a;--line:#d9dee5;--bg:#f6f7f9;--card:#fff;--accent:#1f5fbf;--bad:#b3261e;--badbg:#fdecea;--ok:#1e7b34;--okbg:#e7f5ea;--warn:#8a5a00;--warnbg:#fff4d6}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header.top{display:flex;gap:18px;align-items:center;padding:8px 20px;background:#16202c;color:#fff}
header.top a{color:#cfe0ff;text-decoration:none}header.top a.here{color:#fff;font-weight:600}
header.top .brand{font-weight:700;color:#fff;margin-right:10px}header.top .who{margin-left:auto;color:#aab7c7}
header.top form{margin:0}header.top button{background:none;border:1px solid #50607a;color:#cfe0ff;padding:2px 8px}
main{padding:16px 20px;max-width:1400px}
h1{font-size:20px;margin:4px 0 12px}h2{font-size:16px;margin:20px 0 8px}
a{color:var(--accent)}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line)}
th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600;font-size:12px;text-transform:uppercase;letter-spacing:.03em;color:var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.mono,code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
pre{margin:0;white-space:pre-wrap;word-break:break-word}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:var(--card);border:1px solid var(--line);padding:10px 14px;margin:0 0 12px}
dl.fields dt{color:var(--muted)}dl.fields dd{margin:0}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;background:#e6eaf0}
.badge.live,.badge.ok,.badge.approved,.badge.active{background:var(--okbg);color:var(--ok)}
.badge.pending{background:var(--warnbg);color:var(--warn)}
.badge.bad,.badge.denied{background:var(--badbg);color:var(--bad)}
tr.error td{background:var(--badbg)}tr.error .res{color:var(--bad);font-weight:600}
tr.new td{animation:flash 1.5s ease-out}@keyframes flash{from{background:#fff6bf}}
.bar{height:8px;background:#7da4e0;border-radius:2px;min-width:2px}tr.error .bar{background:#e08a84}
.dur{width:150px}.dur span{font-size:12px;color:var(--muted)}
form.inline{display:inline}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:end;background:var(--card);border:1px solid var(--line);padding:8px 10px;margin-bottom:10px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
input,select,button{font:inherit;padding:3px 6px}
button{cursor:pointer;border:1px solid #9aa7b8;background:#fff;border-radius:3px}
button.primary{background:var(--accent);color:#fff;border-color:var(--accent)}
button.danger{background:var(--bad);color:#fff;border-color:var(--bad)}
.notice{padding:8px 12px;margin:0 0 12px;border:1px solid var(--line);background:var(--card)}
.notice.ok{background:var(--okbg);border-color:#b9dfc2}.notice.bad{background:var(--badbg);border-color:#f1b8b3}
.pager{margin:10px 0;display:flex;gap:14px}.muted{color:var(--muted)}
.actions{display:flex;gap:8px;margin:0 0 12px;align-items:center}
details summary{cursor:pointer;color:var(--accent);font-size:12px}
.k{color:#0b4fa8;font-weight:600}.s{color:#a3400c}.i{color:#6b3fa0}.n{color:#0c7a6b}.c{color:#6f7b88;font-style:italic}.p{color:#b0008c}.o{color:#4a5563}
.login{max-width:420px;margin:60px auto;background:var(--card);border:1px solid var(--line);padding:20px 24px}
.login input{width:100%;margin:6px 0 12px}
`;
