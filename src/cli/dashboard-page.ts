import { createHash } from 'node:crypto';

/**
 * The dashboard page `wsx serve` shows at `/dashboard`: no framework, no build step, nothing
 * fetched from elsewhere. It listens on `/dashboard/live` (see `dashboard.ts`), keeps the last
 * five minutes of snapshots (about one a second) and draws them as inline SVG charts. Rates
 * are computed here, from successive snapshots and the server's uptime. Tiles turn red when a
 * bad counter (drops, slow consumers closed, heartbeat timeouts, refused upgrades, failed
 * publishes) rose within the charts' window, and amber when it did only before.
 */

const STYLE = `
  :root { --fg: #1d2330; --muted: #6b7280; --line: #e3e6ec; --accent: #2456c9; --bg: #f6f7f9;
    --bad: #c0392b; --bad-bg: #fdecea; --warn: #a86400; --warn-bg: #fff4e0; --ok: #1a9a4b; }
  * { box-sizing: border-box; }
  body { font: 15px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); margin: 0; }
  main { max-width: 72rem; margin: 1rem auto; padding: 0 .75rem; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; }
  h1 { font-size: 1.4rem; margin: 0; }
  h1 span { color: var(--accent); }
  header p { margin: 0; color: var(--muted); font-size: .9rem; }
  #feed::before { content: "●"; margin-right: .35rem; }
  #feed.live::before { color: var(--ok); }
  #feed.down { color: var(--bad); font-weight: 600; }
  #alerts { margin: .75rem 0; padding: .5rem .75rem; border-radius: 8px; border: 1px solid; }
  #alerts.ok { background: #e9f7ef; border-color: #bfe6cf; color: #14602f; }
  #alerts.bad { background: var(--bad-bg); border-color: #f1b8b1; color: #8e1f14; font-weight: 600; }
  #alerts ul { margin: 0; padding-left: 1.1rem; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(15rem, 1fr)); gap: .6rem; }
  .tile, .panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .5rem .7rem; min-width: 0; }
  .tile h2, .panel h2 { font-size: .8rem; font-weight: 600; color: var(--muted); margin: 0; text-transform: uppercase; letter-spacing: .03em; }
  .value { font-size: 1.9rem; font-weight: 650; font-variant-numeric: tabular-nums; line-height: 1.2; }
  .unit { font-size: .9rem; color: var(--muted); font-weight: 400; margin-left: .2rem; }
  .sub { color: var(--muted); font-size: .82rem; font-variant-numeric: tabular-nums; min-height: 1.2em; }
  .sub span { white-space: nowrap; margin-right: .6rem; }
  .sub b { color: var(--fg); font-weight: 600; }
  svg { display: block; width: 100%; height: 3rem; margin-top: .3rem; }
  svg .area { fill: #dfe8fb; }
  svg .line { fill: none; stroke: var(--accent); stroke-width: 1.5; }
  .scale { color: var(--muted); font-size: .72rem; text-align: right; }
  .tile.bad { border-color: var(--bad); background: var(--bad-bg); }
  .tile.bad .value, .tile.bad h2 { color: var(--bad); }
  .tile.bad svg .area { fill: #f6c4be; }
  .tile.bad svg .line { stroke: var(--bad); }
  .tile.warn { border-color: #f0c987; background: var(--warn-bg); }
  .tile.warn h2 { color: var(--warn); }
  .panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(20rem, 1fr)); gap: .6rem; margin-top: .6rem; align-items: start; }
  table { width: 100%; border-collapse: collapse; font-size: .88rem; font-variant-numeric: tabular-nums; }
  td, th { padding: .2rem .3rem; border-bottom: 1px solid var(--line); text-align: right; }
  td:first-child, th:first-child, td.text { text-align: left; }
  th { color: var(--muted); font-weight: 500; }
  tr.bad td { color: var(--bad); font-weight: 600; }
  tr.warn td { color: var(--warn); }
  .empty { color: var(--muted); font-size: .88rem; margin: .3rem 0; }
  .badge { padding: 0 .4rem; border-radius: 4px; color: #fff; background: var(--ok); text-transform: none; letter-spacing: 0; }
  .badge.bad { background: var(--bad); }
  footer { color: var(--muted); font-size: .8rem; margin: .75rem 0 1.5rem; }
  @media (max-width: 30rem) { .tiles { grid-template-columns: 1fr 1fr; } .value { font-size: 1.4rem; } }
`;

const SCRIPT = `
  'use strict';
  const WINDOW = 300;       // seconds of history kept and charted
  const MIN_SPAN = 10;      // seconds: the narrowest chart, while the history is short
  const GAP = 3;            // seconds without a snapshot that break a chart's line
  const $ = (id) => document.getElementById(id);
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  // Each tile: a gauge (value) or a counter (shown as a rate, or as its rise in the window when alarm).
  const TILES = [
    { id: 'connections', label: 'Connections open', value: (s) => s.connections.open,
      sub: (s) => [['accepted', s.connections.accepted], ['dashboards', s.dashboards]] },
    { id: 'messages-in', label: 'Messages in', counter: (s) => s.messages.in, sub: (s) => [['total', s.messages.in]] },
    { id: 'messages-out', label: 'Messages out', counter: (s) => s.messages.out, sub: (s) => [['total', s.messages.out]] },
    { id: 'bytes-in', label: 'Bytes in', bytes: true, counter: (s) => s.bytes.in, sub: (s) => [['total', bytes(s.bytes.in)]] },
    { id: 'bytes-out', label: 'Bytes out', bytes: true, counter: (s) => s.bytes.out, sub: (s) => [['total', bytes(s.bytes.out)]] },
    { id: 'topics', label: 'Topics', value: (s) => s.topics.count,
      sub: (s) => [['subscriptions', s.topics.subscriptions], ['published', s.topics.published]] },
    { id: 'dropped', label: 'Messages dropped', alarm: true, counter: (s) => sum(s.messages.dropped),
      sub: (s) => [['since start', sum(s.messages.dropped)], ['backpressure', s.messages.dropped.backpressure], ['closing', s.messages.dropped.closing]] },
    { id: 'slow', label: 'Slow consumers closed', alarm: true, counter: (s) => s.slowConsumerCloses,
      sub: (s) => [['since start', s.slowConsumerCloses]] },
    { id: 'heartbeat', label: 'Heartbeat timeouts', alarm: true, counter: (s) => s.heartbeats.timeouts,
      sub: (s) => [['since start', s.heartbeats.timeouts], ['pings', s.heartbeats.pings]] },
    { id: 'refused', label: 'Upgrades refused', alarm: true, counter: (s) => sum(s.connections.rejected),
      sub: (s) => [['max connections', s.connections.rejected.maxConnections], ['per address', s.connections.rejected.maxConnectionsPerAddress]] },
    { id: 'publish-failures', label: 'Publish failures', alarm: true, counter: (s) => s.topics.publishFailures,
      sub: (s) => [['since start', s.topics.publishFailures], ['recovery misses', s.topics.recovery.misses]] },
  ];
  const CODES = { 1000: 'normal', 1001: 'going away', 1002: 'protocol error', 1003: 'unsupported data',
    1005: 'no code', 1006: 'no close frame', 1007: 'invalid data', 1008: 'policy', 1009: 'too big',
    1010: 'extension', 1011: 'server error', 1012: 'restart', 1013: 'try later (slow)', 1014: 'bad gateway' };
  const GOOD_CODES = new Set([1000, 1001, 1005]);
  // Adapter counters whose rise means messages did not go where they should.
  const BAD_ADAPTER = new Set(['refusedTotal', 'failedTotal', 'droppedTotal', 'invalidTotal', 'resetsTotal']);

  let ring = [];            // snapshots, oldest first, at most WINDOW seconds apart
  let socket = null;
  let retry = 0;

  const count = (n) => Math.round(n).toLocaleString('en-US');
  const rate = (n) => n < 10 && n !== Math.round(n) ? n.toFixed(1) : count(n);
  function bytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(Math.round(n)) : n.toFixed(1)) + ' ' + units[i];
  }
  function span(seconds) {
    if (seconds < 90) return Math.max(1, Math.round(seconds)) + ' s';
    if (seconds < 5400) return Math.round(seconds / 60) + ' min';
    return (seconds / 3600).toFixed(1) + ' h';
  }
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attributes) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
    return e;
  }

  function buildTiles() {
    const grid = $('tiles');
    for (const t of TILES) {
      const tile = el('section', 'tile');
      tile.id = t.id;
      tile.append(el('h2', '', t.label), el('div', 'value', '–'), el('div', 'sub'));
      const chart = svg('svg', { viewBox: '0 0 300 48', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
      chart.append(svg('path', { class: 'area' }), svg('path', { class: 'line', 'vector-effect': 'non-scaling-stroke' }));
      tile.append(chart, el('div', 'scale'));
      grid.append(tile);
      t.node = tile;
    }
  }

  // Per sample: the gauge, or the counter's rate since the sample before (null after a gap).
  function series(t) {
    return ring.map((s, i) => {
      if (t.value) return t.value(s);
      const prev = ring[i - 1];
      if (!prev || s.uptime - prev.uptime > GAP) return null;
      return Math.max(0, t.counter(s) - t.counter(prev)) / (s.uptime - prev.uptime);
    });
  }

  // A chart spans the history kept (at most WINDOW), so that it fills out from the first seconds.
  function draw(chart, values, now, width) {
    const top = Math.max(0, ...values.filter((v) => v !== null));
    const max = top || 1;
    let line = '';
    let area = '';
    let start = null;
    let last = null;
    ring.forEach((s, i) => {
      const v = values[i];
      if (v === null) { if (start !== null) area += 'L' + last + ',48L' + start + ',48Z'; start = null; return; }
      const x = (300 * (1 - (now - s.uptime) / width)).toFixed(1);
      // Zero sits just above the bottom edge, so that a flat line still shows.
      const y = (46 - 42 * v / max).toFixed(1);
      if (start === null) { line += 'M' + x + ',' + y; area += 'M' + x + ',48L' + x + ',' + y; start = x; }
      else { line += 'L' + x + ',' + y; area += 'L' + x + ',' + y; }
      last = x;
    });
    if (start !== null) area += 'L' + last + ',48L' + start + ',48Z';
    chart.querySelector('.line').setAttribute('d', line);
    chart.querySelector('.area').setAttribute('d', area);
    return top;
  }

  function render() {
    const s = ring[ring.length - 1];
    const first = ring[0];
    const within = span(s.uptime - first.uptime);
    const width = Math.max(MIN_SPAN, s.uptime - first.uptime);
    const alerts = [];
    for (const t of TILES) {
      const values = series(t);
      const max = draw(t.node.querySelector('svg'), values, s.uptime, width);
      let shown;
      let unit = '';
      let state = '';
      if (t.value) shown = count(t.value(s));
      else if (t.alarm) {
        const rose = t.counter(s) - t.counter(first);
        shown = count(rose);
        unit = 'in ' + within;
        state = rose > 0 ? 'bad' : t.counter(s) > 0 ? 'warn' : '';
        if (rose > 0) alerts.push(t.label + ': ' + count(rose) + ' in the last ' + within + '.');
      } else {
        const v = values[values.length - 1];
        shown = v === null ? '–' : t.bytes ? bytes(v) : rate(v);
        unit = '/s';
      }
      t.node.className = 'tile ' + state;
      const value = t.node.querySelector('.value');
      value.textContent = shown;
      if (unit) value.append(el('span', 'unit', unit));
      const sub = t.node.querySelector('.sub');
      sub.replaceChildren();
      for (const [label, n] of t.sub(s)) {
        const b = el('b', '', typeof n === 'number' ? count(n) : n);
        b.id = t.id + '-' + label.replace(/ /g, '-');
        const item = el('span');
        item.append(b, ' ' + label);
        sub.append(item, ' ');
      }
      const top = t.value ? count(max) : t.bytes ? bytes(max) + '/s' : rate(max) + '/s';
      t.node.querySelector('.scale').textContent = (max > 0 ? 'max ' + top + ' · ' : '') + 'last ' + within;
    }
    renderCloses(s, first);
    renderAdapter(s, first, alerts, within);
    if (!socket || socket.readyState !== WebSocket.OPEN) alerts.unshift('The live feed is down: these numbers are not updating.');
    const box = $('alerts');
    box.className = alerts.length ? 'bad' : 'ok';
    const list = el('ul');
    for (const a of alerts) list.append(el('li', '', a));
    box.replaceChildren(alerts.length ? list : 'Nothing wrong in the last ' + within + '.');
    const who = s.worker === undefined ? 'one process' : 'worker ' + s.worker + ' · pid ' + s.pid;
    $('who').textContent = who + ' · up ' + span(s.uptime) + ' · updated ' + new Date(s.at).toLocaleTimeString();
    document.body.dataset.uptime = String(s.uptime);
  }

  function renderCloses(s, first) {
    const rows = $('closes');
    rows.replaceChildren();
    for (const [code, total] of Object.entries(s.closes)) {
      const rose = total - (first.closes[code] || 0);
      const tr = el('tr', rose > 0 && !GOOD_CODES.has(Number(code)) ? 'bad' : '');
      tr.id = 'close-' + code;
      tr.append(el('td', '', code), el('td', 'text', CODES[code] || ''), el('td', '', count(rose)), el('td', '', count(total)));
      rows.append(tr);
    }
    $('no-closes').hidden = rows.children.length > 0;
    $('closes-table').hidden = rows.children.length === 0;
  }

  function renderAdapter(s, first, alerts, within) {
    const a = s.adapter;
    $('adapter-panel').hidden = a === null;
    if (a === null) return;
    const before = first.adapter && first.adapter.kind === a.kind ? first.adapter : a;
    $('adapter-kind').textContent = a.kind;
    const badge = $('adapter-link');
    badge.hidden = a.linkUp === undefined;
    badge.textContent = a.linkUp ? 'link up' : 'link down';
    badge.className = a.linkUp ? 'badge' : 'badge bad';
    if (a.linkUp === false) alerts.push('The ' + a.kind + ' link is down' + (a.lastError ? ': ' + a.lastError : '') + '.');
    if (a.queued > 0) alerts.push(count(a.queued) + ' publishes queued for ' + a.kind + '.');
    const rows = $('adapter');
    rows.replaceChildren();
    for (const [key, v] of Object.entries(a)) {
      if (key === 'kind') continue;
      const rose = typeof v === 'number' && BAD_ADAPTER.has(key) ? v - (before[key] || 0) : 0;
      if (rose > 0) alerts.push('Topic adapter ' + key.replace(/Total$/, '') + ': ' + count(rose) + ' in the last ' + within + '.');
      const bad = rose > 0 || (key === 'linkUp' && v === false);
      const tr = el('tr', bad ? 'bad' : key === 'queued' && v > 0 ? 'warn' : '');
      tr.id = 'adapter-' + key;
      tr.append(el('td', '', key), el('td', typeof v === 'number' ? '' : 'text', typeof v === 'number' ? count(v) : String(v)));
      rows.append(tr);
    }
  }

  function take(s) {
    const last = ring[ring.length - 1];
    // Another process (a restart, or another worker after a reconnect): its counters start over.
    if (last && (s.pid !== last.pid || s.uptime < last.uptime)) ring = [];
    ring.push(s);
    while (ring.length > 1 && s.uptime - ring[0].uptime > WINDOW) ring.shift();
    render();
  }

  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/dashboard/live');
    socket = ws;
    ws.onopen = () => { retry = 0; $('feed').textContent = 'live'; $('feed').className = 'live'; };
    ws.onmessage = (event) => {
      let s;
      try { s = JSON.parse(event.data); } catch { return; }
      if (s.type === 'stats') take(s);
    };
    ws.onclose = (event) => {
      socket = null;
      const delay = Math.min(10000, 500 * 2 ** retry++);
      $('feed').textContent = 'feed lost (' + event.code + '), retrying in ' + Math.ceil(delay / 1000) + ' s';
      $('feed').className = 'down';
      if (ring.length) render();
      setTimeout(connect, delay);
    };
  }

  buildTiles();
  connect();
`;

const body = `
<main>
  <header>
    <h1><span>wsx</span> dashboard</h1>
    <p id="feed" class="down">connecting…</p>
    <p id="who"></p>
  </header>
  <section id="alerts" class="ok" aria-live="polite">Waiting for the first numbers…</section>
  <div id="tiles" class="tiles"></div>
  <div class="panels">
    <section class="panel">
      <h2>Closes by code</h2>
      <table id="closes-table" hidden><thead><tr><th>code</th><th></th><th>in window</th><th>since start</th></tr></thead>
      <tbody id="closes"></tbody></table>
      <p id="no-closes" class="empty">No socket has closed yet.</p>
    </section>
    <section class="panel" id="adapter-panel" hidden>
      <h2>Topic adapter: <span id="adapter-kind"></span> <span id="adapter-link" class="badge" hidden></span></h2>
      <table><tbody id="adapter"></tbody></table>
    </section>
  </div>
  <footer>Charts: up to the last 5 minutes, one point a second, newest on the right; rates from
    successive snapshots. Red: it happened within the charts' window; amber: only before. With
    <code>--workers</code> each worker shows its own numbers. Also: <a href="/stats">/stats</a>,
    <a href="/metrics">/metrics</a>, <a href="/">the chat</a>.</footer>
</main>`;

export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wsx dashboard</title>
<style>${STYLE}</style>
${body}
<script>${SCRIPT}</script>
</html>
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * Only the page's own inline style and script (by hash), and WebSocket / fetch to its own
 * origin: nothing else loads, frames it or posts from it.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `script-src ${hash(SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
