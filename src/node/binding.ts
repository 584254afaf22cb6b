import {
  NO_POLICIES,
  type SocketHandlers,
  type SocketOwner,
  type SocketPolicies,
  type SocketSettings,
} from './socket-types.js';
import type { HttpVersion } from './transport.js';

/**
 * @internal What the sockets of one route (or one client) share: each socket keeps one
 * reference to it instead of four of its own.
 */
export interface SocketBinding {
  readonly policies: SocketPolicies;
  readonly settings: SocketSettings;
  // biome-ignore lint/suspicious/noExplicitAny: a subclass's handlers take the subclass
  readonly handlers: SocketHandlers<any, any>;
  readonly owner: SocketOwner | undefined;
}

/** Bindings by handlers object: a server's routes each have one; clients mostly share one. */
const bindings = new WeakMap<object, SocketBinding[]>();
/** Bindings kept per handlers object: a caller making fresh settings for every socket gets fresh ones. */
const KEPT_PER_HANDLERS = 8;

/** The binding of a socket with these, shared with the sockets made with the same ones. */
export function bindingOf(init: {
  readonly handlers: SocketBinding['handlers'];
  readonly settings: SocketSettings;
  readonly policies?: SocketPolicies | undefined;
  readonly owner?: SocketOwner | undefined;
}): SocketBinding {
  const { handlers, settings, owner } = init;
  const policies = init.policies ?? NO_POLICIES;
  let kept = bindings.get(handlers);
  if (kept === undefined) {
    kept = [];
    bindings.set(handlers, kept);
  } else {
    for (let i = 0; i < kept.length; i++) {
      const binding = kept[i];
      if (binding.settings === settings && binding.policies === policies && binding.owner === owner) {
        return binding;
      }
    }
    if (kept.length === KEPT_PER_HANDLERS) kept.shift();
  }
  const binding: SocketBinding = Object.freeze({ policies, settings, handlers, owner });
  kept.push(binding);
  return binding;
}

/** @internal What the handshake agreed, shared by the sockets that agreed the same. */
export interface Negotiated {
  readonly protocol: string;
  readonly extensions: string;
  readonly httpVersion: HttpVersion;
}

/** No subprotocol, no extension, HTTP/1.1: most sockets. */
const PLAIN: Negotiated = Object.freeze({ protocol: '', extensions: '', httpVersion: '1.1' });
/** Other agreements seen lately, by their text (bounded: cleared when full). */
const agreed = new Map<string, Negotiated>();
const KEPT_AGREEMENTS = 64;

/**
 * The shared record of an agreement. Its strings are copied once when it is first kept: one
 * sliced out of a request would keep the whole request head alive with it.
 */
export function negotiatedOf(protocol: string, extensions: string, httpVersion: HttpVersion): Negotiated {
  if (protocol === '' && extensions === '' && httpVersion === '1.1') return PLAIN;
  const key = `${httpVersion} ${protocol} ${extensions}`;
  let negotiated = agreed.get(key);
  if (negotiated === undefined) {
    if (agreed.size === KEPT_AGREEMENTS) agreed.clear();
    negotiated = Object.freeze({ protocol: ownCopy(protocol), extensions: ownCopy(extensions), httpVersion });
    agreed.set(ownCopy(key), negotiated);
  }
  return negotiated;
}

/** A string that shares no memory with another (V8 makes substrings of 13 characters or more as views). */
function ownCopy(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
