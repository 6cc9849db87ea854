/**
 * The chat page served at `/`: one small HTML document with its CSS and JS inline (no framework),
 * kept in this module so it ships inside the bundle (dist/bin.js) with no file lookup. It streams
 * replies from /v1/chat/completions (fetch + SSE parsing), has a stop button (AbortController),
 * new chat, a system prompt box, temperature / top_p / max tokens controls, an API-key box, and
 * renders tool calls and citations.
 *
 *   app.get('/', (_req, reply) => reply.type('text/html').send(CHAT_PAGE));
 */
const CSS = `
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,sans-serif;display:flex;height:100vh;color:#222;background:#f6f6f4}
aside{width:250px;padding:12px;border-right:1px solid #ddd;background:#fff;overflow:auto}aside label{display:block;margin:8px 0 2px;font-size:12px;color:#555}
aside input,aside textarea{width:100%;font:inherit;padding:4px}main{flex:1;display:flex;flex-direction:column;min-width:0}
#log{flex:1;overflow:auto;padding:16px}.msg{max-width:760px;margin:0 auto 12px;padding:8px 12px;border-radius:8px;white-space:pre-wrap;word-wrap:break-word}
.user{background:#dbeafe}.assistant{background:#fff;border:1px solid #e3e3e3}.error{background:#fee2e2}
.tool{font-family:ui-monospace,monospace;font-size:13px;background:#fef3c7;margin-top:6px;padding:6px;border-radius:6px}
.cites{font-size:12px;color:#555;margin-top:6px}.cites li{margin:2px 0}
form{display:flex;gap:8px;padding:12px;border-top:1px solid #ddd;background:#fff}form textarea{flex:1;font:inherit;padding:6px;height:52px}
button{font:inherit;padding:6px 14px;cursor:pointer}`;

const JS = `
const $ = (id) => document.getElementById(id);
let history = [], ctl = null;
function add(role, text) { const d = document.createElement('div'); d.className = 'msg ' + role; d.textContent = text; $('log').appendChild(d); $('log').scrollTop = 1e9; return d; }
function newChat() { if (ctl) ctl.abort(); history = []; $('log').textContent = ''; }
function renderExtras(div, toolCalls, citations) {
  for (const c of toolCalls || []) { const t = document.createElement('div'); t.className = 'tool'; t.textContent = 'tool call: ' + c.function.name + '(' + c.function.arguments + ')'; div.appendChild(t); }
  if (citations && citations.length) { const ol = document.createElement('ol'); ol.className = 'cites'; for (const c of citations) { const li = document.createElement('li'); li.value = c.index; li.textContent = c.source + ': ' + c.text.slice(0, 160); ol.appendChild(li); } div.appendChild(ol); }
}
async function send(text) {
  const chat = history; // New chat replaces it: a reply cut off by New chat must not land in the next chat
  chat.push({ role: 'user', content: text }); add('user', text);
  const div = add('assistant', ''); const body = document.createElement('span'); div.appendChild(body);
  const sys = $('system').value.trim();
  const req = { model: window.MODEL, stream: true, messages: (sys ? [{ role: 'system', content: sys }] : []).concat(history),
    temperature: +$('temperature').value, top_p: +$('top_p').value, max_tokens: +$('max_tokens').value };
  ctl = new AbortController(); $('stop').disabled = false; $('send').disabled = true;
  let reply = '', calls = [], cites = null;
  try {
    const headers = { 'content-type': 'application/json' }; if ($('key').value) headers.authorization = 'Bearer ' + $('key').value;
    const res = await fetch('/v1/chat/completions', { method: 'POST', headers, body: JSON.stringify(req), signal: ctl.signal });
    if (!res.ok) throw new Error((await res.json()).error.message);
    const reader = res.body.getReader(), dec = new TextDecoder(); let buf = '';
    for (;;) {
      const { value, done } = await reader.read(); if (done) break;
      buf += dec.decode(value, { stream: true }); let i;
      while ((i = buf.indexOf('\\n\\n')) >= 0) {
        const ev = buf.slice(0, i); buf = buf.slice(i + 2);
        if (!ev.startsWith('data: ')) continue; const data = ev.slice(6); if (data === '[DONE]') continue;
        const j = JSON.parse(data); if (j.error) throw new Error(j.error.message);
        if (j.citations) cites = j.citations;
        for (const c of j.choices || []) { if (c.delta.content) { reply += c.delta.content; body.textContent = reply; } if (c.delta.tool_calls) calls = calls.concat(c.delta.tool_calls); }
        $('log').scrollTop = 1e9;
      }
    }
  } catch (e) { if (e.name !== 'AbortError') { div.className = 'msg error'; body.textContent = reply + ' [' + e.message + ']'; } }
  renderExtras(div, calls, cites);
  chat.push(calls.length ? { role: 'assistant', content: null, tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: c.function })) } : { role: 'assistant', content: reply });
  ctl = null; $('stop').disabled = true; $('send').disabled = false;
}
$('form').onsubmit = (e) => { e.preventDefault(); const t = $('input').value.trim(); if (t && !ctl) { $('input').value = ''; send(t); } };
$('input').onkeydown = (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('form').requestSubmit(); } };
$('stop').onclick = () => ctl && ctl.abort();
$('new').onclick = newChat;
fetch('/v1/models', { headers: $('key').value ? { authorization: 'Bearer ' + $('key').value } : {} }).then((r) => r.json()).then((j) => { if (j.data) { window.MODEL = j.data[0].id; $('model').textContent = window.MODEL; } });`;

export const CHAT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>llm-chat</title><style>${CSS}</style></head>
<body>
<aside>
  <b>llm-chat</b> · <span id="model">…</span>
  <p><button id="new" type="button">New chat</button></p>
  <label for="system">System prompt</label><textarea id="system" rows="4"></textarea>
  <label for="temperature">Temperature</label><input id="temperature" type="number" min="0" max="2" step="0.1" value="0.7">
  <label for="top_p">top_p</label><input id="top_p" type="number" min="0" max="1" step="0.05" value="0.95">
  <label for="max_tokens">Max tokens</label><input id="max_tokens" type="number" min="1" step="1" value="256">
  <label for="key">API key (if the server needs one)</label><input id="key" type="password">
</aside>
<main>
  <div id="log"></div>
  <form id="form"><textarea id="input" placeholder="Message (Enter to send)"></textarea>
  <button id="send" type="submit">Send</button><button id="stop" type="button" disabled>Stop</button></form>
</main>
<script>${JS}</script>
</body></html>
`;
