import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { lambdasAt, termsSwitchedOn } from "../../actors/director/mod.js";
import { isScenarioError, isScenarioReadError, loadScenario, parseScenario } from "../../scenarios/mod.js";
import { fixtures, fullCurriculum, quickstart, repoRoot } from "./paths.js";

test("scenario - quickstart: all seven stages on real prompt pack domains, the base never sees stage 1's domain", () => {
  // guards #5: the quickstart once named domains and a difficulty that do not exist
  const p = loadScenario(quickstart);
  assert.equal(p.run.name, "quickstart");
  assert.deepEqual(p.curriculum.stages.map((s) => [s.stage, s.gate.metric, s.gate.direction]), [
    [0, "base_em_gain", "higher"],
    [1, "em_gain", "higher"],
    [2, "route_gain", "higher"],
    [3, "depth_kl", "lower"],
    [4, "sem_gain", "higher"],
    [5, "transfer_kl", "lower"],
    [6, "quality_per_compute_gain", "higher"],
  ]);
  // stage 6 is judged on its interval: a noisy gain rolls back
  assert.equal(p.curriculum.stages[6]!.gate.interval, true);
  assert.equal(p.run.outDir, join(repoRoot, "runs"));
  const lane = (name: string) => {
    const l = p.data.lanes[name]!;
    assert.equal(l.kind, "prompt_pack");
    return l as Extract<typeof l, { kind: "prompt_pack" }>;
  };
  const base = lane(p.model.base!.pretrain.lane);
  // stage 1 trains on reversal interleaved with a replay of the base's domains
  const mix = p.data.lanes[p.curriculum.stages[1]!.lane!]!;
  assert.equal(mix.kind, "mix");
  const adapt = lane((mix as Extract<typeof mix, { kind: "mix" }>).lanes[0]!);
  assert.ok(adapt.domains!.every((d) => !base.domains!.includes(d)), "stage 1 adapts to a domain the base never saw");
  assert.equal(lane(p.curriculum.stages[1]!.evalLane!).split, "heldout");
  assert.equal(p.curriculum.stages[0]!.splitAgreement, 0.9);
  assert.equal(p.curriculum.stages[1]!.splitAgreement, undefined);
  // guards #14: stage 1's held-out cut has longer strings than most of its training
  assert.deepEqual(adapt.responseLength, { min: 0, max: 6 });
  assert.deepEqual(lane(p.curriculum.stages[1]!.evalLane!).difficulty, ["hard"]);
});

test("scenario - a prompt-pack lane's response_length becomes the plan's responseLength, and a reversed range is an error", () => {
  const text = (len: string) =>
    [
      "run: { name: x }",
      "model: { vocab: 256, block: 64, n_embd: 64, n_head: 4, n_layer: 4 }",
      `data: { lanes: { long: { kind: prompt_pack, domains: [reversal], split: heldout, response_length: ${len} } } }`,
      "curriculum: { stages: [ { stage: 0, steps: 1, gate: { metric: base_em_gain, min: 0.1 } } ] }",
    ].join("\n");
  const lane = parseScenario(text("{ min: 7 }"), "x.yaml").data.lanes["long"]!;
  assert.deepEqual(lane.kind === "prompt_pack" ? lane.responseLength : null, { min: 7, max: null });
  assert.throws(() => parseScenario(text("{ min: 7, max: 3 }"), "x.yaml"), /x.yaml:3 data.lanes.long.response_length.max: max \(3\) is below min \(7\)/);
  assert.throws(() => parseScenario(text("{ longest: 3 }"), "x.yaml"), /data.lanes.long.response_length.longest: unknown key/);
});

test("scenario - the full curriculum lists stages 0-6 on this machine with a gate per stage", () => {
  const p = loadScenario(fullCurriculum);
  assert.equal(p.run.name, "full-curriculum");
  assert.equal(p.hostsDeclared, false);
  assert.deepEqual(p.hosts.map((h) => h.name), ["local"]);
  assert.deepEqual(p.curriculum.stages.map((s) => s.stage), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(
    p.curriculum.stages.map((s) => [s.gate.metric, s.gate.direction]),
    [
      ["base_em_gain", "higher"],
      ["heldout_gain", "higher"],
      ["route_gain", "higher"],
      ["depth_kl", "lower"],
      ["sem_gain", "higher"],
      ["transfer_kl", "lower"],
      ["quality_per_compute_gain", "higher"],
    ],
  );
  assert.equal(p.run.outDir, join(repoRoot, "runs"));
  assert.equal(p.cast.oracle.count, 2);
  assert.equal(p.model.lora?.r, 8);
  assert.equal(p.curriculum.runTimeoutMs, 7_200_000);
  assert.equal(p.curriculum.stages[2]!.timeoutMs, 1_800_000, "limits.attempt_timeout_s is the default per stage");
});

test("scenario - the full curriculum switches each λ on in its own stage and ramps it", () => {
  const c = loadScenario(fullCurriculum).curriculum;
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((s) => termsSwitchedOn(c, s as 1)), [["sft"], ["route", "vit"], ["depth"], ["sem"], ["transfer"], []]);
  assert.equal(lambdasAt(c, 2, 0).route, 0, "route starts at 0");
  assert.equal(lambdasAt(c, 2, 50).route, 0.5);
  assert.equal(lambdasAt(c, 2, 100).route, 1);
  assert.equal(lambdasAt(c, 6, 0).depth, 0.5, "stage 6 starts carried-over terms at their weight");
});

test("scenario - retry policy: a stage's retry replaces the defaults; defaults fill the rest", () => {
  const c = loadScenario(fullCurriculum).curriculum;
  assert.deepEqual(c.stages[1]!.retry, { max: 2, backoffMs: 5000, change: { lrMult: 0.5, stepsMult: 1.5, reseed: true } });
  assert.deepEqual(c.stages[3]!.retry, { max: 1, backoffMs: 5000, change: { lrMult: 0.5, stepsMult: 1, reseed: true } });
  assert.equal(c.stages[3]!.batch, 16);
});

test("scenario - hosts, placement, file lanes and measured thresholds", () => {
  const p = loadScenario(join(fixtures, "two-hosts.yaml"));
  assert.deepEqual(p.hosts.map((h) => [h.name, h.backends]), [["mac4", ["cpu", "mlx"]], ["linux1", ["cpu"]]]);
  assert.deepEqual(p.cast.trainer, { count: 1, on: ["mac4"], tags: ["thunderbolt"], cores: 8, onHostLoss: null, backend: "mlx" });
  assert.deepEqual([p.cast.teacher.on, p.cast.teacher.onHostLoss], [["linux1"], "replace"]);
  assert.deepEqual(p.cast.evaluator, { count: 1, on: [], tags: [], cores: null, onHostLoss: null, backend: null }, "roles not listed: one, anywhere");
  assert.deepEqual(p.placement, { strategy: "pack", waitMs: 120_000, deadAfterMs: 2000, onHostLoss: "stop" });
  const pairs = p.data.lanes["pairs"]!;
  assert.equal(pairs.kind, "jsonl");
  assert.equal(pairs.kind === "jsonl" ? pairs.path : "", join(fixtures, "data", "pairs.jsonl"));
  assert.deepEqual(p.data.lanes["heldout"], { kind: "prompt_pack", seed: 9, domains: null, difficulty: ["hard"], count: null, split: "heldout", responseLength: null, options: { max_len: 96 } });
  assert.deepEqual(p.curriculum.stages.map((s) => s.stage), [0, 1, 2, 5]);
  assert.equal(p.curriculum.stages[2]!.gate.threshold, null, "no min/max: the evaluator measures the threshold");
  assert.deepEqual(p.curriculum.stages[2]!.losses.route?.ramp, { kind: "cosine", steps: 40 }, "defaults.ramp");
  assert.deepEqual(p.curriculum.stages[3]!.codecs, ["f16", "q8_0"]);
  assert.equal(p.curriculum.stages[3]!.timeoutMs, 600_000);
  assert.deepEqual(p.model.lora?.blocks, [3, 4, 5]);
});

test("scenario - every problem in a file is reported at once, sorted by line", () => {
  const text = [
    "run: { name: Bad Name }", // 1
    "model: { vocab: 1, block: 64, n_embd: 64, n_head: 4, n_layer: 4, colour: red }", // 2
    "curriculum:", // 3
    "  stages:", // 4
    "    - { stage: 0, steps: 0, gate: { metric: base_em_gain, min: 0.1 } }", // 5
  ].join("\n");
  assert.throws(
    () => parseScenario(text, "inline.yaml"),
    (e) => {
      assert.ok(isScenarioError(e));
      assert.deepEqual(e.issues.map((i) => `${i.line} ${i.path}`), [
        "1 run.name",
        "2 model.vocab",
        "2 model.colour",
        "5 curriculum.stages.0.steps",
      ]);
      assert.match(e.message, /^inline.yaml:1 run.name: "Bad Name" is not valid: use lower-case letters/);
      assert.match(e.message, /\ninline.yaml:2 model.vocab: must be at least 2, got 1\n/);
      assert.equal(e.code, "SCENARIO_INVALID");
      return true;
    },
  );
});

test("scenario - data files are only checked when asked", () => {
  const text = [
    "run: { name: x }",
    "model: { vocab: 256, block: 64, n_embd: 64, n_head: 4, n_layer: 4 }",
    "data: { lanes: { c: { kind: text, path: nowhere.txt } } }",
    "curriculum: { stages: [ { stage: 0, steps: 1, gate: { metric: base_em_gain, min: 0.1 } } ] }",
  ].join("\n");
  assert.throws(() => parseScenario(text, "x.yaml", { baseDir: "/tmp" }), /x.yaml:3 data.lanes.c.path: file not found: \/tmp\/nowhere.txt/);
  const p = parseScenario(text, "x.yaml", { baseDir: "/tmp", checkFiles: false });
  assert.deepEqual(p.data.lanes["c"], { kind: "text", path: "/tmp/nowhere.txt", options: null });
});

test("scenario - a file that cannot be read is a ScenarioReadError", () => {
  assert.throws(() => loadScenario("no/such/scenario.yaml"), (e) => isScenarioReadError(e) && /no\/such\/scenario.yaml: no such file/.test(e.message));
  assert.throws(() => loadScenario(fixtures), (e) => isScenarioReadError(e) && /is a directory/.test(e.message));
});

test("scenario - the plan is plain JSON", () => {
  for (const file of [quickstart, fullCurriculum]) {
    const p = loadScenario(file);
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p);
  }
});
