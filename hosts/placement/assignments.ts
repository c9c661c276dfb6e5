// Where a director tells host agents what to run: one JetStream KV bucket for the cluster
// (troupe_shared_placements), one key per host and run (`<host>.<run>`) listing the actors that
// host runs for that run. An agent watches `<host>.*` and makes its supervisors match; a deleted
// key stops that run's actors there. Each value carries the director's lease epoch, so an agent
// can refuse what a displaced director wrote (fencing, hosts/nats/lease.ts).
import type { NatsConnection } from "@nats-io/transport-node";
import { type Infer, checkToken, t } from "../../protocol/mod.js";
import { type RunState, openRunState } from "../nats/kv.js";
import { SHARED_SCOPE } from "../registry/registry.js";

export const PLACEMENTS_BUCKET = "placements";
export const RESTART_POLICIES = ["permanent", "transient", "temporary"] as const;

export const AssignedActorSchema = t.object({
  role: t.string({ minLength: 1, maxLength: 64 }),
  id: t.string({ minLength: 1, maxLength: 64 }),
  /** the actor's config (validated by the actor itself) */
  config: t.unknown(),
  restart: t.oneOf(RESTART_POLICIES),
  /** cores it asked for (the host's load accounting) */
  cores: t.number({ min: 0 }),
});
export type AssignedActor = Infer<typeof AssignedActorSchema>;

export const AssignmentSchema = t.object({
  run: t.string({ minLength: 1, maxLength: 64 }),
  host: t.string({ minLength: 1, maxLength: 64 }),
  /** the director lease epoch it was written under */
  epoch: t.int({ min: 0 }),
  actors: t.array(AssignedActorSchema, { maxLength: 256 }),
  /** the address links of actors on this host listen on (TROUPE_LINK_ADDRESS), when known */
  linkAddress: t.optional(t.string({ maxLength: 255 })),
  at: t.number(),
});
export type Assignment = Infer<typeof AssignmentSchema>;

export interface AssignmentChange {
  readonly run: string;
  /** null: deleted (stop the run's actors here) */
  readonly value: Assignment | null;
  /** false for the values the watch starts with */
  readonly update: boolean;
}

export interface Assignments {
  put(a: Assignment): Promise<number>;
  get(host: string, run: string): Promise<Assignment | null>;
  remove(host: string, run: string): Promise<void>;
  /** what every host runs for `run` */
  forRun(run: string): Promise<Assignment[]>;
  /** the host's current assignments, then every change (`<host>.*`) */
  watchHost(host: string, fn: (c: AssignmentChange) => void): Promise<() => void>;
}

export function assignmentKey(host: string, run: string): string {
  return `${checkToken("host", host)}.${checkToken("run", run)}`;
}

export async function openAssignments(nc: NatsConnection, o: { from?: string } = {}): Promise<Assignments> {
  const kv: RunState<Assignment> = await openRunState(nc, {
    run: SHARED_SCOPE,
    bucket: PLACEMENTS_BUCKET,
    schema: AssignmentSchema,
    history: 1,
    from: o.from ?? `troupe.${SHARED_SCOPE}._placements`,
  });
  const runOf = (key: string) => key.slice(key.indexOf(".") + 1);
  return {
    put: (a) => kv.put(assignmentKey(a.host, a.run), a),
    async get(host, run) {
      return (await kv.get(assignmentKey(host, run)))?.value ?? null;
    },
    remove: (host, run) => kv.delete(assignmentKey(host, run)),
    async forRun(run) {
      checkToken("run", run);
      const out: Assignment[] = [];
      for (const k of await kv.keys()) {
        if (runOf(k) !== run) continue;
        const v = (await kv.get(k))?.value;
        if (v) out.push(v);
      }
      return out.sort((a, b) => a.host.localeCompare(b.host));
    },
    watchHost: (host, fn) => kv.watch(`${checkToken("host", host)}.*`, (e) => fn({ run: runOf(e.key), value: e.value, update: e.update })),
  };
}
