// The curriculum statechart, transition by transition, on a SimulatedClock with stubbed
// StageWork (provided to the chart through machine.provide by provideDirector).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createActor, SimulatedClock, waitFor } from "xstate";
import {
  chartDocument,
  directorMachine,
  isNotProvidedError,
  isStageWorkError,
  stateName,
  type ChartState,
  type RunSummary,
} from "../../../actors/director/mod.js";
import { createFakeWork, deferred, evaluation, hang } from "./fake-work.js";
import { flush, launch, reach, state, taken } from "./harness.js";
import { fullPlan, plan, stage } from "./plans.js";

function summary(v: RunSummary | Error): RunSummary {
  if (v instanceof Error) throw v;
  return v;
}

const retry = (max: number, backoffMs = 0) => ({
  max,
  backoffMs,
  change: { lrMult: 0.5, stepsMult: 2, reseed: true },
});

test("chart - a passing curriculum runs stages 0 → 6 → done, prepare/train/evaluate in order", async () => {
  const { h, work } = await launch(fullPlan());
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  assert.deepEqual(s.stages.map((x) => [x.stage, x.passed]), [0, 1, 2, 3, 4, 5, 6].map((n) => [n, true]));
  const ops = work.calls.map((c) => `${c.op}:${c.stage}`);
  const expected = [0, 1, 2, 3, 4, 5].flatMap((n) => [`prepare:${n}`, `train:${n}`, `evaluate:${n}`]);
  expected.push("checkpoint:6", "prepare:6", "train:6", "evaluate:6");
  assert.deepEqual(ops, expected);
  assert.equal(state(h), "done");
  const a = h.context().records[1]!.attempts[0]!;
  assert.deepEqual(a.prepared, { hosts: ["local"] }, "prepare's details are kept");
  assert.equal(a.checkpoint, "ckpt-train-1-1", "the trainer's checkpoint is kept");
  assert.deepEqual(a.details, { stage: 1 }, "the evaluator's details are kept");
});

test("chart - a stage the scenario leaves out is passed over and recorded as omitted", async () => {
  const p = plan([stage(0), stage(1), stage(6, { losses: { sft: { weight: 1, ramp: { kind: "none", steps: 0 } } } })]);
  const { h, work } = await launch(p);
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  assert.deepEqual(s.stages.map((x) => [x.stage, x.status]), [
    [0, "passed"], [1, "passed"], [2, "omitted"], [3, "omitted"], [4, "omitted"], [5, "omitted"], [6, "passed"],
  ]);
  assert.match(s.stages[2]!.note ?? "", /does not list this stage/);
  assert.equal(work.calls.filter((c) => c.stage >= 2 && c.stage <= 5).length, 0);
});

test("chart - an unavailable stage stops the run with a message naming it, not a skip", async () => {
  const { h, work } = await launch(fullPlan(), { available: [0, 1] });
  const s = summary(await h.done);
  assert.equal(state(h), "stopped");
  assert.equal(s.outcome, "stopped");
  assert.equal(s.stopped?.kind, "not_available");
  assert.equal(s.stopped?.stage, 2);
  assert.match(s.stopped!.reason, /^stage 2 \(route \+ vitality heads\) is not available: .*not built yet/);
  assert.equal(s.stages[2]?.status, "not_available");
  assert.equal(s.stages.length, 3, "nothing after stage 2 is entered");
  assert.equal(work.count("prepare", 2), 0);
});

test("chart - a not-available reason given by the runtime appears in the stop message", async () => {
  const { h } = await launch(fullPlan(), { available: [0], unavailableReasons: { 1: "no host advertises a trainer" } });
  const s = summary(await h.done);
  assert.match(s.stopped!.reason, /stage 1 \(domain adapter\) is not available: no host advertises a trainer/);
});

test("chart - a failed gate retries with the retry's changes and then passes", async () => {
  const p = plan([stage(0), stage(1, { steps: 100, lr: 1e-3, retry: retry(2) })]);
  const work = createFakeWork();
  work.metric = (s, a, input) => (s === 1 && a === 1 ? 0 : input.gate.threshold!);
  const { h } = await launch(p, { work });
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  const trains = work.trains(1);
  assert.equal(trains.length, 2);
  const second = trains[1]!.input.attempt;
  assert.deepEqual([second.attempt, second.lr, second.steps, second.seed], [2, 5e-4, 200, 8]);
  assert.deepEqual(second.changes, { lrScale: 0.5, stepsScale: 2, seed: 8 });
  const rec = h.context().records[1]!;
  assert.deepEqual(rec.attempts.map((a) => a.outcome), ["gate_failed", "passed"]);
  assert.equal(rec.attempts[0]!.verdict, "heldout_gain 0 < min 0.02");
  assert.equal(s.stages[1]!.retries, 1);
  assert.equal(s.stages[1]!.steps, 300, "steps add up over attempts");
});

test("chart - an impossible gate exhausts its retries and stops the run with a report saying so", async () => {
  const p = plan([stage(0), stage(1, { retry: retry(2), gate: { metric: "heldout_gain", direction: "higher", threshold: 0.99 } }), stage(2)]);
  const work = createFakeWork();
  work.metric = (s, _a, input) => (s === 1 ? 0.031 : input.gate.threshold!);
  const { h } = await launch(p, { work });
  const s = summary(await h.done);
  assert.equal(state(h), "stopped");
  assert.equal(s.outcome, "stopped");
  assert.equal(s.stopped?.kind, "gate_exhausted");
  assert.equal(s.stopped?.stage, 1);
  assert.match(s.stopped!.reason, /stage 1 \(domain adapter\) did not pass its gate after 3 attempts \(2 retries, the budget\): heldout_gain 0.031 < min 0.99/);
  assert.equal(work.count("train", 1), 3);
  assert.equal(work.count("prepare", 2), 0, "never silently advances");
  assert.deepEqual(
    { passed: s.stages[1]!.passed, metric: s.stages[1]!.metric, threshold: s.stages[1]!.threshold, attempts: s.stages[1]!.attempts },
    { passed: false, metric: 0.031, threshold: 0.99, attempts: 3 },
  );
});

test("chart - stage 4 stable but not improving ends passed_off_path (no retry), and the run goes on", async () => {
  // guards #9 (acceptance: stage 4 ends passed_off_path, never a silent pass)
  const p = plan([stage(0), stage(1), stage(2), stage(3), stage(4, { retry: retry(2) }), stage(5)]);
  const work = createFakeWork();
  work.evaluateImpl = async (input) =>
    input.stage === 4
      ? { metric: -0.004, offPath: "stable (neighbour similarity 0.93), but its gain's 95% lower bound -0.004 is not above 0", details: { off_path: true } }
      : evaluation(input, input.gate.threshold!);
  const { h } = await launch(p, { work });
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  const s4 = s.stages[4]!;
  assert.deepEqual([s4.status, s4.passed, s4.attempts], ["passed_off_path", true, 1], "off the path at once: a retry would only reroll the noise");
  assert.match(s4.verdict!, /sem_gain -0\.004 < min 0; off the critical path: stable \(neighbour similarity 0\.93\)/);
  assert.match(s4.note!, /^passed off the critical path: .*later stages do not use it/);
  assert.equal(work.count("prepare", 5), 1, "stage 5 runs");
  // the other way: an unstable stage 4 (no offPath) is a failed attempt, retried, and stops the run
  const unstable = createFakeWork();
  unstable.evaluateImpl = async (input) => (input.stage === 4 ? { metric: -0.01 } : evaluation(input, input.gate.threshold!));
  const u = summary(await (await launch(p, { work: unstable })).h.done);
  assert.equal(u.stages[4]!.status, "failed");
  assert.equal(u.stages[4]!.attempts, 3);
  assert.equal(u.stopped?.stage, 4);
  // and only stage 4 may end off the path: the same answer from stage 2 is a failure
  const two = createFakeWork();
  two.evaluateImpl = async (input) => (input.stage === 2 ? { ...evaluation(input, -1), offPath: "stable" } : evaluation(input, input.gate.threshold!));
  const t = summary(await (await launch(plan([stage(0), stage(1), stage(2)]), { work: two })).h.done);
  assert.equal(t.stages[2]!.status, "failed");
});

test("chart - an error in prepare, train or evaluate is a failed attempt and is retried", async () => {
  const p = plan([stage(0), stage(1, { retry: retry(3) })]);
  const work = createFakeWork();
  const base = work.trainImpl;
  work.prepareImpl = async (input) => {
    if (input.stage === 1 && input.attempt.attempt === 1) throw new Error("no host has free memory");
  };
  work.trainImpl = async (input, onProgress, signal) => {
    if (input.stage === 1 && input.attempt.attempt === 2) throw new Error("NaN in loss");
    return base(input, onProgress, signal);
  };
  work.evaluateImpl = async (input) => {
    if (input.stage === 1 && input.attempt.attempt === 3) throw new Error("evaluator unreachable");
    return evaluation(input, input.gate.threshold!);
  };
  const { h } = await launch(p, { work });
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  const attempts = h.context().records[1]!.attempts;
  assert.deepEqual(attempts.map((a) => a.outcome), ["error", "error", "error", "passed"]);
  assert.deepEqual(attempts.slice(0, 3).map((a) => a.error?.message), [
    "prepare failed in stage 1 attempt 1: no host has free memory",
    "train failed in stage 1 attempt 2: NaN in loss",
    "evaluate failed in stage 1 attempt 3: evaluator unreachable",
  ]);
  assert.equal(attempts[0]!.error?.code, "DIRECTOR_WORK");
});

test("chart - backoff waits on the injected clock before the next attempt", async () => {
  const p = plan([stage(0), stage(1, { retry: retry(1, 5000) })]);
  const work = createFakeWork();
  work.metric = (s, a, input) => (s === 1 && a === 1 ? -1 : input.gate.threshold!);
  const { h, clock } = await launch(p, { work });
  await reach(h, "stage1.backoff");
  await flush();
  assert.equal(work.count("prepare", 1), 1);
  clock.increment(4999);
  await flush();
  assert.equal(state(h), "stage1.backoff");
  clock.increment(1);
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  assert.equal(work.count("prepare", 1), 2);
  const rec = h.context().records[1]!;
  assert.equal(rec.attempts[1]!.startedAt - rec.attempts[0]!.endedAt!, 5000);
});

test("chart - an attempt past its deadline times out, is aborted and retried", async () => {
  const p = plan([stage(0), stage(1, { timeoutMs: 60_000, retry: retry(1) })]);
  const work = createFakeWork();
  const base = work.trainImpl;
  work.trainImpl = (input, onProgress, signal) =>
    input.attempt.attempt === 1 && input.stage === 1 ? hang(signal) : base(input, onProgress, signal);
  const { h, clock } = await launch(p, { work });
  await reach(h, "stage1.training");
  clock.increment(59_999);
  await flush();
  assert.equal(state(h), "stage1.training");
  clock.increment(1);
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  assert.ok(work.aborted.includes("train:1:1"), "the hung train call was aborted");
  const a1 = h.context().records[1]!.attempts[0]!;
  assert.equal(a1.outcome, "timeout");
  assert.match(a1.error!.message, /attempt 1 of stage 1 \(domain adapter\) timed out after 60 s/);
  assert.equal(a1.endedAt! - a1.startedAt, 60_000);
});

test("chart - train progress updates step, losses and λ; reports from another attempt are ignored", async () => {
  const p = plan([stage(0), stage(1), stage(2, { steps: 100 })]);
  const work = createFakeWork();
  const release = deferred();
  const base = work.trainImpl;
  work.trainImpl = async (input, onProgress, signal) => {
    if (input.stage !== 2) return base(input, onProgress, signal);
    onProgress({ step: 25, losses: { total: 3, route: 1.2, vit: 0.7 } });
    onProgress({ step: 50, losses: { total: 2.5, route: 1.4, vit: 0.5 } });
    await release.promise;
    return { steps: 100 };
  };
  const { h } = await launch(p, { work });
  await reach(h, "stage2.training");
  await flush();
  const progress = h.context().progress!;
  assert.deepEqual([progress.stage, progress.attempt, progress.step, progress.steps], [2, 1, 50, 100]);
  assert.equal(progress.lambdas.route, 1, "route ramps linearly over 50 steps");
  assert.ok(Math.abs(progress.lambdas.vit - 0.5) < 1e-12, "vit ramps (cosine) to its weight 0.5");
  assert.equal(progress.lambdas.depth, 0);
  h.actor.send({ type: "train.progress", stage: 2, attempt: 7, step: 99, losses: { total: 0 } });
  h.actor.send({ type: "train.progress", stage: 1, attempt: 1, step: 99, losses: { total: 0 } });
  assert.equal(h.context().progress!.step, 50);
  const attempt = h.context().records[2]!.attempts[0]!;
  assert.deepEqual(attempt.losses.first, { total: 3, route: 1.2, vit: 0.7 });
  assert.deepEqual(attempt.losses.min, { total: 2.5, route: 1.2, vit: 0.5 });
  release.resolve();
  assert.equal(summary(await h.done).outcome, "done");
});

test("chart - the run time limit stops the run wherever it is and aborts the work", async () => {
  const p = plan([stage(0), stage(1)], { runTimeoutMs: 1000 });
  const work = createFakeWork();
  work.trainImpl = async (_input, _p, signal) => hang(signal);
  const { h, clock } = await launch(p, { work });
  await reach(h, "stage0.training");
  clock.increment(1000);
  const s = summary(await h.done);
  assert.equal(s.stopped?.kind, "run_timeout");
  assert.match(s.stopped!.reason, /time limit \(limits.run_timeout_s = 1 s\) during stage 0 \(baseline\)/);
  assert.ok(work.aborted.includes("train:0:1"));
  assert.equal(s.wall_s, 1);
});

test("chart - stage 6 keeps a rollback checkpoint, rolls back a failed attempt, then retries", async () => {
  const p = fullPlan();
  const s6 = { ...p.stages[6]!, retry: retry(1) };
  const work = createFakeWork();
  work.metric = (s, a, input) => (s === 6 && a === 1 ? -0.1 : input.gate.threshold!);
  const { h, runId } = await launch({ ...p, stages: [...p.stages.slice(0, 6), s6] }, { work });
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  const ops = work.calls.filter((c) => c.stage === 6).map((c) => `${c.op}:${c.attempt}`);
  assert.deepEqual(ops, ["checkpoint:0", "prepare:1", "train:1", "evaluate:1", "rollback:1", "prepare:2", "train:2", "evaluate:2"]);
  const rb = work.calls.find((c) => c.op === "rollback")!;
  assert.equal((rb.input as { checkpointId: string }).checkpointId, `ckpt-${runId}-stage6`);
  assert.equal(h.context().records[6]!.checkpointId, `ckpt-${runId}-stage6`);
});

test("chart - stage 6 that never improves rolls back and ends rolled_back (not done, not silent)", async () => {
  const work = createFakeWork();
  work.metric = (s, _a, input) => (s === 6 ? -0.2 : input.gate.threshold!);
  const { h } = await launch(fullPlan(), { work });
  const s = summary(await h.done);
  assert.equal(state(h), "rolledBack");
  assert.equal(s.outcome, "rolled_back");
  assert.equal(s.stages[6]!.status, "rolled_back");
  assert.match(s.stages[6]!.note!, /did not improve after 1 attempt \(quality_per_compute_gain -0.2 < min 0\); rolled back to checkpoint ckpt-/);
  assert.equal(work.count("rollback", 6), 1);
});

test("chart - stage 6 stops the run if the rollback checkpoint cannot be saved", async () => {
  const work = createFakeWork();
  work.checkpointImpl = async () => {
    throw new Error("object store full");
  };
  const { h } = await launch(fullPlan(), { work });
  const s = summary(await h.done);
  assert.equal(s.stopped?.kind, "checkpoint_failed");
  assert.match(s.stopped!.reason, /could not save its rollback checkpoint \(.*object store full\)/);
  assert.equal(work.count("train", 6), 0, "the joint finetune did not start");
});

test("chart - stage 6 stops the run, naming the checkpoint, if the rollback fails", async () => {
  const work = createFakeWork();
  work.metric = (s, _a, input) => (s === 6 ? -1 : input.gate.threshold!);
  work.rollbackImpl = async () => {
    throw new Error("checkpoint missing");
  };
  const { h } = await launch(fullPlan(), { work });
  const s = summary(await h.done);
  assert.equal(s.stopped?.kind, "rollback_failed");
  assert.match(s.stopped!.reason, /restore checkpoint ckpt-.*-stage6 by hand/);
});

test("chart - the evaluator's measured threshold is used when the plan sets none", async () => {
  const p = plan([stage(0), stage(1, { gate: { metric: "heldout_gain", direction: "higher", threshold: null } })]);
  const work = createFakeWork();
  work.evaluateImpl = async (input) => (input.stage === 1 ? { metric: 0.4, threshold: 0.5 } : evaluation(input, 1));
  const { h } = await launch(p, { work });
  const s = summary(await h.done);
  assert.equal(s.stopped?.kind, "gate_exhausted");
  assert.deepEqual([s.stages[1]!.metric, s.stages[1]!.threshold], [0.4, 0.5]);
});

test("chart - the bare machine refuses to run without its StageWork and clock", async () => {
  const actor = createActor(directorMachine, {
    input: { runId: "bare", plan: fullPlan(), available: [0], startedAt: 0 },
    clock: new SimulatedClock(),
  });
  const failed = new Promise<unknown>((resolve) => actor.subscribe({ error: resolve }));
  actor.start();
  const err = await failed;
  assert.ok(isNotProvidedError(err), String(err));
  assert.match((err as Error).message, /provideDirector/);
});

test("chart - StageWork errors are typed with op, stage and attempt", async () => {
  const p = plan([stage(0)]);
  const work = createFakeWork();
  let seen: unknown;
  work.evaluateImpl = async () => {
    throw new TypeError("bad metric");
  };
  const { h } = await launch(p, { work });
  await h.done;
  seen = h.context().records[0]!.attempts[0]!.error;
  assert.deepEqual(seen, { name: "StageWorkError", code: "DIRECTOR_WORK", message: "evaluate failed in stage 0 attempt 1: bad metric" });
  assert.equal(isStageWorkError(new Error("x")), false);
});

test("chart - the attempt deadline also covers preparing and evaluating", async () => {
  const p = plan([stage(0), stage(1, { timeoutMs: 1000, retry: retry(2) })]);
  const work = createFakeWork();
  work.prepareImpl = (input, signal) => (input.stage === 1 && input.attempt.attempt === 1 ? hang(signal) : Promise.resolve());
  work.evaluateImpl = (input, signal) =>
    input.stage === 1 && input.attempt.attempt === 2 ? hang(signal) : Promise.resolve(evaluation(input, input.gate.threshold!));
  const { h, clock } = await launch(p, { work });
  await reach(h, "stage1.preparing");
  clock.increment(1000);
  await reach(h, "stage1.evaluating");
  clock.increment(1000);
  const s = summary(await h.done);
  assert.equal(s.outcome, "done");
  assert.deepEqual(h.context().records[1]!.attempts.map((a) => a.outcome), ["timeout", "timeout", "passed"]);
  assert.ok(work.aborted.includes("prepare:1:1") && work.aborted.includes("evaluate:1:2"));
});

test("chart - in stage 6 every kind of failed attempt is rolled back before the next", async () => {
  const p = fullPlan();
  const s6 = { ...p.stages[6]!, timeoutMs: 1000, retry: retry(5) };
  const work = createFakeWork();
  const base = work.trainImpl;
  const n = (input: { stage: number; attempt: { attempt: number } }) => (input.stage === 6 ? input.attempt.attempt : 0);
  work.prepareImpl = async (input, signal) => {
    if (n(input) === 1) throw new Error("prepare broke");
    if (n(input) === 4) await hang(signal);
  };
  work.trainImpl = async (input, onProgress, signal) => {
    if (n(input) === 2) throw new Error("train broke");
    if (n(input) === 5) await hang(signal);
    return base(input, onProgress, signal);
  };
  work.evaluateImpl = async (input, signal) => {
    if (n(input) === 3) throw new Error("evaluate broke");
    if (n(input) === 6) await hang(signal);
    return evaluation(input, input.gate.threshold!);
  };
  const { h, clock } = await launch({ ...p, stages: [...p.stages.slice(0, 6), s6] }, { work });
  for (const [attempt, where] of [[4, "preparing"], [5, "training"], [6, "evaluating"]] as const) {
    await waitFor(h.actor, (x) => x.context.attempt === attempt && stateName(x.value) === `stage6.${where}`, { timeout: 2000 });
    clock.increment(1000);
  }
  const s = summary(await h.done);
  assert.equal(s.outcome, "rolled_back");
  assert.deepEqual(h.context().records[6]!.attempts.map((a) => a.outcome), ["error", "error", "error", "timeout", "timeout", "timeout"]);
  assert.deepEqual(work.calls.filter((c) => c.op === "rollback").map((c) => c.attempt), [1, 2, 3, 4, 5, 6]);
});

test("chart - stage 6 not available stops the run after stage 5", async () => {
  const { h, work } = await launch(fullPlan(), { available: [0, 1, 2, 3, 4, 5] });
  const s = summary(await h.done);
  assert.equal(s.stopped?.kind, "not_available");
  assert.equal(s.stopped?.stage, 6);
  assert.equal(work.count("checkpoint"), 0, "no checkpoint for a stage that cannot run");
});

test("chart - the tests above take every transition of the chart", () => {
  // Stages 0-5 share one shape, so their transitions are compared with the stage number
  // blanked; stage 6 and the root are compared as they are. Transitions without a target
  // (progress, resume) are not edges.
  const norm = (s: string) => s.replace(/stage[0-5]/g, "stageN");
  const doc = chartDocument();
  const all = new Set<string>();
  const visit = (st: ChartState) => {
    for (const t of st.transitions) if (t.targets.length > 0) all.add(norm(`${st.path} -${t.event}-> ${t.targets.join(",")}`));
    st.states.forEach(visit);
  };
  visit(doc.root);
  const seen = new Set([...taken].map(norm));
  const missing = [...all].filter((t) => !seen.has(t)).sort();
  assert.deepEqual(missing, [], `transitions no test took:\n${missing.join("\n")}`);
  assert.ok(all.size > 40, `only ${all.size} transitions found`);
});
