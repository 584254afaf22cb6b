// A chat over topics, with presence: who is in each topic, told to its members as people come
// and go. One JSON object per text message:
//
//   client → server  {"type":"join","topic":T}  {"type":"leave","topic":T}  {"type":"say","topic":T,"text":S}
//   server → client  {"type":"presence","topic","event":"join"|"leave","name","members"}
//                    {"type":"message","topic","from","text"}  {"type":"error","error"}
//
//   node examples/chat-presence/main.mjs
import { connect, createServer, reject } from 'wsx';

const server = createServer({ maxMessageSize: 16 * 1024 });

/** The names of a topic's members, from the sockets subscribed to it on this server. */
function members(topic) {
  // A topic's sockets may come from any route, so their `data` is not typed here.
  return [...server.subscribersOf(topic)]
    .map((socket) => /** @type {{ name: string }} */ (socket.data).name)
    .sort();
}

function announce(topic, event, name) {
  server.publish(topic, JSON.stringify({ type: 'presence', topic, event, name, members: members(topic) }));
}

server.route('/chat', {
  upgrade({ query }) {
    const name = query.get('name') ?? '';
    if (!/^\w{1,20}$/.test(name)) return reject(400, { body: 'name: 1 to 20 letters, digits or _' });
    return { data: { name } };
  },
  message(socket, data, isBinary) {
    let request;
    try {
      request = isBinary ? null : JSON.parse(data.toString('utf8'));
    } catch {}
    const topic = typeof request?.topic === 'string' && request.topic.length <= 64 ? request.topic : null;
    if (topic === null) return void socket.sendText(JSON.stringify({ type: 'error', error: 'bad request' }));
    if (request.type === 'join') {
      if (socket.subscriptions.length >= 10)
        return void socket.sendText(JSON.stringify({ type: 'error', error: 'at most 10 topics' }));
      if (socket.subscribe(topic)) announce(topic, 'join', socket.data.name);
    } else if (request.type === 'leave') {
      if (socket.unsubscribe(topic)) announce(topic, 'leave', socket.data.name);
    } else if (request.type === 'say' && socket.isSubscribed(topic)) {
      const text = String(request.text ?? '').slice(0, 1000);
      server.publish(topic, JSON.stringify({ type: 'message', topic, from: socket.data.name, text }));
    } else {
      socket.sendText(JSON.stringify({ type: 'error', error: 'join the topic first' }));
    }
  },
  close(socket) {
    // Closing unsubscribes a socket anyway; doing it here first lets the others be told.
    for (const topic of socket.subscriptions) {
      socket.unsubscribe(topic);
      announce(topic, 'leave', socket.data.name);
    }
  },
});
const { port } = await server.listen({ port: 0 });

/** A chat client that prints what it receives; `next()` gives its events one by one. */
async function chatter(name, print) {
  const received = [];
  const waiting = [];
  let closed;
  const gone = new Promise((resolve) => (closed = resolve));
  const socket = await connect(`ws://127.0.0.1:${port}/chat?name=${name}`, {
    handlers: {
      message(_socket, data) {
        const event = JSON.parse(data.toString('utf8'));
        if (print) console.log(`${name} got ${describe(event)}`);
        if (waiting.length > 0) waiting.shift()(event);
        else received.push(event);
      },
      close: () => closed(),
    },
  });
  return {
    send: (request) => socket.sendText(JSON.stringify(request)),
    next: () =>
      received.length > 0
        ? Promise.resolve(received.shift())
        : new Promise((resolve) => waiting.push(resolve)),
    quit: () => {
      socket.close(1000);
      return gone;
    },
  };
}

function describe(event) {
  if (event.type === 'presence')
    return `${event.topic}: ${event.name} ${event.event === 'join' ? 'joined' : 'left'} (members: ${event.members.join(', ') || 'none'})`;
  if (event.type === 'message') return `${event.topic}: <${event.from}> ${event.text}`;
  return `error: ${event.error}`;
}

// Each step waits for what ada sees, so the lines come out in the same order on every run.
const ada = await chatter('ada', true);
const bob = await chatter('bob', false);
ada.send({ type: 'join', topic: 'general' });
await ada.next();
bob.send({ type: 'join', topic: 'general' });
await ada.next();
bob.send({ type: 'say', topic: 'general', text: 'hi ada' });
await ada.next();
ada.send({ type: 'say', topic: 'random', text: 'not a member yet' });
await ada.next();
ada.send({ type: 'join', topic: 'random' });
await ada.next();
bob.send({ type: 'leave', topic: 'general' });
await ada.next();
bob.send({ type: 'join', topic: 'random' });
await ada.next();
await bob.quit(); // ada hears bob leave random as his socket closes
await ada.next();
await ada.quit();
console.log(`topics left on the server: ${server.topics().length}`);
await server.close();
