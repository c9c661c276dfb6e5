// Where link endpoints are found: a JetStream KV bucket per run (troupe_<run>_links), one key
// per endpoint name, each value a protocol envelope validated on read. A listener publishes
// its address; a dialer looks the name up, waiting (polling) until it appears. Only the
// addresses go through NATS; the bytes of a link never do.
import type { NatsConnection } from "@nats-io/transport-node";
import { type Infer, t } from "../../protocol/mod.js";
import { LinkConnectError } from "../errors.js";
import { openRunState } from "../nats/kv.js";
import { pause } from "../pause.js";

export const LinkEndpointSchema = t.object({
  name: t.string({ minLength: 1, maxLength: 128 }),
  /** address other hosts reach it at */
  host: t.string({ minLength: 1, maxLength: 255 }),
  port: t.int({ min: 1, max: 65535 }),
  pid: t.int({ min: 0 }),
  /** the troupe host (machine) it runs on */
  hostName: t.string({ maxLength: 64 }),
  /** what the owner needs to tell a fresh endpoint from a stale one (group generation, …) */
  meta: t.record(t.unknown()),
  at: t.number(),
});
export type LinkEndpoint = Infer<typeof LinkEndpointSchema>;

const KEY = /^[A-Za-z0-9_=./-]{1,128}$/;

export interface LookupOptions {
  /** give up after this long (default 30 s) */
  readonly timeoutMs?: number;
  /** a found entry is used only if this says so (e.g. the right generation) */
  readonly accept?: (e: LinkEndpoint) => boolean;
  readonly signal?: AbortSignal;
}

export interface EndpointRegistry {
  publish(e: Omit<LinkEndpoint, "at" | "pid"> & { pid?: number }): Promise<LinkEndpoint>;
  /** the endpoint, once it is published (and accepted) */
  lookup(name: string, opts?: LookupOptions): Promise<LinkEndpoint>;
  get(name: string): Promise<LinkEndpoint | null>;
  remove(name: string): Promise<void>;
}

function checkName(name: string): string {
  if (!KEY.test(name)) throw new LinkConnectError(`link endpoint name ${JSON.stringify(name)} must be 1-128 of A-Z a-z 0-9 _ = . / -`);
  return name;
}

export async function openEndpointRegistry(nc: NatsConnection, run: string): Promise<EndpointRegistry> {
  const kv = await openRunState(nc, { run, bucket: "links", schema: LinkEndpointSchema, history: 1, from: `troupe.${run}._links` });
  const get = async (name: string) => (await kv.get(checkName(name)))?.value ?? null;
  return {
    async publish(e) {
      const value: LinkEndpoint = { ...e, pid: e.pid ?? process.pid, at: Date.now() };
      await kv.put(checkName(e.name), value);
      return value;
    },
    get,
    async lookup(name, opts = {}) {
      const timeoutMs = opts.timeoutMs ?? 30_000;
      const end = Date.now() + timeoutMs;
      let seen: LinkEndpoint | null = null;
      for (let wait = 10; ; wait = Math.min(200, wait * 2)) {
        seen = await get(name);
        if (seen && (!opts.accept || opts.accept(seen))) return seen;
        if (opts.signal?.aborted) throw new LinkConnectError(`lookup of link endpoint ${name} aborted`, { cause: opts.signal.reason });
        if (Date.now() > end) {
          const why = seen ? `only a stale entry (${JSON.stringify(seen.meta)}, published by pid ${seen.pid} on ${seen.hostName})` : "nothing";
          throw new LinkConnectError(`link endpoint ${name} was not published within ${timeoutMs} ms (found ${why}); is its host running and in this run?`);
        }
        await pause(wait, opts.signal);
      }
    },
    async remove(name) {
      await kv.delete(checkName(name));
    },
  };
}
