import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { usageError } from './args.js';

/**
 * Files named on the command line (`--config`, `--cert`, `--key`, `--ca`), read and checked
 * before anything starts, so that a wrong path or a wrong file is a one-line usage error
 * naming the option, not an OpenSSL message and a stack trace from deep inside `listen`.
 */

/** Reads the file an option names; exits with a usage error saying why it cannot be read. */
export function readOptionFile(option: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    usageError(`${option} ${file}: ${whyUnreadable(error as NodeJS.ErrnoException)}`);
  }
}

function whyUnreadable(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory, not a file';
    default:
      return error.message;
  }
}

/** A certificate and its private key, read and checked to be PEM and to belong together. */
export function readTlsPair(
  certFile: string,
  keyFile: string,
  names: { cert: string; key: string } = { cert: '--cert', key: '--key' },
): { cert: Buffer; key: Buffer } {
  const cert = readCertificate(names.cert, certFile);
  const key = readOptionFile(names.key, keyFile);
  if (key.includes('ENCRYPTED')) {
    usageError(`${names.key} ${keyFile}: the key is encrypted; give an unencrypted key`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    usageError(`${names.key} ${keyFile}: not a PEM private key`);
  }
  // Compared here because TLS would take a key of another type (EC beside an RSA
  // certificate) as a second key, and fail each handshake instead.
  if (!new X509Certificate(cert).checkPrivateKey(privateKey)) {
    usageError(`${names.key} ${keyFile} is not the private key of ${names.cert} ${certFile}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    usageError(`${names.cert} ${certFile} with ${names.key} ${keyFile}: ${(error as Error).message.trim()}`);
  }
  return { cert, key };
}

/** A PEM certificate file (`--cert`, `--ca`). */
export function readCertificate(option: string, file: string): Buffer {
  const pem = readOptionFile(option, file);
  try {
    // TLS would take a file without any certificate in it and trust nothing.
    new X509Certificate(pem);
  } catch {
    usageError(`${option} ${file}: not a PEM certificate`);
  }
  return pem;
}
