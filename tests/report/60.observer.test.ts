// The director observer against the real chart: the events of a whole run, in order, and the
// loss curves a recorder builds from them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createDirectorObserver, phaseOf, type ReportEvent } from "../../actors/director/mod.js";
import { samplePlan, sampleRun } from "./sample.js";

const brief = (e: ReportEvent): string => {
  switch (e.type) {
    case "run.started":
      return `run.started ${e.stages.join(",")}`;
    case "stage.started":
      return `stage.started ${e.stage}`;
    case "attempt.started":
      return `attempt.started ${e.stage}/${e.attempt} of ${e.max_attempts} steps ${e.steps}`;
    case "phase":
      return `phase ${e.stage}/${e.attempt} ${e.phase}`;
    case "progress":
      return "progress";
    case "attempt.ended":
      return `attempt.ended ${e.stage}/${e.attempt} ${e.outcome}`;
    case "stage.ended":
      return `stage.ended ${e.stage} ${e.status}`;
    case "run.ended":
      return `run.ended ${e.outcome} ${e.stopped?.kind}`;
  }
};

test("report - observer turns a director run into ordered events", async () => {
  const { events } = await sampleRun();
  const collapsed = events.map(brief).filter((b, i, all) => b !== "progress" || all[i - 1] !== "progress");
  assert.deepEqual(collapsed, [
    "run.started 0,1,2",
    "stage.started 0",
    "attempt.started 0/1 of 1 steps 20",
    "phase 0/1 preparing",
    "phase 0/1 training",
    "phase 0/1 evaluating",
    "attempt.ended 0/1 passed",
    "stage.ended 0 passed",
    "stage.started 1",
    "attempt.started 1/1 of 3 steps 300",
    "phase 1/1 preparing",
    "phase 1/1 training",
    "progress",
    "phase 1/1 evaluating",
    "attempt.ended 1/1 gate_failed",
    "phase 1/1 backoff",
    "attempt.started 1/2 of 3 steps 450",
    "phase 1/2 preparing",
    "phase 1/2 training",
    "progress",
    "phase 1/2 evaluating",
    "attempt.ended 1/2 passed",
    "stage.ended 1 passed",
    "stage.started 2",
    "stage.ended 2 not_available",
    "run.ended stopped not_available",
  ]);
  const progress = events.filter((e) => e.type === "progress");
  assert.equal(progress.length, 300 + 450, "every step the trainer reported");
  const last = progress[progress.length - 1]!;
  assert.equal(last.type === "progress" && last.tokens, 450 * 16 * 128, "tokens from tokensPerStep");
  const failed = events.find((e) => e.type === "attempt.ended" && e.outcome === "gate_failed");
  assert.match(failed?.type === "attempt.ended" ? (failed.verdict ?? "") : "", /heldout_gain 0\.0081 < min 0\.02/);
});

test("report - a stage the scenario leaves out never starts; it ends as omitted and the run is done", async () => {
  const plan = samplePlan();
  const { events, summary } = await sampleRun({ plan: { ...plan, stages: plan.stages.slice(0, 2) } });
  const brief2 = events.filter((e) => e.type === "stage.started" || e.type === "stage.ended" || e.type === "run.ended").map(brief);
  assert.deepEqual(brief2, [
    "stage.started 0", "stage.ended 0 passed", "stage.started 1", "stage.ended 1 passed",
    ...[2, 3, 4, 5, 6].map((n) => `stage.ended ${n} omitted`),
    "run.ended done undefined",
  ]);
  const omitted = events.find((e) => e.type === "stage.ended" && e.stage === 2);
  assert.match(omitted?.type === "stage.ended" ? String(omitted.verdict) : "", /does not list this stage/);
  assert.equal(summary.outcome, "done");
});

test("report - recorder fed by the observer has each attempt's curves", async () => {
  const { recorder, report } = await sampleRun();
  const s1 = recorder.series(1);
  assert.deepEqual(s1.map((a) => a.attempt), [1, 2]);
  assert.equal(s1[0]!.terms.total!.reported, 297);
  assert.equal(s1[0]!.terms.total!.non_finite, 3);
  assert.equal(s1[1]!.terms.sft!.points.length, 450);
  assert.deepEqual(recorder.stages(), [1]);
  assert.deepEqual(report.stages[1]!.series, s1, "the report carries them");
});

test("report - observer emits nothing twice, replays a resumed run, and ignores junk", async () => {
  const { context } = await sampleRun();
  const snap = { value: "stopped", context };
  const o = createDirectorObserver();
  const first = o.observe(snap);
  assert.equal(first[0]!.type, "run.started");
  assert.equal(first.filter((e) => e.type === "stage.ended").length, 3);
  assert.equal(first[first.length - 1]!.type, "run.ended");
  assert.deepEqual(o.observe(snap), [], "same snapshot again: nothing new");
  const resumed = createDirectorObserver().observe({ value: "stopped", context: { ...context, resumes: [123] } });
  assert.equal(resumed[0]!.type === "run.started" && resumed[0]!.resumed, true);
  const junk = createDirectorObserver();
  for (const x of [null, undefined, {}, { value: 1, context: null }, { value: "x", context: { records: "no" } }]) {
    assert.deepEqual(junk.observe(x as never), []);
  }
});

test("report - phaseOf reads the chart's state names", () => {
  assert.deepEqual(phaseOf({ stage1: "training" }), { stage: 1, phase: "training" });
  assert.deepEqual(phaseOf({ stage6: "rollingBack" }), { stage: 6, phase: "rolling_back" });
  assert.equal(phaseOf({ stage2: "gate" }), null);
  assert.equal(phaseOf("done"), null);
});
