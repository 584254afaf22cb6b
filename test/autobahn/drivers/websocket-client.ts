// Autobahn client testee on the WHATWG `WebSocket` class: one per case, each message sent back
// as it came (a string as text, a Buffer as binary), permessage-deflate offered (the default).
import { WebSocket } from '../../../src/index.js';
import { driverArguments, MAX_MESSAGE_SIZE, runAllCases, runDriver } from './fuzzing-loop.js';

function echoCase(url: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const ws = new WebSocket(url, { maxMessageSize: MAX_MESSAGE_SIZE, binaryType: 'nodebuffer' });
    ws.onmessage = (event) => ws.send(event.data);
    // `close` follows every end, a failed handshake included.
    ws.onclose = () => resolve();
  });
}

const { base, agent } = driverArguments(process.argv);
runDriver(() => runAllCases(base, agent, echoCase));
