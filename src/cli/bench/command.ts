import { connect } from '../../client/connect.js';
import { fail, usageError } from '../args.js';
import { connectFailure } from '../failures.js';
import { firstRemoteAddress } from './loopback.js';
import { chatUrl } from './marker.js';
import { BENCH_HELP, type BenchOptions, resolveBenchOptions } from './options.js';
import { runBench } from './primary.js';
import { ProgressLine } from './progress.js';
import { reportJson, reportText, totalErrors } from './report.js';

export { BENCH_HELP };

/** `wsx bench MODE URL [options]`. */
export async function benchCommand(argv: string[]): Promise<void> {
  const options = resolveBenchOptions(argv);
  if (options === null) {
    process.stdout.write(BENCH_HELP);
    return;
  }
  if (!options.allowRemote) {
    await refuseRemote(options.target.hostname, options.url);
    if (options.publishUrl !== null)
      await refuseRemote(new URL(options.publishUrl).hostname, options.publishUrl);
  }
  await probe(options);
  const progress = new ProgressLine(options, process.stderr);
  let result: Awaited<ReturnType<typeof runBench>>;
  try {
    result = await runBench(options, progress.intervalMs, (snapshot) => progress.update(snapshot));
  } catch (error) {
    progress.finish();
    fail(1, (error as Error).message);
  }
  progress.finish();
  if (options.json) process.stdout.write(`${JSON.stringify(reportJson(options, result))}\n`);
  else process.stdout.write(reportText(options, result));
  process.exitCode = totalErrors(result) === 0 ? 0 : 1;
}

/** Exits with a usage error unless `hostname` is this machine (every address it resolves to). */
async function refuseRemote(hostname: string, url: string): Promise<void> {
  let remote: string | null;
  try {
    remote = await firstRemoteAddress(hostname);
  } catch (error) {
    fail(
      1,
      `cannot resolve ${hostname}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  if (remote !== null) {
    const resolved = remote === hostname ? '' : ` (${hostname} is ${remote})`;
    usageError(
      `${url} is not on this machine${resolved}: wsx bench loads loopback addresses only, unless --allow-remote`,
    );
  }
}

/**
 * One connection before the workers start, so that a server that is not there, or not
 * speaking TLS, or refusing the handshake, is one line and exit status 1, not a run full of errors.
 */
async function probe(options: BenchOptions): Promise<void> {
  const url =
    options.mode === 'broadcast' && options.format === 'chat'
      ? chatUrl(options.url, 'bench-probe')
      : options.url;
  try {
    const socket = await connect(url, {
      protocols: options.subprotocols,
      headers: options.headers,
      perMessageDeflate: options.deflate,
      tls: options.tls,
    });
    socket.close(1000);
  } catch (error) {
    fail(1, connectFailure(error, options.target));
  }
}
