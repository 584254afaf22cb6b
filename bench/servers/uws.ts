/**
 * uWebSockets.js echo/broadcast peer (@trufflesuite/uws-js-unofficial build).
 * Broadcast uses uWS's own publish/subscribe.
 */
import uWS from '@trufflesuite/uws-js-unofficial';
import { HOST, installHooks, isTrigger, portFromArgs, ready } from './common.js';

installHooks();
const TOPIC = 'all';
const app = uWS.App();

app.ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024 * 1024,
  // send() drops messages once a socket's buffered amount exceeds this, so keep it
  // well above the largest burst of the workloads (2 x 1 MiB in flight per connection)
  maxBackpressure: 256 * 1024 * 1024,
  idleTimeout: 0,
  sendPingsAutomatically: false,
  open(ws) {
    ws.subscribe(TOPIC);
  },
  message(ws, message, isBinary) {
    if (isTrigger(new Uint8Array(message), isBinary)) {
      app.publish(TOPIC, message, false);
      return;
    }
    ws.send(message, isBinary);
  },
});

app.listen(HOST, portFromArgs(), (listenSocket) => {
  if (!listenSocket) {
    process.stderr.write('uWS: listen failed\n');
    process.exit(1);
  }
  ready(uWS.us_socket_local_port(listenSocket));
});
