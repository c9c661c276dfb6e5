// The host agent (`troupe host --nats URL --name NAME`): one per machine. It registers the host
// in the cluster's registry (cores, memory, kernel set, backends, tags, link addresses), writes
// its record again every heartbeat with what it runs, and runs the actors directors place on it
// (hosts/placement assignments `<host>.*`) under one supervisor per run. It refuses placements
// written under a director lease epoch older than the run's current one (a displaced director's),
// stops a run's actors when the run's director stops renewing its lease for `orphanMs` (its
// owner is gone for good), and leaves cleanly: `leave()` (SIGTERM) marks the record leaving —
// directors move its actors at once — stops its actors (mailboxes drain) and deletes the record.
import { randomBytes } from "node:crypto";
import {
  type Assignment,
  type HostRecord,
  type LinkAddress,
  type Logger,
  type NatsConnection,
  claimHostName,
  componentLogger,
  connectNats,
  linkState,
  localCapabilities,
  openAssignments,
  openHostRegistry,
  startHeartbeat,
  troupeVersion,
} from "../../hosts/mod.js";
import { checkToken } from "../../protocol/mod.js";
import { openDirectorLease } from "../cast/mod.js";
import "../roles.js";
import { type HostedRunHandle, type SupervisionSettings, hostRun } from "./hosted.js";
import { type OrphanWatch, watchOrphans } from "./orphans.js";

export interface HostAgentOptions {
  readonly natsUrl: string;
  readonly name: string;
  readonly tags?: readonly string[];
  /** cores this host offers (default: all of this machine's) */
  readonly cores?: number;
  readonly backends?: readonly string[];
  /** where links to this host's actors listen */
  readonly links?: readonly LinkAddress[];
  /** heartbeat period (default 1000 ms) */
  readonly beatMs?: number;
  /** a run whose director lease is not renewed this long is over: its actors stop (default 120 s) */
  readonly orphanMs?: number;
  readonly supervision?: SupervisionSettings;
  readonly log?: Logger;
}

export interface HostAgent {
  readonly name: string;
  readonly instance: string;
  readonly nc: NatsConnection;
  /** the record the next heartbeat writes */
  record(): Omit<HostRecord, "seq" | "beatAt">;
  /** leaves the cluster cleanly (idempotent): leaving → actors stopped → record deleted */
  leave(reason: string): Promise<void>;
  /** resolves once it has left */
  readonly done: Promise<void>;
}

export async function startHostAgent(o: HostAgentOptions): Promise<HostAgent> {
  const name = checkToken("host", o.name);
  for (const tag of o.tags ?? []) checkToken("host", tag);
  const log = o.log ?? componentLogger("host", { host: name });
  const instance = randomBytes(6).toString("hex");
  const beatMs = o.beatMs ?? 1000;
  const nc = await connectNats(o.natsUrl, { name: `troupe-host-${name}` });
  const from = `troupe._hosts.${name}`;
  let registry, assignments;
  try {
    registry = await openHostRegistry(nc, { from });
    assignments = await openAssignments(nc, { from });
    await claimHostName(registry, name, instance);
  } catch (err) {
    await nc.close();
    throw err;
  }
  const caps = localCapabilities({ cores: o.cores, ...(o.backends ? { backends: o.backends } : {}) });
  const startedAt = Date.now();
  const runs = new Map<string, HostedRunHandle>();
  const chains = new Map<string, Promise<void>>();
  let state: HostRecord["state"] = "up";

  const record = (): Omit<HostRecord, "seq" | "beatAt"> => {
    const hosted = [...runs.values()];
    return {
      name, instance, state, pid: process.pid, machine: caps.machine, version: troupeVersion(), tags: [...(o.tags ?? [])],
      cores: caps.cores, memoryMb: caps.memoryMb, freeMemoryMb: localCapabilities({ cores: caps.cores }).freeMemoryMb,
      backends: [...caps.backends], kernels: caps.kernels, links: [...(o.links ?? [])], beatMs, startedAt,
      load: { actors: hosted.reduce((n, r) => n + r.actors, 0), cores: hosted.reduce((n, r) => n + r.cores, 0) },
      runs: hosted.map((r) => r.status()),
    };
  };
  const hb = startHeartbeat({ registry, everyMs: beatMs, record, onError: (err) => log.warn({ err: err.message }, "a heartbeat was not written") });
  let pendingBeat = false;
  const changed = () => {
    if (pendingBeat) return;
    pendingBeat = true;
    queueMicrotask(() => {
      pendingBeat = false;
      void hb.beat();
    });
  };

  /** Runs one change of a run's assignment after the previous one (never two at once). */
  const serial = (run: string, fn: () => Promise<void>) => {
    const next = (chains.get(run) ?? Promise.resolve()).then(fn).catch((err: unknown) => log.error({ run, err: (err as Error).message }, "applying a placement failed"));
    chains.set(run, next);
    return next;
  };
  const drop = (run: string, why: string) =>
    serial(run, async () => {
      const r = runs.get(run);
      if (!r) return;
      runs.delete(run);
      log.info({ run, why }, "stopping the run's actors here");
      await r.stop();
      changed();
    });
  const apply = (a: Assignment) =>
    serial(a.run, async () => {
      if (state !== "up") return;
      const lease = await openDirectorLease(nc, a.run, from);
      const current = (await lease.current())?.epoch ?? 0;
      if (a.epoch < current) {
        log.warn({ run: a.run, epoch: a.epoch, current }, "ignored a placement written by a director that no longer owns the run");
        return;
      }
      let r = runs.get(a.run);
      if (!r) {
        r = hostRun({ run: a.run, host: name, natsUrl: o.natsUrl, nc, log, onChange: changed, ...(o.supervision ? { supervision: o.supervision } : {}) });
        runs.set(a.run, r);
        orphans.follow(a.run);
      }
      await r.apply(a);
    });

  const orphans: OrphanWatch = watchOrphans({
    nc, from, orphanMs: o.orphanMs ?? 120_000, link: linkState(nc),
    onOrphan: (run, silentMs) => {
      log.warn({ run, silentS: Math.round(silentMs / 1000) }, "the run's director has not renewed its lease for a long time; its owner is gone: stopping its actors here");
      void drop(run, "orphaned").then(() => assignments.remove(name, run)).catch(() => undefined);
    },
  });
  const unwatch = await assignments.watchHost(name, (c) => {
    if (c.value) void apply(c.value);
    else {
      orphans.forget(c.run);
      void drop(c.run, "its placement here was removed");
    }
  });
  log.info({ cores: caps.cores, kernels: caps.kernels.mode, tags: o.tags ?? [], links: o.links ?? [] }, "host registered");

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let leaving: Promise<void> | null = null;
  return {
    name,
    instance,
    nc,
    record,
    done,
    leave(reason) {
      leaving ??= (async () => {
        log.info({ reason }, "leaving");
        state = "leaving";
        await hb.beat(); // directors move our actors now, not after a dead host's timeout
        unwatch();
        orphans.stop();
        await Promise.all([...runs.keys()].map((run) => drop(run, `the host is leaving (${reason})`)));
        await hb.stop();
        await registry.remove(name).catch((err: unknown) => log.warn({ err: (err as Error).message }, "could not delete the host's record"));
        await nc.drain().catch(() => nc.close());
        resolveDone();
      })();
      return leaving;
    },
  };
}
