// Authentication in the upgrade hook, and rooms.
//
// The hook runs before the 101: a request without a valid token is answered 401 and never
// becomes a WebSocket. An accepted one carries the user's name into `socket.data`; each socket
// joins the room named in its path, and what it sends goes to the others in that room.
//
//   node examples/auth-rooms/main.mjs
import { connect, createServer, HandshakeError, reject } from 'wsx';

// In a real service, a session store or a JWT check; the hook may be async.
const users = new Map([
  ['token-ada', 'ada'],
  ['token-bob', 'bob'],
  ['token-cy', 'cy'],
]);

const server = createServer();
server.route('/rooms/:room', {
  upgrade({ headers, params }) {
    const token = headers.single('authorization')?.replace(/^Bearer /, '');
    const user = token === undefined ? undefined : users.get(token);
    if (user === undefined) return reject(401, { body: 'a valid token is required' });
    if (!/^[a-z0-9-]{1,32}$/.test(params.room)) return reject(400, { body: 'bad room name' });
    return { data: { user, room: params.room } };
  },
  open(socket) {
    socket.subscribe(socket.data.room);
    socket.sendText(`welcome ${socket.data.user}, you are in ${socket.data.room}`);
  },
  message(socket, data) {
    // To everyone else in the room: framed once, written to each subscriber.
    socket.publish(socket.data.room, `${socket.data.user}: ${data.toString('utf8')}`, { exceptSelf: true });
  },
});
const { port } = await server.listen({ port: 0 });
const base = `ws://127.0.0.1:${port}/rooms/`;

// Refused upgrades: the handshake fails with the status the hook chose.
for (const [what, room, token] of [
  ['no token', 'blue', undefined],
  ['unknown token', 'blue', 'token-nobody'],
  ['bad room name', 'Blue%20Room', 'token-ada'],
]) {
  try {
    await connect(`${base}${room}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
    throw new Error(`${what}: accepted`);
  } catch (error) {
    if (!(error instanceof HandshakeError)) throw error;
    console.log(`${what}: refused with ${error.status}`);
  }
}

/** A user in a room: what they heard, and a promise per awaited message. */
async function join(user, room) {
  const heard = [];
  const waiters = [];
  let closed;
  const gone = new Promise((resolve) => (closed = resolve));
  const next = () => new Promise((resolve) => waiters.push(resolve));
  const welcomed = next(); // before connecting: the welcome may come with the 101
  const socket = await connect(`${base}${room}`, {
    headers: { Authorization: `Bearer token-${user}` },
    handlers: {
      message(_socket, data) {
        const text = data.toString('utf8');
        heard.push(text);
        for (const waiter of waiters.splice(0)) waiter(text);
      },
      close: () => closed(),
    },
  });
  console.log(`${user}: ${await welcomed}`);
  heard.length = 0;
  return {
    socket,
    heard,
    next,
    /** Closes with 1000 and waits for the server's close frame: it comes after all that was sent to us. */
    leave: () => {
      socket.close(1000);
      return gone;
    },
  };
}

const ada = await join('ada', 'blue');
const bob = await join('bob', 'blue');
const cy = await join('cy', 'green');
console.log(`blue has ${server.subscribers('blue')} members, green has ${server.subscribers('green')}`);

// ada speaks in blue; bob answers once he has heard her.
const bobHears = bob.next();
ada.socket.sendText('hi blue room');
await bobHears;
const adaHears = ada.next();
bob.socket.sendText('hello ada');
await adaHears;
// cy speaks in green, where nobody else is.
cy.socket.sendText('anyone in green?');

// cy leaves first: the server has handled everything cy sent before answering cy's close, so
// anything it wrongly published to blue would reach ada and bob before their own close.
for (const user of [cy, ada, bob]) await user.leave();
for (const [name, user] of Object.entries({ ada, bob, cy }))
  console.log(`${name} heard: ${user.heard.length === 0 ? 'nothing' : user.heard.join(' | ')}`);

await server.close();
