import { test } from "node:test";
import assert from "node:assert/strict";
import {
  chartDocument,
  chartFormatForPath,
  chartToMermaid,
  formatChart,
  isChartFormatError,
  type ChartState,
} from "../../../actors/director/mod.js";

function find(s: ChartState, path: string): ChartState | undefined {
  if (s.path === path) return s;
  for (const c of s.states) {
    const hit = find(c, path);
    if (hit) return hit;
  }
  return undefined;
}

test("chart export - the JSON graph has every stage with preparing → training → evaluating → gate", () => {
  const doc = chartDocument();
  assert.equal(doc.format, "troupe.director-chart");
  assert.deepEqual(doc.root.states.map((s) => s.path), ["stage0", "stage1", "stage2", "stage3", "stage4", "stage5", "stage6", "done", "stopped", "rolledBack"]);
  for (let n = 0; n <= 6; n++) {
    for (const sub of ["preparing", "training", "evaluating", "gate", "failed", "backoff", "notAvailable", "omitted", "passed"]) {
      assert.ok(find(doc.root, `stage${n}.${sub}`), `stage${n}.${sub}`);
    }
  }
  assert.ok(find(doc.root, "stage6.checkpointing"));
  assert.ok(find(doc.root, "stage6.rollingBack"));
  assert.equal(find(doc.root, "stage1.rollingBack"), undefined, "only stage 6 rolls back");
});

test("chart export - transitions carry their guards and targets", () => {
  const doc = chartDocument();
  const failed = find(doc.root, "stage1.failed")!;
  assert.deepEqual(
    failed.transitions.map((t) => [t.guard, t.targets]),
    [["retriesLeft", ["stage1.backoff"]], [null, ["stopped"]]],
  );
  const training = find(doc.root, "stage3.training")!;
  assert.deepEqual(training.invokes.map((i) => i.src), ["trainStage", "wait"]);
  assert.ok(training.transitions.some((t) => t.event === "train.progress" && t.guard === "progressIsCurrent"));
  assert.deepEqual(doc.root.transitions.find((t) => t.event === "xstate.done.actor.runLimit")?.targets, ["stopped"]);
  assert.deepEqual(JSON.parse(formatChart("json")), JSON.parse(JSON.stringify(doc)), "the JSON is the graph");
});

test("chart export - Mermaid is a flowchart with a subgraph per stage and labelled edges", () => {
  const mmd = chartToMermaid();
  assert.match(mmd, /^flowchart TD\n/);
  for (let n = 0; n <= 6; n++) assert.match(mmd, new RegExp(`subgraph stage${n}\\["stage ${n} · `));
  assert.match(mmd, /stage1_failed -->\|"\[retriesLeft\]"\| stage1_backoff/);
  assert.match(mmd, /stage1_failed -->\|"\[else\]"\| stopped/);
  assert.match(mmd, /stage1_gate -->\|"\[attemptPassed\]"\| stage1_passed/);
  assert.match(mmd, /stage6_rollingBack -->\|"rollback done \[else\]"\| rolledBack/);
  assert.match(mmd, /stage5 -->\|"stage done"\| stage6/);
  assert.match(mmd, /anyState -->\|"runLimit done"\| stopped/);
  const subgraphs = (mmd.match(/^\s*subgraph /gm) ?? []).length;
  const ends = (mmd.match(/^\s*end$/gm) ?? []).length;
  assert.equal(subgraphs, ends, "balanced subgraphs");
});

test("chart export - the file name picks the format; anything else is a typed error", () => {
  assert.equal(chartFormatForPath("out/chart.json"), "json");
  assert.equal(chartFormatForPath("chart.MMD"), "mermaid");
  assert.equal(chartFormatForPath("chart.mermaid"), "mermaid");
  assert.throws(() => chartFormatForPath("chart.png"), (e) => isChartFormatError(e) && /\*\.json or \*\.mmd/.test((e as Error).message));
});
