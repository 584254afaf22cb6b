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
 * reference to it instead of seven of its own (policies, settings, handlers, owner, and what
 * the handshake agreed).
 */
export interface SocketBinding {
  readonly policies: SocketPolicies;
  readonly settings: SocketSettings;
  // biome-ignore lint/suspicious/noExplicitAny: a subclass's handlers take the subclass
  readonly handlers: SocketHandlers<any, any>;
  readonly owner: SocketOwner | undefined;
  /** The subprotocol agreed, or ''. */
  readonly protocol: string;
  /** The Sec-WebSocket-Extensions value agreed, or ''. */
  readonly extensions: string;
  readonly httpVersion: HttpVersion;
}

/**
 * Bindings by handlers object: a server's routes each have one; clients mostly share one. A
 * binding names its owner (a server), so an owner's bindings hang from the owner: a route object
 * that outlives its server does not keep the closed server alive.
 */
const ownerless = new WeakMap<object, SocketBinding[]>();
const byOwner = new WeakMap<SocketOwner, WeakMap<object, SocketBinding[]>>();

function keptFor(handlers: object, owner: SocketOwner | undefined): SocketBinding[] {
  let table = ownerless;
  if (owner !== undefined) {
    let own = byOwner.get(owner);
    if (own === undefined) byOwner.set(owner, (own = new WeakMap()));
    table = own;
  }
  let kept = table.get(handlers);
  if (kept === undefined) table.set(handlers, (kept = []));
  return kept;
}
/** Bindings kept per handlers object: a caller making fresh settings for every socket gets fresh ones. */
const KEPT_PER_HANDLERS = 8;

/** The binding of a socket made with these, shared with the sockets made with the same ones. */
export function bindingOf(init: {
  readonly handlers: SocketBinding['handlers'];
  readonly settings: SocketSettings;
  readonly policies?: SocketPolicies | undefined;
  readonly owner?: SocketOwner | undefined;
  readonly protocol: string;
  readonly extensions: string;
  readonly httpVersion?: HttpVersion | undefined;
}): SocketBinding {
  const { handlers, settings, owner, protocol, extensions } = init;
  const policies = init.policies ?? NO_POLICIES;
  const httpVersion = init.httpVersion ?? '1.1';
  const kept = keptFor(handlers, owner);
  for (let i = 0; i < kept.length; i++) {
    const b = kept[i];
    if (
      b.settings === settings &&
      b.policies === policies &&
      b.protocol === protocol &&
      b.extensions === extensions &&
      b.httpVersion === httpVersion
    ) {
      return b;
    }
  }
  if (kept.length === KEPT_PER_HANDLERS) kept.shift();
  const binding: SocketBinding = Object.freeze({
    policies,
    settings,
    handlers,
    owner,
    protocol: ownCopy(protocol),
    extensions: ownCopy(extensions),
    httpVersion,
  });
  kept.push(binding);
  return binding;
}

/**
 * A string that shares no memory with another: V8 makes a substring of 13 characters or more
 * as a view of its parent, and one sliced out of a request would keep the whole head alive.
 */
function ownCopy(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'utf8').toString('utf8');
}
