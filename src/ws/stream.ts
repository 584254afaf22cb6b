import { Duplex, type DuplexOptions } from 'node:stream';
import { CLOSED, CONNECTING } from './constants.js';
import type { WebSocket } from './websocket.js';
import type { WebSocketLike } from './websocket-like.js';

/**
 * A Duplex over a WebSocket, as ws's `createWebSocketStream`: each message read is a chunk
 * (text as a string in object mode), each chunk written is a message. Reading applies
 * backpressure by pausing the socket; ending the writable side starts the closing handshake;
 * destroying the stream terminates the socket (unless the socket failed first).
 */
export function createWebSocketStream(ws: WebSocketLike, options?: DuplexOptions): Duplex {
  let terminateOnDestroy = true;
  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  });

  ws.on('message', (message: Buffer, isBinary: boolean) => {
    const chunk = !isBinary && duplex.readableObjectMode ? message.toString() : message;
    if (!duplex.push(chunk)) ws.pause();
  });
  ws.once('error', (error: Error) => {
    if (duplex.destroyed) return;
    // The socket is failing on its own: it is not terminated over its closing handshake.
    terminateOnDestroy = false;
    duplex.destroy(error);
  });
  ws.once('close', () => {
    if (!duplex.destroyed) duplex.push(null);
  });

  duplex._destroy = (error, callback) => {
    if (ws.readyState === CLOSED) {
      callback(error);
      process.nextTick(emitStreamClose, duplex);
      return;
    }
    let told = false;
    ws.once('error', (wsError: Error) => {
      told = true;
      callback(wsError);
    });
    ws.once('close', () => {
      if (!told) callback(error);
      process.nextTick(emitStreamClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex._final = function final(callback) {
    if (ws.readyState === CONNECTING) {
      ws.once('open', () => final(callback));
      return;
    }
    if ((ws as WebSocket)._socket === null) return;
    if (ws.readyState === CLOSED) {
      callback();
      if (duplex.readableEnded) duplex.destroy();
      return;
    }
    ws.once('close', () => callback());
    ws.close();
  };

  duplex._read = () => {
    if (ws.isPaused) ws.resume();
  };

  duplex._write = function write(chunk, encoding, callback) {
    if (ws.readyState === CONNECTING) {
      ws.once('open', () => write(chunk, encoding, callback));
      return;
    }
    ws.send(chunk, callback);
  };

  duplex.on('end', onBothEnded);
  duplex.on('finish', onBothEnded);
  duplex.on('error', onStreamError);
  return duplex;
}

function emitStreamClose(stream: Duplex): void {
  stream.emit('close');
}

/** Both sides done: the stream is destroyed (it does not destroy itself, see `autoDestroy`). */
function onBothEnded(this: Duplex): void {
  if (!this.destroyed && this.readableEnded && this.writableFinished) this.destroy();
}

/** An error destroys the stream; it is emitted again only if nobody else listens for it. */
function onStreamError(this: Duplex, error: Error): void {
  this.removeListener('error', onStreamError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', error);
}
