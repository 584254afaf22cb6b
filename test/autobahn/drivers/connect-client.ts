// Autobahn client testee on `connect()`: one socket per case, each message sent back as it came
// (text as text, binary as binary), permessage-deflate offered (connect's default).
import { connect } from '../../../src/index.js';
import { driverArguments, MAX_MESSAGE_SIZE, runAllCases, runDriver } from './fuzzing-loop.js';

function echoCase(url: string): Promise<void> {
  return new Promise<void>((resolve) => {
    connect(url, {
      maxMessageSize: MAX_MESSAGE_SIZE,
      handlers: {
        message: (socket, data, isBinary) => {
          if (isBinary) socket.sendBinary(data);
          else socket.sendText(data);
        },
        close: () => resolve(),
      },
      // A refused handshake is the case's result, which the suite records: go on with the next.
    }).catch(() => resolve());
  });
}

const { base, agent } = driverArguments(process.argv);
runDriver(() => runAllCases(base, agent, echoCase));
