// The director's side of placement: wait for the hosts a scenario declares (naming who is
// missing when the wait runs out), place the cast on them (hosts/placement), tell their agents
// through the placement bucket, and keep it placed while the run lasts. A host declared dead
// (no heartbeat for placement.dead_after_s) or leaving gets its actors moved to the hosts left —
// only those actors, everyone else stays — where the scenario allows (on_host_loss: replace);
// otherwise, or when no host may take them, the stage stops with a report (onStop). So does an
// actor whose host's supervisor gave up on it. Every change is recorded in the run's KV (cast
// record) before the agents are told, under the director's lease epoch, so a restarted director
// keeps the placement and an agent refuses what a displaced one writes.
import {
  type Assignments,
  type HostRecord,
  type HostWatcher,
  type LivenessEvent,
  type Logger,
  type NatsConnection,
  type Placed,
  type PlacementHost,
  actorKey,
  isHostsMissingError,
  openAssignments,
  placeActors,
  watchHosts,
} from "../../../hosts/mod.js";
import { RUN_KEYS, type RunRecord } from "../records.js";
import { type CastEvent, type CastHost, type CastRecord, emptyCastRecord, withEvent } from "./record.js";
import type { CastPlacementSpec } from "./spec.js";

export const CAST_STOP_KINDS = ["hosts_missing", "host_lost", "placement_failed", "actor_failed"] as const;
export type CastStopKind = (typeof CAST_STOP_KINDS)[number];
export interface CastStop {
  readonly kind: CastStopKind;
  readonly reason: string;
}

export interface CastKeeperOptions {
  readonly nc: NatsConnection;
  readonly runId: string;
  readonly placement: CastPlacementSpec;
  readonly record: RunRecord;
  /** the director's lease epoch (written into every placement) */
  readonly epoch: number;
  /** the director's address */
  readonly from: string;
  /** throws FencedError once another director owns the run */
  readonly checkOwner: () => Promise<void>;
  /** the run must stop: the director's chart gets it as a `cast.lost` event */
  readonly onStop: (s: CastStop) => void;
  readonly log: Logger;
  readonly now?: () => number;
}

export interface CastKeeper {
  /**
   * Resolves once the cast is first placed, or the run was stopped instead (onStop); rejects when
   * placing failed otherwise (NATS away past every retry): the director then exits to be restarted.
   */
  readonly ready: Promise<void>;
  current(): CastRecord;
  readonly watcher: HostWatcher | null;
  /** the run is over: remove its placements from every host (their actors stop) and stop watching */
  release(): Promise<void>;
  /** stop watching, leave the placements (a successor director resumes them) */
  stop(): void;
}

/** Removes a run's placements from every host (their agents stop its actors there). */
export async function releasePlacements(nc: NatsConnection, runId: string, from: string): Promise<number> {
  const a = await openAssignments(nc, { from });
  const all = await a.forRun(runId);
  for (const x of all) await a.remove(x.host, runId);
  return all.length;
}

const s1 = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const list = (xs: readonly string[]) => xs.join(", ");

export function startCastKeeper(o: CastKeeperOptions): CastKeeper {
  const now = o.now ?? Date.now;
  const spec = new Map(o.placement.actors.map((a) => [actorKey(a), a]));
  const declared = o.placement.hosts.map((h) => h.name);
  let rec: CastRecord = emptyCastRecord(o.epoch);
  let watcher: HostWatcher | null = null;
  let assignments: Assignments | null = null;
  let stopped = false;
  let ended = false;
  let chain: Promise<void> = Promise.resolve();
  const serial = (what: string, fn: () => Promise<void>) => {
    chain = chain.then(() => (stopped ? undefined : fn())).catch((err: unknown) => o.log.error({ err: (err as Error).message }, `cast placement: ${what} failed`));
    return chain;
  };
  /** Like serial, but the caller sees the failure. */
  const serialStrict = async (what: string, fn: () => Promise<void>) => {
    let failure: unknown = null;
    await serial(what, () => fn().catch((err: unknown) => {
      failure = err;
      throw err;
    }));
    if (failure) throw failure;
  };

  const save = async (next: CastRecord) => {
    await o.checkOwner();
    await o.record.put(RUN_KEYS.cast, next);
    rec = next;
  };
  const note = (e: Omit<CastEvent, "at">) => save(withEvent(rec, { at: now(), ...e }));
  const stopRun = async (kind: CastStopKind, reason: string) => {
    if (ended) return;
    ended = true;
    o.log.error({ kind, reason }, "the cast cannot go on; stopping the stage");
    await note({ kind: "stopped", host: null, actors: [], detail: `The run stopped: ${reason}` }).catch(() => undefined);
    o.onStop({ kind, reason });
  };

  const ours = (r: HostRecord) => {
    const mine = r.runs.find((x) => x.run === o.runId);
    return (mine?.actors ?? []).reduce((n, a) => n + (spec.get(actorKey(a))?.cores ?? 0), 0);
  };
  const live = (): PlacementHost[] =>
    declared.flatMap((name) => {
      const v = watcher?.get(name);
      if (v?.status !== "up" || !v.record) return [];
      const r = v.record;
      return [{ name, tags: r.tags, backends: r.backends, cores: r.cores, load: Math.max(0, r.load.cores - ours(r)) }];
    });
  const castHost = (name: string): CastHost => {
    const r = watcher?.get(name)?.record;
    return { name, cores: r?.cores ?? 0, backends: r?.backends ?? [], tags: r?.tags ?? [], kernels: r?.kernels.mode ?? "", links: (r?.links ?? []).map((l) => l.address), machine: r?.machine ?? "" };
  };
  const linkAddress = (host: string) => o.placement.hosts.find((h) => h.name === host)?.address ?? watcher?.get(host)?.record?.links[0]?.address;

  /** Records the placement, then tells every host what it runs for this run now. */
  const write = async (placed: readonly Placed[], gone: readonly string[], e: Omit<CastEvent, "at">) => {
    const before = new Set(rec.placed.map((p) => p.host));
    const used = [...new Set(placed.map((p) => p.host))];
    await save(withEvent({ ...rec, epoch: o.epoch, placed, hosts: used.map(castHost) }, { at: now(), ...e }));
    for (const host of used) {
      const actors = placed.filter((p) => p.host === host).map((p) => spec.get(actorKey(p))!);
      const address = linkAddress(host);
      await assignments!.put({
        run: o.runId, host, epoch: o.epoch, at: now(),
        actors: actors.map((a) => ({ role: a.role, id: a.id, config: a.config, restart: a.restart, cores: a.cores })),
        ...(address ? { linkAddress: address } : {}),
      });
    }
    for (const host of new Set([...before, ...gone])) if (!used.includes(host)) await assignments!.remove(host, o.runId);
  };

  /** Places what is not kept; stops the run when something has no host. */
  const place = async (keep: readonly Placed[], gone: readonly string[], why: string | null) => {
    const r = placeActors(o.placement.actors, live(), { strategy: o.placement.strategy, keep, gone });
    if (r.unplaced.length > 0) {
      const what = r.unplaced.map((u) => `${u.actor}: ${u.why}`).join("; ");
      if (why) await stopRun("host_lost", `${why}; no other host may run ${list(r.unplaced.map((u) => u.actor))} (${what})`);
      else await stopRun("placement_failed", `cannot place ${what}`);
      return;
    }
    const moved = r.placed.filter((p) => !keep.some((k) => actorKey(k) === actorKey(p)));
    const where = moved.map((p) => `${actorKey(p)} → ${p.host}`);
    const e: Omit<CastEvent, "at"> = why
      ? { kind: "replaced", host: null, actors: moved.map(actorKey), detail: `${why}; moved ${list(where)} (on_host_loss: replace).` }
      : { kind: "placed", host: null, actors: r.placed.map(actorKey), detail: `Placed ${list(r.placed.map((p) => `${actorKey(p)} → ${p.host}`))} (${o.placement.strategy}).` };
    await write(r.placed, gone, e);
    o.log.info({ placed: r.placed.map((p) => `${actorKey(p)}@${p.host}`) }, why ? "moved the lost host's actors" : "cast placed");
  };

  const lost = async (e: Extract<LivenessEvent, { kind: "dead" | "left" }>) => {
    const mine = rec.placed.filter((p) => p.host === e.host);
    if (ended || mine.length === 0) return;
    const names = mine.map(actorKey);
    const why = e.kind === "dead"
      ? `Host ${e.host} stopped heartbeating (declared dead after ${s1(e.silentMs)} of silence; dead_after_s ${s1(o.placement.deadAfterMs)}) while it ran ${list(names)}`
      : `Host ${e.host} left (its agent stopped) while it ran ${list(names)}`;
    o.log.warn({ host: e.host, kind: e.kind, actors: names }, "lost a host of the cast");
    await note({
      kind: e.kind === "dead" ? "host_dead" : "host_left", host: e.host, actors: names, detail: `${why}.`,
      ...(e.kind === "dead" ? { silentMs: e.silentMs, lastBeatAt: e.lastBeatAt } : {}),
    });
    const pinned = mine.filter((p) => spec.get(actorKey(p))?.onHostLoss === "stop").map(actorKey);
    if (pinned.length > 0) return stopRun("host_lost", `${why}; ${list(pinned)} may not be moved (on_host_loss: stop), so the stage stops here`);
    await place(rec.placed.filter((p) => p.host !== e.host), [e.host], why);
  };

  const escalated = new Set<string>();
  const beat = (host: string, r: HostRecord) => {
    const run = r.runs.find((x) => x.run === o.runId);
    if (!run?.escalated || escalated.has(host) || !rec.placed.some((p) => p.host === host)) return;
    escalated.add(host);
    const reason = `the supervisor on ${host} gave up on this run's actors there (${run.escalated})`;
    void serial("an escalation", async () => {
      await note({ kind: "escalated", host, actors: run.actors.map(actorKey), detail: `${reason[0]!.toUpperCase()}${reason.slice(1)}.` });
      await stopRun("actor_failed", reason);
    });
  };

  const ready = (async () => {
    assignments = await openAssignments(o.nc, { from: o.from });
    watcher = await watchHosts(o.nc, {
      deadAfterMs: o.placement.deadAfterMs,
      onEvent: (e) => {
        if (e.kind === "dead" || e.kind === "left") void serial(`handling the loss of ${e.host}`, () => lost(e));
        else if (e.kind === "up" && (e.rejoined || e.restarted) && declared.includes(e.host)) {
          void serial("a host event", () => note({ kind: "host_back", host: e.host, actors: [], detail: `Host ${e.host} is back (${e.restarted ? "a new agent process" : "heartbeating again"}); it runs what is placed on it from now on.` }));
        }
      },
      onBeat: beat,
    });
    const prev = await o.record.get<CastRecord>(RUN_KEYS.cast);
    if (prev && prev.placed.length > 0) {
      // a restarted director: the hosts in use get one dead_after_s to be heard; the silent ones are lost
      rec = prev;
      const used = [...new Set(prev.placed.map((p) => p.host))];
      await watcher.waitFor(used, { timeoutMs: o.placement.deadAfterMs }).catch(() => undefined);
      const gone = used.filter((h) => watcher!.get(h)?.status !== "up");
      await serialStrict("resuming the placement", async () => {
        if (gone.length === 0) return write(prev.placed, [], { kind: "placed", host: null, actors: [], detail: `A restarted director took over the placement (epoch ${o.epoch}).` });
        const names = prev.placed.filter((p) => gone.includes(p.host)).map(actorKey);
        const why = `Host${gone.length > 1 ? "s" : ""} ${list(gone)} did not heartbeat when the director restarted while ${gone.length > 1 ? "they" : "it"} ran ${list(names)}`;
        const pinned = prev.placed.filter((p) => gone.includes(p.host) && spec.get(actorKey(p))?.onHostLoss === "stop").map(actorKey);
        if (pinned.length > 0) return stopRun("host_lost", `${why}; ${list(pinned)} may not be moved (on_host_loss: stop)`);
        return place(prev.placed.filter((p) => !gone.includes(p.host)), gone, why);
      });
      return;
    }
    await note({ kind: "waiting", host: null, actors: [], detail: `Waiting up to ${s1(o.placement.waitMs)} for hosts ${list(declared)}.` });
    try {
      await watcher.waitFor(declared, { timeoutMs: o.placement.waitMs });
    } catch (err) {
      if (!isHostsMissingError(err)) throw err;
      await serial("stopping", () => stopRun("hosts_missing", err.message));
      return;
    }
    await serialStrict("placing the cast", () => place([], [], null));
  })();
  ready.catch(() => undefined); // the caller handles it

  return {
    ready,
    current: () => rec,
    get watcher() {
      return watcher;
    },
    async release() {
      stopped = true;
      watcher?.stop();
      await chain;
      await releasePlacements(o.nc, o.runId, o.from);
    },
    stop() {
      stopped = true;
      watcher?.stop();
    },
  };
}

