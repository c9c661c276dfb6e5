// The control-plane drills' counters, shown moving the other way: a cancelled job, a stale
// final checkpoint, a failed job, a long stall, a point that never came and a second owner
// each fail the verdict (the drills themselves run in tests/cli/40 and 41).
import { test } from "node:test";
import assert from "node:assert/strict";
import { auditJobStates, gatesDecided } from "../../actors/chaos/audit.js";
import { type BlipRun, judgeBlips } from "../../actors/chaos/nats-blip.js";
import { judgeDuel } from "../../actors/chaos/director-duel.js";
import type { CastRun, CastRunResult, JobState } from "../../actors/cast/mod.js";

function job(over: Partial<JobState>): JobState {
  return {
    jobId: "s1-a1", kind: "adapter", stage: 1, attempt: 1, state: "done", step: 300, steps: 300, deliveries: 1, resumedFrom: [], checkpoint: null,
    result: { steps: 300, trainLoss: 1, firstLoss: 2, tokensPerS: 1, wallMs: 1, removedHeldOut: 0, examples: 1, final: { bucket: "checkpoints", run: "r", stage: "s1-a1", step: 300, kind: "step" } },
    error: null, cancel: null, cancelEpoch: null, pids: [], updatedAt: 0, ...over,
  };
}

test("drill verdicts - the job audit counts cancelled, stale-final, failed jobs and refused cancels", () => {
  assert.deepEqual(auditJobStates([job({})]).cancelled_jobs + auditJobStates([job({})]).stale_final + auditJobStates([job({})]).failed_jobs, 0);
  const stale = job({ jobId: "s1-a2", result: { ...job({}).result!, final: { ...job({}).result!.final, step: 200 } } });
  const a = auditJobStates([
    job({}),
    stale,
    job({ jobId: "c", state: "cancelled", cancel: "timed out" }),
    job({ jobId: "pending-cancel", state: "running", cancel: "asked", result: null }),
    job({ jobId: "f", state: "failed", error: "timeout", result: null }),
    job({ jobId: "r", refusedCancels: 2 }),
  ]);
  assert.deepEqual([a.jobs, a.cancelled_jobs, a.stale_final, a.failed_jobs, a.refused_cancels], [6, 2, 1, 1, 2]);
});

function blipRun(over: Partial<BlipRun>): BlipRun {
  return {
    run_id: "r", point: "last-step", outage_s: 4, killed_in: "stage1.training", killed_at_step: 290, stall_s: 5, outcome: "done", gates_decided: true,
    stages: [], cancelled_jobs: 0, stale_final: 0, failed_jobs: 0, curve_missing_steps: 0, refused_cancels: 0, director_restarts: 0, trainer_restarts: 0, jobs: [], wall_s: 1, ...over,
  };
}

test("drill verdicts - nats-blip fails on a stall past the outage + 10 s, a lost blip, a cancel, a stale final, a failed job, a cut loss curve, a run not done", () => {
  assert.equal(judgeBlips([blipRun({}), blipRun({ outage_s: 0.4, stall_s: 10.4 })], 1).ok, true);
  const bad: Partial<BlipRun>[] = [
    { stall_s: 14.1 }, { stall_s: null }, { killed_in: null }, { cancelled_jobs: 1 }, { stale_final: 1 }, { failed_jobs: 1 }, { outcome: "stopped" }, { gates_decided: false },
    { curve_missing_steps: 299 }, { curve_missing_steps: null },
  ];
  for (const b of bad) assert.equal(judgeBlips([blipRun({}), blipRun(b)], 1).ok, false, JSON.stringify(b));
  const r = judgeBlips([blipRun({ stall_s: 3 }), blipRun({ stall_s: 7, cancelled_jobs: 2, stale_final: 1, outcome: "stopped" }), blipRun({ killed_in: null, stall_s: null })], 1);
  assert.deepEqual([r.outages, r.runs, r.runs_done, r.cancelled_jobs, r.stale_final, r.max_stall_s], [2, 3, 2, 2, 1, 7]);
});

test("drill verdicts - director-duel counts every director that acted as owner after the takeover", () => {
  const run = { runId: "r", spec: { curriculum: { stages: [{ stage: 0 }, { stage: 1 }] } } } as unknown as CastRun;
  const result = { summary: { outcome: "done" }, failure: null, lastSummary: { stages: [] }, report: null } as unknown as CastRunResult;
  const audit = auditJobStates([job({})]);
  const lease = (epoch: number, id: number, at: number) => ({ epoch, holder: `troupe.r.director.${id}`, host: "h", pid: id, since: at, renewedAt: at, at });
  const write = (from: number, at: number) => ({ key: "r", revision: at, value: "{}", from: `troupe.r.director.${from}`, created: at, update: true, at });
  const seen = { rivalAt: 100, started: { state: "stage1.training", step: 60 }, leaseEpochs: [lease(1, 0, 0), lease(2, 1, 150)], events: [] };
  assert.equal(judgeDuel(run, result, audit, { ...seen, writes: [write(0, 120), write(1, 160), write(1, 170)] }, 0).owners_at_end, 1);
  // the other way: the displaced director kept saving after the takeover
  assert.equal(judgeDuel(run, result, audit, { ...seen, writes: [write(1, 160), write(0, 165)] }, 0).owners_at_end, 2);
  // a save the displaced director checked before the lease moved may land before the rival's
  // take-over write (CI saw one land 1 revision after the lease): not an owner; after it, one
  assert.equal(judgeDuel(run, result, audit, { ...seen, writes: [write(0, 155), write(1, 160), write(1, 170)] }, 0).owners_at_end, 1);
  assert.equal(judgeDuel(run, result, audit, { ...seen, writes: [write(0, 155), write(1, 160), write(0, 161)] }, 0).owners_at_end, 2);
  // with no rival write seen, any write after the lease counts
  assert.equal(judgeDuel(run, result, audit, { ...seen, writes: [write(0, 155)] }, 0).owners_at_end, 2);
  // and a rival that never took the lease is no duel at all
  assert.equal(judgeDuel(run, result, audit, { ...seen, leaseEpochs: [lease(1, 0, 0)], writes: [] }, 0).owners_at_end, 0);
});

test("drill verdicts - gates are decided only when every listed stage has a metric and a verdict", () => {
  const st = (stage: number, status: string, metric: number | null) => ({ stage, status, metric });
  const summary = (stages: unknown[]) => ({ run_id: "r", outcome: "done", stages, wall_s: 1, resumes: 0 }) as never;
  assert.equal(gatesDecided(summary([st(0, "passed", 1), st(1, "failed", 0.05)]), [0, 1]), true);
  assert.equal(gatesDecided(summary([st(0, "passed", 1), st(1, "running", null)]), [0, 1]), false);
  assert.equal(gatesDecided(summary([st(0, "passed", 1)]), [0, 1]), false);
  assert.equal(gatesDecided(null, [0]), false);
});
