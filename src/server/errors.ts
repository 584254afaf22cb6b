import { inspect } from 'node:util';
import type { ServerSocket } from './server-socket.js';

/** Where an error reported to the server's `onError` came from. */
export interface ServerErrorContext {
  /**
   * `'handler'`: a route's handler threw (`handler` names it; the socket, if any, was failed
   * with 1011, and an upgrade hook's request was answered 500). `'topics'`: the topic adapter
   * failed. `'server'`: the server itself (an accept error, an unexpected failure in a handshake).
   */
  readonly kind: 'handler' | 'topics' | 'server';
  /** The handler that threw: `'message'`, `'open'`, `'close'`, `'upgrade'`... */
  readonly handler?: string;
  /** The request path (without the query string, which may carry credentials). */
  readonly path?: string;
  /** The socket whose handler threw. */
  readonly socket?: ServerSocket<unknown>;
}

/** Told of every error nobody else was: see `ServerOptions.onError`. */
export type ServerErrorHandler = (error: Error, context: ServerErrorContext) => void;

/**
 * Returns the function the server reports errors through: `onError`, or, without one, a
 * report on standard error. An `onError` that throws is itself reported there, with the
 * error it was given, because a reporter that fails must not take the server down nor hide
 * the original.
 */
export function errorReporter(onError: ServerErrorHandler | undefined): ServerErrorHandler {
  if (onError === undefined) return printError;
  return (error, context) => {
    try {
      onError(error, context);
    } catch (thrown) {
      printError(asError(thrown), { kind: 'server', handler: 'onError' });
      printError(error, context);
    }
  };
}

/**
 * A change of state worth one line in a log, not a failure with a stack trace: a topic
 * adapter's link went down, or came back. `onError` receives these too; test
 * `error instanceof OperationalNotice` to log them apart.
 */
export class OperationalNotice extends Error {
  /** Always `OperationalNotice`. */
  override readonly name = 'OperationalNotice';
}

/** One line saying where the error came from, then the error as Node shows it (stack, cause, fields). */
export function printError(error: Error, context: ServerErrorContext): void {
  if (error instanceof OperationalNotice) console.error(`wsx: ${describeContext(context)} ${error.message}`);
  else console.error(`wsx: ${describeContext(context)}\n${inspect(error)}`);
}

function describeContext(context: ServerErrorContext): string {
  const where = context.path === undefined ? '' : ` for ${context.path}`;
  switch (context.kind) {
    case 'handler':
      if (context.handler === 'upgrade') return `the upgrade hook${where} threw (answered 500):`;
      // After `close` the socket is gone, and `error` runs once it has already failed.
      if (context.handler === 'close' || context.handler === 'error')
        return `the ${context.handler} handler${where} threw:`;
      return `the ${context.handler ?? 'route'} handler${where} threw (socket closed with 1011):`;
    case 'topics':
      return 'topic adapter:';
    case 'server':
      return context.handler === 'onError' ? 'the onError handler threw:' : `server error${where}:`;
  }
}

/** What was thrown, as an Error (JavaScript lets a handler throw anything). */
export function asError(thrown: unknown): Error {
  return thrown instanceof Error
    ? thrown
    : new Error(`a handler threw a non-Error value: ${inspect(thrown)}`, { cause: thrown });
}

/** The path of a request-target, without its query string. */
export function pathOf(target: string): string {
  const query = target.indexOf('?');
  return query === -1 ? target : target.slice(0, query);
}
