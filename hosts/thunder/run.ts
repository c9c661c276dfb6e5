// Running data-parallel training with a policy for lost ranks. runDataParallel forms the group,
// hands `body` a gradient sync, and when a rank is lost (its links closed or its heartbeats
// stopped: a GroupError within the links' bound) it either stops with a report, or re-forms the
// group from the survivors under the next generation and calls `body` again with resume: true,
// so training continues from the last checkpoint on fewer hosts.
//
// Survivors agree on who is left from the GroupError's `lost` ranks (the ring passes them on to
// every rank); a rank that does not know who was lost stops instead of guessing, and survivors
// that disagree fail to form the next generation within its timeout and stop — never a hang.
import type { GradientSync } from "../../models/mod.js";
import { type GroupError, isGroupError } from "../errors.js";
import type { Logger } from "../logger.js";
import { type SyncStats, createGradientSync } from "./gradients.js";
import { type ThunderGroupOptions, openThunderGroup } from "./group.js";
import type { Compression } from "./ring.js";

export const PeerLossPolicy = { stop: "stop", continue: "continue" } as const;
export type PeerLossPolicy = (typeof PeerLossPolicy)[keyof typeof PeerLossPolicy];

export interface DataParallelRunOptions extends Omit<ThunderGroupOptions, "generation"> {
  readonly compression?: Compression;
  readonly bucketBytes?: number;
  readonly overlap?: boolean;
  /** what survivors do when a rank is lost (default stop) */
  readonly onPeerLoss?: PeerLossPolicy;
  /** resume the first attempt from a checkpoint too (default false) */
  readonly resume?: boolean;
  /** with onPeerLoss "continue": may this rank go on without these (original) ranks? (default yes) */
  readonly canContinue?: (lost: readonly number[]) => boolean;
  readonly log?: Logger;
}

export interface DataParallelAttempt {
  readonly generation: number;
  readonly rank: number;
  readonly world: number;
  /** continue from the newest checkpoint (true after a lost rank) */
  readonly resume: boolean;
  readonly sync: GradientSync & { readonly stats: SyncStats };
}

export interface GenerationRecord {
  readonly generation: number;
  readonly rank: number;
  readonly world: number;
  /** original ranks of the members */
  readonly members: readonly number[];
  readonly error: string | null;
  /** original ranks this generation lost */
  readonly lost: readonly number[];
  /** when the loss was noticed (ms since the epoch) */
  readonly failedAt: number | null;
  readonly sync: SyncStats;
}

export interface DataParallelReport<R> {
  readonly result: R | null;
  readonly outcome: "done" | "continued" | "stopped-with-report";
  readonly generations: readonly GenerationRecord[];
  /** original ranks lost over the run */
  readonly lost: readonly number[];
}

export async function runDataParallel<R>(o: DataParallelRunOptions, body: (a: DataParallelAttempt) => Promise<R>): Promise<DataParallelReport<R>> {
  let members = Array.from({ length: o.world }, (_, i) => i);
  const generations: GenerationRecord[] = [];
  const lost: number[] = [];
  let resume = o.resume ?? false;
  for (let generation = 1; ; generation++) {
    const rank = members.indexOf(o.rank);
    const world = members.length;
    const group = await openThunderGroup({ ...o, rank, world, generation });
    const sync = createGradientSync(group, { compression: o.compression ?? "none", bucketBytes: o.bucketBytes, overlap: o.overlap });
    const record = (error: GroupError | null, gone: number[]): GenerationRecord => ({
      generation, rank, world, members: [...members], error: error?.message ?? null, lost: gone,
      failedAt: error ? Date.now() : null, sync: { ...sync.stats },
    });
    try {
      const result = await body({ generation, rank, world, resume, sync });
      generations.push(record(null, []));
      return { result, outcome: generation > 1 ? "continued" : "done", generations, lost };
    } catch (err) {
      const broken = group.error ?? (isGroupError(err) ? err : null);
      if (!broken) throw err; // not the group: the caller's own failure
      const gone = broken.lost.filter((r) => r >= 0 && r < world).map((r) => members[r]!);
      generations.push(record(broken, gone));
      lost.push(...gone);
      o.log?.warn({ generation, lost: gone, err: broken.message }, "a data-parallel rank was lost");
      if ((o.onPeerLoss ?? "stop") === "stop" || gone.length === 0 || (o.canContinue && !o.canContinue(lost))) {
        return { result: null, outcome: "stopped-with-report", generations, lost };
      }
      members = members.filter((m) => !gone.includes(m));
      resume = true;
      o.log?.warn({ generation: generation + 1, world: members.length }, "continuing on fewer hosts from the last checkpoint");
    } finally {
      await group.close("this generation is over");
    }
  }
}
