/**
 * `node:diagnostics_channel` channels, so that APM and logging tools can observe wsx without
 * patching it. A message is built only when the channel has subscribers: with none, each
 * point costs one property read.
 *
 *   wsx:socket:open            { socket }                        both roles, after the handshake
 *   wsx:socket:close           { socket, code, reason, wasClean } once per socket
 *   wsx:socket:error           { socket, error }                 the failure that ended a socket
 *   wsx:handshake:rejected     { status, message, remoteAddress } the server refused an upgrade
 *   wsx:handshake:failed       { url, error }                    a client's handshake failed
 *
 * `socket.role` tells a server's socket from a client's.
 */
import { channel } from 'node:diagnostics_channel';

export const socketOpenChannel = channel('wsx:socket:open');
export const socketCloseChannel = channel('wsx:socket:close');
export const socketErrorChannel = channel('wsx:socket:error');
export const handshakeRejectedChannel = channel('wsx:handshake:rejected');
export const handshakeFailedChannel = channel('wsx:handshake:failed');

/** Tells subscribers that the server refused an upgrade with `status`. */
export function publishHandshakeRejected(
  status: number,
  message: string,
  remoteAddress: string | undefined,
): void {
  if (!handshakeRejectedChannel.hasSubscribers) return;
  handshakeRejectedChannel.publish({ status, message, remoteAddress: remoteAddress ?? '' });
}
