/** The small page `wsx serve` shows at `/`: connects back over WebSocket and shows what arrives. */
export const PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>wsx</title>
<style>
  body { font: 15px system-ui, sans-serif; margin: 2rem auto; max-width: 42rem; }
  #log { border: 1px solid #ccc; border-radius: 4px; height: 20rem; overflow-y: auto; padding: .5rem; }
  #log div { padding: .1rem 0; } .in { color: #064; } .out { color: #035; } .meta { color: #777; }
  form { display: flex; gap: .5rem; margin-top: .5rem; } input { flex: 1; padding: .3rem; }
</style>
<h1>wsx</h1>
<p id="status" class="meta">connecting…</p>
<div id="log"></div>
<form id="form"><input id="text" autocomplete="off" placeholder="message"><button>Send</button></form>
<script>
  const log = document.getElementById('log');
  const status = document.getElementById('status');
  const show = (text, kind) => {
    const line = document.createElement('div');
    line.className = kind;
    line.textContent = text;
    log.append(line);
    log.scrollTop = log.scrollHeight;
  };
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/';
  const socket = new WebSocket(url);
  socket.binaryType = 'arraybuffer';
  socket.onopen = () => { status.textContent = 'connected to ' + url; };
  socket.onmessage = (event) => show(typeof event.data === 'string' ? '← ' + event.data : '← [binary ' + event.data.byteLength + ' bytes]', 'in');
  socket.onclose = (event) => { status.textContent = 'closed: ' + event.code + ' ' + event.reason; };
  document.getElementById('form').onsubmit = (event) => {
    event.preventDefault();
    const input = document.getElementById('text');
    if (input.value === '' || socket.readyState !== WebSocket.OPEN) return;
    socket.send(input.value);
    show('→ ' + input.value, 'out');
    input.value = '';
  };
</script>
</html>
`;
