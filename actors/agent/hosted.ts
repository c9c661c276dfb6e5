// What a host agent runs for one run: a persistent supervisor whose children follow the run's
// assignment for this host (hosts/placement). `apply` makes the supervisor match an assignment
// (starts what is new, stops what is gone, restarts an actor whose config changed); `status`
// is what the host's heartbeat reports about it. Its supervisor escalating (an actor that cannot
// stay up here) is reported, never retried: the director decides what happens to the run.
import type { AssignedActor, Assignment, Logger, NatsConnection } from "../../hosts/mod.js";
import { type HostedRun } from "../../hosts/mod.js";
import { type ChildSpec, type Supervisor, type SupervisorOptions, startSupervisor } from "../runtime/mod.js";

export type SupervisionSettings = Partial<Pick<SupervisorOptions, "intensity" | "backoff" | "heartbeatMs" | "watchdogMs" | "startTimeoutMs" | "shutdownMs">>;

export interface HostedRunOptions {
  readonly run: string;
  readonly host: string;
  readonly natsUrl: string;
  readonly nc: NatsConnection;
  readonly log: Logger;
  readonly supervision?: SupervisionSettings;
  /** something changed that the next heartbeat should carry at once */
  readonly onChange: () => void;
}

export interface HostedRunHandle {
  readonly run: string;
  /** the epoch of the assignment it follows */
  readonly epoch: number;
  /** cores its actors asked for */
  readonly cores: number;
  readonly actors: number;
  readonly escalated: string | null;
  apply(a: Assignment): Promise<void>;
  status(): HostedRun;
  stop(): Promise<void>;
}

const key = (a: { role: string; id: string }) => `${a.role}/${a.id}`;
const same = (x: AssignedActor, y: AssignedActor) => x.restart === y.restart && JSON.stringify(x.config ?? null) === JSON.stringify(y.config ?? null);

export function hostRun(o: HostedRunOptions): HostedRunHandle {
  let sup: Supervisor | null = null;
  let epoch = 0;
  let escalated: string | null = null;
  let linkAddress: string | undefined;
  const wanted = new Map<string, AssignedActor>();
  const supervisor = (a: Assignment): Supervisor => {
    if (sup) return sup;
    linkAddress = a.linkAddress;
    sup = startSupervisor({
      run: o.run,
      natsUrl: o.natsUrl,
      nc: o.nc,
      host: o.host,
      children: [],
      persistent: true,
      ...(a.linkAddress ? { env: { TROUPE_LINK_ADDRESS: a.linkAddress } } : {}),
      intensity: { maxRestarts: 10, withinMs: 60_000 },
      ...o.supervision,
      onEvent: () => o.onChange(),
      onEscalate: (err) => {
        escalated = err.message;
        o.log.error({ run: o.run, err: err.message }, "gave up on this run's actors here; the director decides what happens to the run");
        o.onChange();
      },
    });
    return sup;
  };
  return {
    run: o.run,
    get epoch() {
      return epoch;
    },
    get cores() {
      return [...wanted.values()].reduce((n, a) => n + a.cores, 0);
    },
    get actors() {
      return wanted.size;
    },
    get escalated() {
      return escalated;
    },
    async apply(a) {
      epoch = Math.max(epoch, a.epoch);
      if (escalated) return; // the director hears it from the heartbeat and stops or moves the run
      if (sup && a.linkAddress !== linkAddress) o.log.warn({ run: o.run, was: linkAddress, now: a.linkAddress }, "the link address changed; actors started from now on get the new one only after a restart");
      const s = supervisor(a);
      const next = new Map(a.actors.map((x) => [key(x), x]));
      for (const [k, had] of [...wanted]) {
        const want = next.get(k);
        if (want && same(had, want)) continue;
        wanted.delete(k);
        await s.remove(had.role, had.id);
      }
      for (const [k, x] of next) {
        if (wanted.has(k)) continue;
        const spec: ChildSpec = { role: x.role, id: x.id, restart: x.restart, ...(x.config !== undefined && x.config !== null ? { config: x.config } : {}) };
        try {
          s.add(spec);
          wanted.set(k, x);
        } catch (err) {
          escalated = `cannot start ${k} here: ${(err as Error).message}`;
          o.log.error({ run: o.run, actor: k, err: (err as Error).message }, "cannot start an assigned actor");
        }
      }
      o.onChange();
    },
    status() {
      const kids = sup?.children() ?? [];
      return {
        run: o.run,
        epoch,
        actors: kids.map((c) => ({ role: c.role, id: c.id, state: c.state, restarts: c.restarts, ...(c.pid !== undefined ? { pid: c.pid } : {}) })),
        ...(escalated ? { escalated } : {}),
      };
    },
    async stop() {
      wanted.clear();
      await sup?.stop();
    },
  };
}
