// Whether a connection is up, with hooks for its next disconnect and reconnect. nats.js
// neither fails requests in flight when the server goes away (they wait for their full
// timeout) nor sends publishes made while disconnected (it drops them); the durable helpers
// use this to fail fast on a disconnect and to retry only once connected again.
import type { NatsConnection } from "@nats-io/transport-node";

export interface LinkState {
  readonly connected: boolean;
  /** calls `fn` at the next disconnect (or close); returns a function that cancels it */
  onDisconnect(fn: () => void): () => void;
  /** resolves now if connected, else at the next reconnect (or when the connection closes) */
  whenConnected(): Promise<void>;
}

export class DisconnectedError extends Error {
  readonly code = "DISCONNECTED";
  constructor(what: string) {
    super(`${what}: the connection to NATS dropped before an answer came`);
    this.name = "DisconnectedError";
  }
}

const states = new WeakMap<NatsConnection, LinkState>();

export function linkState(nc: NatsConnection): LinkState {
  const known = states.get(nc);
  if (known) return known;
  let connected = !nc.isClosed();
  const disconnectHooks = new Set<() => void>();
  let connectHooks: (() => void)[] = [];
  const fireDisconnect = () => {
    const hooks = [...disconnectHooks];
    disconnectHooks.clear();
    for (const f of hooks) f();
  };
  const fireConnect = () => {
    const hooks = connectHooks;
    connectHooks = [];
    for (const f of hooks) f();
  };
  void (async () => {
    for await (const st of nc.status()) {
      if (st.type === "disconnect") {
        connected = false;
        fireDisconnect();
      } else if (st.type === "reconnect") {
        connected = true;
        fireConnect();
      }
    }
  })().finally(() => {
    connected = false;
    fireDisconnect();
    fireConnect();
  });
  const state: LinkState = {
    get connected() {
      return connected;
    },
    onDisconnect(fn) {
      if (nc.isClosed()) {
        queueMicrotask(fn);
        return () => undefined;
      }
      disconnectHooks.add(fn);
      return () => void disconnectHooks.delete(fn);
    },
    whenConnected: () => (connected || nc.isClosed() ? Promise.resolve() : new Promise<void>((r) => connectHooks.push(r))),
  };
  states.set(nc, state);
  return state;
}

/** Settles like `p`, or rejects with DisconnectedError if the connection drops first. */
export function unlessDisconnected<T>(nc: NatsConnection, p: Promise<T>, what: string): Promise<T> {
  const state = linkState(nc);
  if (!state.connected) {
    p.catch(() => undefined);
    return Promise.reject(new DisconnectedError(what));
  }
  return new Promise<T>((resolve, reject) => {
    const cancel = state.onDisconnect(() => {
      p.catch(() => undefined);
      reject(new DisconnectedError(what));
    });
    p.then(
      (v) => {
        cancel();
        resolve(v);
      },
      (e) => {
        cancel();
        reject(e);
      },
    );
  });
}
