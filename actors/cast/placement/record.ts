// The run's record of where its cast runs and what happened to its hosts (troupe_<run>_run,
// key "cast"): written by the director before every change of placement and at every host
// event, read by a restarted director (it keeps the placement), by the owner (the report's cast
// and notes) and by the chaos drills (when a loss was detected).
import type { Placed } from "../../../hosts/mod.js";

export const CAST_EVENT_KINDS = ["waiting", "placed", "host_dead", "host_left", "host_back", "replaced", "stopped", "escalated"] as const;
export type CastEventKind = (typeof CAST_EVENT_KINDS)[number];

export interface CastEvent {
  /** when the director saw it (its clock) */
  readonly at: number;
  readonly kind: CastEventKind;
  readonly host: string | null;
  /** role/id of the actors it concerns */
  readonly actors: readonly string[];
  /** a sentence for the report */
  readonly detail: string;
  /** host_dead: how long the host had been silent when it was declared dead */
  readonly silentMs?: number;
  /** host_dead: when its last heartbeat arrived (the director's clock) */
  readonly lastBeatAt?: number;
}

/** A host as the cast used it: what it reported when it was placed on. */
export interface CastHost {
  readonly name: string;
  readonly cores: number;
  readonly backends: readonly string[];
  readonly tags: readonly string[];
  readonly kernels: string;
  readonly links: readonly string[];
  readonly machine: string;
}

export interface CastRecord {
  /** the director epoch that wrote it */
  readonly epoch: number;
  readonly placed: readonly Placed[];
  readonly hosts: readonly CastHost[];
  readonly events: readonly CastEvent[];
}

/** Events kept per run (the oldest go first). */
export const MAX_CAST_EVENTS = 200;

export function withEvent(r: CastRecord, e: CastEvent): CastRecord {
  const events = [...r.events, e];
  return { ...r, events: events.slice(Math.max(0, events.length - MAX_CAST_EVENTS)) };
}

export function emptyCastRecord(epoch: number): CastRecord {
  return { epoch, placed: [], hosts: [], events: [] };
}

/** Sentences for the run report: where each actor ran and what happened to the hosts. */
export function castNotes(r: CastRecord | null): string[] {
  if (!r) return [];
  const notes: string[] = [];
  const byHost = new Map<string, string[]>();
  for (const p of r.placed) byHost.set(p.host, [...(byHost.get(p.host) ?? []), `${p.role}/${p.id}`]);
  if (byHost.size > 0) notes.push(`Placed on hosts: ${[...byHost].map(([h, a]) => `${h} (${a.join(", ")})`).join("; ")}.`);
  for (const e of r.events) if (e.kind !== "placed" && e.kind !== "waiting") notes.push(e.detail);
  return notes;
}
