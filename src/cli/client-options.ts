import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { type ClientTarget, parseClientUrl } from '../client/url.js';
import { usageError } from './args.js';
import { readCertificate, readTlsPair } from './files.js';

/** Client options shared by the commands that connect (`wsx connect`, `wsx bench`). */

/** The URL, checked before connecting: a malformed one is a usage error, not a failed connection. */
export function parseTarget(url: string): ClientTarget {
  try {
    return parseClientUrl(url);
  } catch (error) {
    const bare = /^[\w.-]+:\d+(\/|$)/.test(url) ? ` (did you mean ws://${url}?)` : '';
    usageError(`${(error as Error).message}${bare}`);
  }
}

export function tlsOptions(values: {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  insecure?: boolean | undefined;
}): TlsConnectionOptions | undefined {
  if ((values.cert === undefined) !== (values.key === undefined)) usageError('--cert and --key go together');
  const tls: { -readonly [K in keyof TlsConnectionOptions]: TlsConnectionOptions[K] } = {};
  if (values.ca !== undefined) tls.ca = readCertificate('--ca', values.ca);
  if (values.cert !== undefined && values.key !== undefined) {
    const pair = readTlsPair(values.cert, values.key);
    tls.cert = pair.cert;
    tls.key = pair.key;
  }
  if (values.insecure === true) tls.rejectUnauthorized = false;
  return Object.keys(tls).length === 0 ? undefined : tls;
}
