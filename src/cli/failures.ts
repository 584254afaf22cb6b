import { inspect } from 'node:util';
import type { ClientTarget } from '../client/url.js';
import { HandshakeError } from '../protocol/errors.js';

/**
 * One line for what goes wrong at run time in everyday use: a port in use, a host that does
 * not resolve, a server that is not running, TLS spoken to a plain port. The line says what
 * happened and, where there is one, what to do; Node's error objects say it in a stack trace.
 */

type SystemError = Error & {
  code?: string;
  syscall?: string;
  address?: string;
  port?: number;
  hostname?: string;
};

/** OpenSSL's codes for a record that is not TLS: the server answered in plain text. */
const NOT_TLS = new Set([
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'ERR_SSL_PACKET_LENGTH_TOO_LONG',
  'ERR_SSL_RECORD_LAYER_FAILURE',
]);

/** Certificate checks that failed: the server is TLS, but not one the client trusts. */
const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** The line for a failure of `wsx serve` at run time: mostly `listen`'s. */
export function serveFailure(error: unknown): string {
  const e = error as SystemError;
  const where = e.port === undefined ? e.address : `${hostPort(e.address ?? '', e.port)}`;
  if (e.syscall === 'listen') {
    switch (e.code) {
      case 'EADDRINUSE':
        return `cannot listen on ${where}: the port is in use (another wsx serve?); choose another --port, or --port 0 for a free one`;
      case 'EACCES':
        return e.port !== undefined && e.port < 1024
          ? `cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose a --port from 1024 up`
          : `cannot listen on ${where}: permission denied`;
      case 'EADDRNOTAVAIL':
        return `cannot listen on ${where}: not an address of this machine (see --host)`;
    }
  }
  return resolveFailure(e) ?? unexpectedFailure(error);
}

/** The line for a failure to open a connection (`wsx connect`). */
export function connectFailure(error: unknown, target: ClientTarget): string {
  const e = error as SystemError;
  const server = target.socketPath ?? hostPort(target.hostname, target.port);
  if (e.code !== undefined && NOT_TLS.has(e.code)) {
    return `TLS handshake failed: the server at ${server} did not speak TLS (is it ws://?)`;
  }
  if (e.code !== undefined && UNTRUSTED.has(e.code)) {
    return `TLS: the certificate of ${server} is not trusted: ${e.message} (--ca FILE trusts its issuer; --insecure skips the check)`;
  }
  if (e.syscall === 'connect') {
    const where = e.port === undefined ? (e.address ?? server) : hostPort(e.address ?? '', e.port);
    switch (e.code) {
      case 'ECONNREFUSED':
        return `cannot connect to ${where}: connection refused (is the server running?)`;
      case 'ENOENT':
        return `cannot connect to ${where}: no such socket`;
      default:
        return `cannot connect to ${where}: ${e.code ?? e.message}`;
    }
  }
  if (e instanceof HandshakeError && e.status === 0 && !target.secure && /closed during/.test(e.message)) {
    // What a TLS server does with a plain HTTP request: it drops the connection.
    return `${e.message} (does the server expect wss://?)`;
  }
  return resolveFailure(e) ?? (e instanceof Error ? e.message : unexpectedFailure(error));
}

function resolveFailure(e: SystemError): string | null {
  if (e.syscall !== 'getaddrinfo') return null;
  if (e.code === 'ENOTFOUND') return `cannot resolve ${e.hostname}: no such host`;
  if (e.code === 'EAI_AGAIN') return `cannot resolve ${e.hostname}: the name server did not answer`;
  return `cannot resolve ${e.hostname}: ${e.code}`;
}

/** Not an everyday failure: the whole error, stack included, is what a bug report needs. */
export function unexpectedFailure(error: unknown): string {
  return `unexpected error: ${inspect(error)}`;
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}
