// Autobahn client testee on the command line: one `wsx connect URL --echo` process per case,
// as a user would run it (permessage-deflate is offered by default).
import { spawn } from 'node:child_process';
import { NODE, WSX_CLI } from '../../shared/cli.js';
import { driverArguments, MAX_MESSAGE_SIZE, runAllCases, runDriver } from './fuzzing-loop.js';

function echoCase(url: string): Promise<void> {
  // Its exit status is not the verdict (a case that expects a failed connection ends with 1):
  // the suite judges what happened on the wire.
  const child = spawn(NODE, [WSX_CLI, 'connect', url, '--echo', '--max-payload', String(MAX_MESSAGE_SIZE)], {
    stdio: 'ignore',
  });
  return new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

const { base, agent } = driverArguments(process.argv);
runDriver(() => runAllCases(base, agent, echoCase));
