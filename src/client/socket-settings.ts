import { DEFAULT_SOCKET_SETTINGS, type SocketHandlers, type SocketSettings } from '../node/socket.js';

/** The handlers of a client socket made without any: every event is ignored. */
export const NO_HANDLERS: SocketHandlers<never> = Object.freeze({});

/** A client socket's settings: the options' close timeout and backpressure limit, else the defaults. */
export function clientSettings(options: {
  readonly closeTimeout?: number | undefined;
  readonly backpressureLimit?: number | undefined;
}): SocketSettings {
  return {
    closeTimeout: options.closeTimeout ?? DEFAULT_SOCKET_SETTINGS.closeTimeout,
    backpressureLimit: options.backpressureLimit ?? DEFAULT_SOCKET_SETTINGS.backpressureLimit,
  };
}
