// models - determinism and bit-exact resumption: the same steps give bitwise the same losses
// and weights in one process and in another; a run stopped after a checkpoint and resumed
// repeats the straight run bit for bit (text windows, dropout, accumulation, AdamW, LoRA SFT).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { corpusFromText } from "../../data/mod.js";
import { detRun, DET_MODEL } from "./det-run.js";
import { K, M, repoRoot, tempDir, toyText } from "./helpers.js";

test("resume - the same 20 steps twice in one process are bitwise identical", async () => {
  const a = await detRun(20);
  const b = await detRun(20);
  assert.equal(a.losses.length, 20);
  assert.ok(a.losses.every((x, i) => Object.is(x, b.losses[i])), "losses");
  assert.equal(a.digest, b.digest);
  assert.ok(Object.is(a.result.valLoss, b.result.valLoss));
});

test("resume - the same 20 steps in another process are bitwise identical", async () => {
  const here = await detRun(20);
  const r = spawnSync(process.execPath, [join(repoRoot, "dist/tests/models/det-run.js")], { encoding: "utf8", env: { ...process.env, TROUPE_LOG_LEVEL: "warn" } });
  assert.equal(r.status, 0, r.stderr);
  const there = JSON.parse(r.stdout) as { losses: number[]; digest: string; val: number };
  assert.ok(here.losses.every((x, i) => Object.is(x, there.losses[i])), `losses differ: ${JSON.stringify(here.losses.slice(0, 3))} vs ${JSON.stringify(there.losses.slice(0, 3))}`);
  assert.equal(here.digest, there.digest);
  assert.ok(Object.is(here.result.valLoss, there.val));
});

test("resume - a text run aborted at step 12 (a checkpoint of that step) and resumed equals the straight run", async () => {
  using dir = tempDir();
  const straight = await detRun(20);
  const store = M.localCheckpointStore(dir.path);
  const checkpoints = { store, run: "det", stage: "train", every: 5 };
  const ac = new AbortController();
  const first: number[] = [];
  await assert.rejects(M.trainText({
    corpus: corpusFromText(toyText(), { name: "toy" }), model: DET_MODEL, steps: 20, batch: 4, accumulate: 2,
    lr: 3e-3, warmupSteps: 3, minLr: 3e-4, evalEvery: 5, evalBatches: 2, seed: 5, checkpoints, signal: ac.signal,
    onStep: (r) => { first.push(r.loss); if (r.step === 12) ac.abort(); },
  }), M.isTrainingAbortedError);
  const resumed = await detRun(20, { checkpoints, resume: true });
  // an abort keeps its last complete step (guards #10: Ctrl-C saves); kill -9 is chaos resume's
  assert.equal(resumed.result.resumedFrom, 12);
  assert.equal(resumed.losses.length, 8);
  const trajectory = [...first.slice(0, 12), ...resumed.losses];
  assert.ok(trajectory.every((x, i) => Object.is(x, straight.losses[i])), "step for step, bitwise");
  assert.equal(resumed.digest, straight.digest);
  assert.ok(Object.is(resumed.result.valLoss, straight.result.valLoss));
});

test("resume - a LoRA adapter run on the prompt pack resumes bit-exactly too", async () => {
  using dir = tempDir();
  const data = await M.packData(["copying"], { trainPerCell: 40, heldOutPerCell: 8, block: 32 });
  const base = () => M.createGpt({ vocabSize: 256, blockSize: 32, nEmbd: 32, nHead: 2, nLayer: 2 }, 9);
  const opts = { data, steps: 12, batch: 8, lr: 3e-3, evalEvery: 4, seed: 3 };
  const run = async (extra: Partial<M.SftTrainOptions>) => {
    const model = base();
    M.applyLora(model, { rank: 4, dropout: 0.1 }, { seed: 1 });
    const losses: number[] = [];
    const r = await M.trainSft({ ...opts, model, ...extra, onStep: (s) => { losses.push(s.loss); extra.onStep?.(s); } });
    return { losses, r, digest: M.weightsDigest(model) };
  };
  const straight = await run({});
  const checkpoints = { store: M.localCheckpointStore(dir.path), run: "lora", stage: "adapter", every: 4 };
  const ac = new AbortController();
  const first = await run({ checkpoints, signal: ac.signal, onStep: (s) => { if (s.step === 6) ac.abort(); } }).catch((e) => e);
  assert.ok(M.isTrainingAbortedError(first));
  const resumed = await run({ checkpoints, resume: true });
  assert.equal(resumed.r.resumedFrom, 6, "the abort kept step 6 (#10)");
  assert.ok(resumed.losses.every((x, i) => Object.is(x, straight.losses[i + 6])), "steps 7..12 bitwise");
  assert.equal(resumed.digest, straight.digest);
  void K;
});

test("resume - resuming on other kernels says the continuation will not be bitwise identical", async () => {
  using dir = tempDir();
  const checkpoints = { store: M.localCheckpointStore(dir.path), run: "k", stage: "train", every: 2 };
  await detRun(20, { steps: 2, checkpoints });
  const warnings: string[] = [];
  const log = { info: () => undefined, error: () => undefined, warn: (_o: unknown, msg: string) => warnings.push(msg) } as unknown as M.Logger;
  const portable = K.kernelInfo().kernels === "portable" ? "reference" : "portable";
  const before = K.currentKernelSettings();
  K.configureKernels({ mode: portable });
  try {
    await detRun(20, { steps: 3, checkpoints, resume: true, log });
  } finally {
    K.configureKernels(before);
  }
  assert.ok(warnings.some((w) => /not be bitwise identical/.test(w)), JSON.stringify(warnings));
});
// guards #16 (item 12): OpenBLAS results change with the thread count; our own kernels' do not
test("resume - what a change of kernels, BLAS or threads means for bitwise resumption", () => {
  const own = { kernels: "avx512", blas: null, blasCore: "", threads: 2 };
  const blas = { kernels: "avx512", blas: "openblas", blasCore: "Haswell", threads: 2 };
  assert.deepEqual(M.kernelChange(own, own), { changes: [], bitwise: true });
  assert.deepEqual(M.kernelChange(own, { ...own, threads: 1 }), { changes: ["threads 2 → 1"], bitwise: true });
  assert.deepEqual(M.kernelChange(blas, { ...blas, threads: 1 }), { changes: ["threads 2 → 1"], bitwise: false });
  assert.deepEqual(M.kernelChange(blas, { ...blas, blasCore: "SkylakeX" }), { changes: ["BLAS kernels Haswell → SkylakeX"], bitwise: false });
  assert.deepEqual(M.kernelChange(own, { ...blas, threads: 1 }), { changes: ["BLAS none → openblas", "threads 2 → 1"], bitwise: false });
  assert.deepEqual(M.kernelChange(own, { ...own, kernels: "portable" }), { changes: ["kernels avx512 → portable"], bitwise: false });
  // a checkpoint written before blasCore was recorded
  assert.deepEqual(M.kernelChange({ kernels: "avx2", blas: "openblas", threads: 2 }, { ...blas, kernels: "avx2" }), { changes: [], bitwise: true });
});

test("resume - a checkpoint records threads and BLAS use; a resume on another thread count says what it means", async () => {
  const logs: { level: string; msg: string }[] = [];
  const at = (level: string) => (_o: unknown, msg: string) => logs.push({ level, msg });
  const log = { info: at("info"), error: at("error"), warn: at("warn") } as unknown as M.Logger;
  const before = K.currentKernelSettings();
  const settings = [{ blas: false as const, word: /threads 2 → 1: no BLAS, so results stay bitwise identical/, level: "info" }];
  if (K.kernelInfo().blasAvailable) settings.push({ blas: "force" as never, word: /resuming on other compute \(threads 2 → 1\): the continuation will not be bitwise identical/, level: "warn" });
  for (const s of settings) {
    using dir = tempDir();
    const checkpoints = { store: M.localCheckpointStore(dir.path), run: "t", stage: "train", every: 2 };
    try {
      K.configureKernels({ threads: 2, blas: s.blas });
      await detRun(20, { steps: 2, checkpoints });
      const [ref] = await checkpoints.store.list("t", "train");
      const state = (await checkpoints.store.load(ref!)).manifest.state as unknown as M.TrainerState;
      assert.deepEqual(state.kernels, M.currentKernels(), "the running compute is recorded");
      assert.equal(state.kernels!.threads, 2);
      assert.equal(state.kernels!.blas, K.kernelInfo().blas);
      K.configureKernels({ threads: 1 });
      logs.length = 0;
      await detRun(20, { steps: 3, checkpoints, resume: true, log });
    } finally {
      K.configureKernels(before);
    }
    const said = logs.find((l) => s.word.test(l.msg));
    assert.ok(said && said.level === s.level, `blas ${String(s.blas)}: ${JSON.stringify(logs)}`);
    if (s.level === "info") assert.ok(!logs.some((l) => l.level === "warn" && /bitwise/.test(l.msg)), JSON.stringify(logs));
  }
});

