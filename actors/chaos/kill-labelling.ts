// Kill drills in stage 2's labelling (the oracle queue), on a real curriculum run:
//   director  kill -9 the director once about half of stage 2's label batches are stored; its
//             supervisor restarts it, it resumes at stage 2 from KV, submits only the batches
//             the label stream lacks, and the run finishes
//   oracle    kill -9 an oracle in the window between storing a batch and acknowledging it
//             (the oracles hold their first `holdBatches` batches `holdMs` there; the rest of
//             the queue goes at full speed once the kill has landed): the queue hands the batch to an
//             oracle again after the ack wait, it is labelled again, and the label stream's
//             dedup by job id keeps one copy
// Both read the label stream themselves once stage 2 is past its labelling, and report the
// batches expected, the batches written, and the messages beyond one per batch (duplicates).
import { type Logger, componentLogger, pause } from "../../hosts/mod.js";
import { parseAddress } from "../../protocol/mod.js";
import { type PersistedDirectorSnapshot, phaseOf } from "../director/mod.js";
import { type CastRun, labelMessages, labelPlan, readLabels, startCastRun } from "../cast/mod.js";
import type { KillCastOptions } from "./kill-cast.js";

export interface LabelCount {
  /** label batches stage 2 needs (training lane and eval lane) */
  readonly labels_expected: number;
  /** distinct batches in the label stream */
  readonly labels_written: number;
  /** messages in the label stream beyond one per batch */
  readonly duplicates: number;
  readonly messages: number;
}

export interface KillLabellingReport extends LabelCount {
  readonly run_id: string;
  readonly killed: "director" | "oracle";
  readonly killed_stage: number | null;
  readonly resumed_stage: number | null;
  /** label batches stored when the kill landed */
  readonly labels_at_kill: number | null;
  /** restarts of the killed role's processes, as its supervisor counted them */
  readonly restarts: number;
  readonly resumes: number;
  readonly outcome: string;
  readonly stages: readonly { stage: number; passed: boolean; status: string; metric: number | null; attempts: number }[];
  readonly report: string | null;
  readonly wall_s: number;
}

export interface KillLabellingOptions extends KillCastOptions {
  readonly target: "director" | "oracle";
  /** How long each oracle holds a stored batch before acknowledging it (default 600 ms director, 2000 ms oracle). */
  readonly holdMs?: number;
  /**
   * How many of its first batches each oracle process holds (default: every batch for the
   * director, which is killed half way through the queue; 3 for the oracle, killed in the hold
   * of the first batch it is seen to store — 6 s of window, the rest need not wait).
   */
  readonly holdBatches?: number;
  /** Store label batches without the message id (the duplicate counter's negative test). */
  readonly dedup?: boolean;
}

/** The id of the oracle that stored the newest label batch of `lane` (null when none is stored yet). */
async function holder(run: CastRun, lane: string): Promise<string | null> {
  const read = await readLabels(run.nc, run.runId, 2, lane);
  const newest = [...read.batches.values()].pop();
  return newest ? parseAddress(newest.by).id : null;
}

export async function runKillInLabelling(o: KillLabellingOptions): Promise<KillLabellingReport> {
  const log = o.log ?? componentLogger("chaos");
  const t0 = Date.now();
  let phase: { stage: number; phase: string } | null = null;
  let killedAt: { stored: number; at: number } | null = null;
  let resumed: number | null = null;
  // the count starts from the first snapshot past stage 2's labelling (another stage or phase,
  // or a final state), before the run and its NATS go away
  let count: (() => Promise<LabelCount>) | null = null;
  let counting: Promise<LabelCount | null> | null = null;
  let sawLabelling = false;
  const onSnapshot = (s: PersistedDirectorSnapshot) => {
    phase = phaseOf(s.value);
    if (killedAt && resumed === null && s.context.resumes.length > 0) resumed = s.context.stage;
    const p = phase as { stage: number; phase: string } | null;
    const labelling = p?.stage === 2 && p.phase === "preparing";
    if (labelling) sawLabelling = true;
    if (sawLabelling && !labelling && !counting && count) counting = count().catch((err: Error) => (log.warn({ err: err.message }, "cannot count the labels"), null));
  };
  const holdBatches = o.holdBatches ?? (o.target === "oracle" ? 3 : undefined);
  const run: CastRun = await startCastRun({
    plan: o.plan,
    file: o.file ?? null,
    ...(o.natsUrl ? { natsUrl: o.natsUrl } : {}),
    ...(o.writeReport ? { writeReport: o.writeReport } : {}),
    oracle: { holdMs: o.holdMs ?? (o.target === "oracle" ? 2000 : 600), ...(holdBatches ? { holdBatches } : {}), ...(o.dedup === false ? { dedup: false } : {}) },
    onSnapshot,
  });
  const s2 = run.spec.curriculum.stages.find((p) => p.stage === 2);
  if (!s2) throw new Error("the scenario lists no stage 2: nothing to label");
  const plan = await labelPlan(run.spec, { stage: 2, plan: s2 });
  const expected = plan.train.batches + plan.heldOut.batches;
  const stored = async () => (await labelMessages(run.nc, run.runId, 2, plan.train.lane)) + (await labelMessages(run.nc, run.runId, 2, plan.heldOut.lane));
  let over = false;
  count = async () => {
    const reads = [await readLabels(run.nc, run.runId, 2, plan.train.lane, { bodies: false }), await readLabels(run.nc, run.runId, 2, plan.heldOut.lane, { bodies: false })];
    const written = [reads[0]!, reads[1]!].reduce((n, r, i) => n + [...r.batches.keys()].filter((k) => k < (i === 0 ? plan.train.batches : plan.heldOut.batches)).length, 0);
    return { labels_expected: expected, labels_written: written, messages: reads[0]!.messages + reads[1]!.messages, duplicates: reads[0]!.duplicates + reads[1]!.duplicates };
  };
  const done = run.done.finally(() => (over = true));
  const watch = (async () => {
    // the kill: stage 2 labelling, half of the batches stored (director) / the first stored (oracle, in its hold)
    while (!killedAt && !over) {
      const p = phase as { stage: number; phase: string } | null;
      if (p?.stage === 2 && p.phase === "preparing") {
        const n = await stored().catch(() => 0);
        if (n >= (o.target === "director" ? Math.ceil(expected / 2) : 1)) {
          // the oracle: the one that stored a batch and now holds it unacknowledged
          const id = o.target === "oracle" ? await holder(run, plan.train.lane) : "0";
          const pid = id === null ? undefined : run.supervisor.pidOf(o.target, id);
          if (pid !== undefined) {
            process.kill(pid, "SIGKILL");
            killedAt = { stored: n, at: Date.now() };
            log.info({ pid, target: o.target, stored: n, expected }, "killed in stage 2's labelling");
          }
        }
      }
      await pause(o.target === "director" ? 20 : 50);
    }
  })();
  const result = await done;
  await watch;
  const c = counting ? await (counting as Promise<LabelCount | null>) : null;
  const k = killedAt as { stored: number; at: number } | null;
  return {
    run_id: run.runId,
    killed: o.target,
    killed_stage: k ? 2 : null,
    resumed_stage: o.target === "director" ? resumed : k ? 2 : null,
    labels_at_kill: k?.stored ?? null,
    labels_expected: c?.labels_expected ?? expected,
    labels_written: c?.labels_written ?? 0,
    messages: c?.messages ?? 0,
    duplicates: c?.duplicates ?? 0,
    restarts: result.cast.filter((m) => m.role === o.target).reduce((n, m) => n + (m.restarts ?? 0), 0),
    resumes: result.summary?.resumes ?? 0,
    outcome: result.summary?.outcome ?? result.failure ?? "failed",
    stages: (result.lastSummary?.stages ?? []).filter((s) => s.status !== "omitted").map((s) => ({ stage: s.stage, passed: s.passed, status: s.status, metric: s.metric, attempts: s.attempts })),
    report: result.report?.json ?? null,
    wall_s: Math.round((Date.now() - t0) / 100) / 10,
  };
}
