/**
 * The chat page `wsx serve` shows at `/`: no framework, no build step. It connects to
 * `/chat?name=…` and speaks the JSON protocol described in `chat.ts`: join a room (a topic),
 * see who is there, send and receive messages. It reconnects (and rejoins) when the
 * connection drops.
 */
export const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsx chat</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7280; --line: #e3e6ec; --accent: #2456c9; --bg: #f6f7f9; }
  * { box-sizing: border-box; }
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
  main { max-width: 56rem; margin: 1.5rem auto; padding: 0 1rem; }
  header { display: flex; align-items: baseline; gap: 1rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
  h1 span { color: var(--accent); }
  #status { color: var(--muted); font-size: .9rem; }
  #status.online::before { content: "●"; color: #1a9a4b; margin-right: .35rem; }
  #status.offline::before { content: "●"; color: #c0392b; margin-right: .35rem; }
  form { display: flex; gap: .5rem; margin: 0; }
  input { flex: 1; padding: .45rem .6rem; border: 1px solid #c9ced8; border-radius: 6px; font: inherit; background: #fff; }
  input:focus { outline: 2px solid #b9cdf5; border-color: var(--accent); }
  button { padding: .45rem 1rem; border: 0; border-radius: 6px; background: var(--accent); color: #fff; font: inherit; cursor: pointer; }
  button:disabled { background: #9aa8c7; cursor: default; }
  #join-form input { max-width: 14rem; }
  .panel { display: grid; grid-template-columns: 1fr 12rem; gap: .75rem; margin: .75rem 0; }
  #log, aside { background: #fff; border: 1px solid var(--line); border-radius: 8px; }
  #log { height: 24rem; overflow-y: auto; padding: .5rem .75rem; }
  #log div { padding: .15rem 0; overflow-wrap: anywhere; }
  #log .from { font-weight: 600; margin-right: .4rem; }
  #log .mine .from { color: var(--accent); }
  #log .server .from { color: #8a5a00; }
  #log .meta { color: var(--muted); font-size: .88rem; font-style: italic; }
  #log .error { color: #b3261e; font-size: .88rem; }
  #log time { color: var(--muted); font-size: .78rem; margin-right: .4rem; font-variant-numeric: tabular-nums; }
  aside { padding: .5rem .75rem; }
  aside h2 { font-size: .85rem; font-weight: 600; color: var(--muted); margin: 0 0 .4rem; }
  #room-name { color: var(--fg); }
  #members { list-style: none; margin: 0; padding: 0; }
  #members li { padding: .1rem 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  #members li.me { font-weight: 600; }
  footer { color: var(--muted); font-size: .8rem; margin-top: .75rem; }
  code { font-size: .85em; }
  @media (max-width: 40rem) { .panel { grid-template-columns: 1fr; } }
</style>
<main>
  <header><h1><span>wsx</span> chat</h1><p id="status" class="offline">not connected</p></header>
  <form id="join-form">
    <input id="name" autocomplete="nickname" maxlength="32" placeholder="your name">
    <input id="room" value="lobby" maxlength="128" placeholder="room">
    <button id="join">Join</button>
  </form>
  <div class="panel">
    <div id="log" aria-live="polite"></div>
    <aside><h2>In <span id="room-name">—</span> (<span id="count">0</span>)</h2><ul id="members"></ul></aside>
  </div>
  <form id="send-form">
    <input id="text" autocomplete="off" placeholder="message" disabled>
    <button id="send" disabled>Send</button>
  </form>
  <footer>JSON over WebSocket at <code>/chat</code>: <code>subscribe</code>, <code>unsubscribe</code>,
    <code>publish</code>; <code>POST /publish/:topic</code> pushes to a room; <a href="/dashboard">live
    dashboard</a>, <a href="/stats">/stats</a>, <a href="/metrics">/metrics</a>.</footer>
</main>
<script>
  'use strict';
  const $ = (id) => document.getElementById(id);
  const log = $('log');
  let socket = null;
  let myName = '';
  let room = '';
  let wanted = null;   // { name, room } the user asked for
  let retry = 0;

  function line(kind, parts) {
    const div = document.createElement('div');
    div.className = kind;
    const time = document.createElement('time');
    time.textContent = new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    div.append(time);
    for (const [cls, text] of parts) {
      const span = document.createElement('span');
      if (cls) span.className = cls;
      span.textContent = text;
      div.append(span);
    }
    const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 8;
    log.append(div);
    if (atBottom) log.scrollTop = log.scrollHeight;
  }

  function status(text, online) {
    $('status').textContent = text;
    $('status').className = online ? 'online' : 'offline';
  }

  function members(list, count) {
    $('count').textContent = String(count);
    const ul = $('members');
    ul.replaceChildren();
    for (const name of list) {
      const li = document.createElement('li');
      li.textContent = name;
      if (name === myName) li.className = 'me';
      ul.append(li);
    }
    if (count > list.length) {
      const li = document.createElement('li');
      li.textContent = '… and ' + (count - list.length) + ' more';
      ul.append(li);
    }
  }

  function enableSending(on) {
    $('text').disabled = !on;
    $('send').disabled = !on;
    if (on) $('text').focus();
  }

  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    const url = scheme + location.host + '/chat?name=' + encodeURIComponent(wanted.name);
    status('connecting…', false);
    const ws = new WebSocket(url);
    socket = ws;
    ws.onopen = () => { retry = 0; };
    ws.onmessage = (event) => {
      let m;
      try { m = JSON.parse(event.data); } catch { return; }
      switch (m.type) {
        case 'welcome':
          myName = m.name;
          // With --workers, say which worker (process) holds this connection.
          status('connected as ' + m.name + (m.worker === undefined ? '' : ' (worker ' + m.worker + ', pid ' + m.pid + ')'), true);
          send({ type: 'subscribe', topic: wanted.room });
          break;
        case 'subscribed':
          room = m.topic;
          $('room-name').textContent = '#' + room;
          members(m.members, m.count);
          line('meta', [['', 'You joined #' + room + '.']]);
          enableSending(true);
          break;
        case 'unsubscribed':
          break;
        case 'presence':
          if (m.topic !== room) break;
          members(m.members, m.count);
          if (m.name !== myName || m.event === 'leave') {
            line('meta', [['', m.name + (m.event === 'join' ? ' joined.' : ' left.')]]);
          }
          break;
        case 'message': {
          if (m.topic !== room) break;
          const from = m.from === null ? 'server' : m.from;
          const text = typeof m.data === 'string' ? m.data : JSON.stringify(m.data);
          const kind = m.from === null ? 'message server' : m.from === myName ? 'message mine' : 'message';
          line(kind, [['from', from], ['text', text]]);
          break;
        }
        case 'error':
          line('error', [['', m.error]]);
          break;
      }
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      enableSending(false);
      const why = event.code === 1013 ? 'too slow, ' : event.code === 1001 ? 'server going away, ' : '';
      status('disconnected (' + why + event.code + ')', false);
      if (wanted) {
        const delay = Math.min(10000, 500 * 2 ** retry++);
        line('meta', [['', 'Disconnected (' + event.code + '); reconnecting in ' + Math.round(delay / 1000) + ' s…']]);
        setTimeout(() => { if (!socket && wanted) connect(); }, delay);
      }
    };
  }

  $('join-form').onsubmit = (event) => {
    event.preventDefault();
    const name = $('name').value.trim();
    const next = $('room').value.trim() || 'lobby';
    if (socket && socket.readyState === WebSocket.OPEN && name === wanted.name) {
      if (next === room) return;
      if (room) send({ type: 'unsubscribe', topic: room });
      room = '';
      wanted.room = next;
      log.replaceChildren();
      send({ type: 'subscribe', topic: next });
      return;
    }
    wanted = { name, room: next };
    log.replaceChildren();
    if (socket) { const old = socket; socket = null; old.close(1000); }
    connect();
  };

  $('send-form').onsubmit = (event) => {
    event.preventDefault();
    const input = $('text');
    if (input.value.trim() === '' || !room) return;
    send({ type: 'publish', topic: room, data: input.value });
    input.value = '';
  };
</script>
</html>
`;
