// Thunder-Train in one process: two ranks (each its own model, sampler shard and worker-thread
// ring over loopback links) train side by side; the result must equal one host training on the
// combined batch. The namespace version is `troupe chaos dp-equivalence` (tests/hosts/40.*).
// guards #13
import { test } from "node:test";
import assert from "node:assert/strict";
import { byteTokenizer, chatTemplate, createSftBatcher, createWindowSampler, shardBatches, type ResumableBatcher } from "../../data/mod.js";
import { type GPT, GPT as GPTModel, createRng, scaleInPlace } from "../../kernels/mod.js";
import { type GradientSync, train } from "../../models/mod.js";
import { GroupError, createGradientSync, openThunderGroup } from "../../hosts/mod.js";
import { natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();
const cfg = { vocabSize: 256, blockSize: 32, nEmbd: 32, nHead: 2, nLayer: 2 };
const stream = Int32Array.from({ length: 20_000 }, (_, i) => ((i * 2654435761) >>> 7) % 256);

function maxParamDiff(a: GPT, b: GPT): number {
  let m = 0;
  const bp = new Map(b.namedParameters());
  for (const [n, t] of a.namedParameters()) {
    const x = t.f32();
    const y = bp.get(n)!.f32();
    for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}

// the bench GPT's learning rate (../shared/bench/torch_gpt.py). AdamW turns float reordering
// into parameter differences in proportion to lr: on this model one host's combined batch vs
// the same rows as two accumulated micro-batches differ by ~4e-6 here (4e-5 at lr 3e-3), and
// data parallelism is exactly that reordering.
const trainOpts = { steps: 20, lr: 3e-4, warmupSteps: 2, minLr: 3e-5, weightDecay: 0.01 };

async function dataParallel(world: number, make: () => ResumableBatcher<unknown>, o: { compression?: "bf16"; bucketBytes?: number; overlap?: boolean } = {}) {
  const run = uniqueName("r");
  const group = uniqueName("g");
  const groups = await Promise.all(Array.from({ length: world }, (_, rank) => openThunderGroup({ nc: env.nc, run, group, rank, world })));
  const models = groups.map(() => new GPTModel(cfg, createRng(7)));
  const syncs = groups.map((g) => createGradientSync(g, { compression: o.compression ?? "none", bucketBytes: o.bucketBytes ?? 64 << 10, overlap: o.overlap ?? true }));
  try {
    const results = await Promise.all(groups.map((g, rank) => train({ ...trainOpts, model: models[rank]!, batches: shardBatches(make(), { rank, world }), gradientSync: syncs[rank] as GradientSync })));
    return { models, results, syncs };
  } finally {
    await Promise.all(groups.map((g) => g.close()));
  }
}

async function single(make: () => ResumableBatcher<unknown>) {
  const model = new GPTModel(cfg, createRng(7));
  const r = await train({ ...trainOpts, model, batches: make() });
  return { model, r };
}

test("thunder - 2 ranks on a split batch equal 1 host on the combined batch (text, 20 steps, overlapped buckets)", async () => {
  const make = () => createWindowSampler(stream, { batch: 8, block: 16, seed: 3 });
  const one = await single(make);
  const { models, results, syncs } = await dataParallel(2, make);
  assert.equal(maxParamDiff(models[0]!, models[1]!), 0, "both ranks hold the same bits");
  const diff = maxParamDiff(models[0]!, one.model);
  assert.ok(diff <= 1e-5, `max_param_diff ${diff} ≤ 1e-5`);
  assert.ok(Math.abs(results[0]!.trainLoss - one.r.trainLoss) < 1e-5, "the reported loss is the group's");
  assert.equal(results[0]!.tokens, one.r.tokens, "tokens counted for the whole group");
  assert.ok(syncs[0]!.stats.overlapped > 0, "some buckets were handed over during backward");
  assert.ok(syncs[0]!.stats.buckets > syncs[0]!.stats.steps, "gradients went in several buckets");
});

test("thunder - unequal token counts per rank (SFT masks) still equal the combined batch; 3 ranks", async () => {
  const tpl = chatTemplate({ tokenizer: byteTokenizer() });
  const items = Array.from({ length: 40 }, (_, i) => tpl.encodeExample(`${i}+${i * 7}=`, String(i * 8).repeat(1 + (i % 3))));
  const make = () => createSftBatcher(items, { batch: 9, block: 32, seed: 5, pad: 0 });
  const { models } = await dataParallel(3, make);
  const one = await single(make);
  assert.equal(maxParamDiff(models[0]!, models[2]!), 0);
  const diff = maxParamDiff(models[1]!, one.model);
  assert.ok(diff <= 1e-5, `max_param_diff ${diff} ≤ 1e-5`);
});

test("thunder - the trivial baseline fails the gate: averaging per-rank means is not the combined batch's gradient", async () => {
  // what a naive sync would do with unequal token counts: mean of rank means
  const tpl = chatTemplate({ tokenizer: byteTokenizer() });
  const items = Array.from({ length: 40 }, (_, i) => tpl.encodeExample(`${i}+${i * 7}=`, String(i * 8).repeat(1 + (i % 3))));
  const make = () => createSftBatcher(items, { batch: 8, block: 32, seed: 5, pad: 0 });
  const run = uniqueName("r");
  const group = uniqueName("g");
  const groups = await Promise.all([0, 1].map((rank) => openThunderGroup({ nc: env.nc, run, group, rank, world: 2 })));
  try {
    const naive = groups.map((g): GradientSync => {
      const inner = createGradientSync(g, { overlap: false });
      let params: readonly (readonly [string, { grad: { f32(): Float32Array } | null }])[] = [];
      return {
        rank: g.rank, world: g.world,
        attach: (p) => {
          params = p;
          inner.attach(p);
        },
        // each rank takes the mean over its own tokens, then the group averages the means
        reduce: async (t) => {
          for (const [, p] of params) scaleInPlace(p.grad!.f32(), 1 / Math.max(1, t.tokens));
          const r = await inner.reduce({ tokens: 1, lossSum: t.lossSum / Math.max(1, t.tokens) });
          return { tokens: t.tokens, lossSum: r.lossSum / 2 };
        },
      };
    });
    const models = groups.map(() => new GPTModel(cfg, createRng(7)));
    await Promise.all(groups.map((g, rank) => train({ ...trainOpts, model: models[rank]!, batches: shardBatches(make(), { rank, world: 2 }), gradientSync: naive[rank]! })));
    const one = await single(make);
    const diff = maxParamDiff(models[0]!, one.model);
    assert.ok(diff > 1e-5, `the naive average misses the gate (max_param_diff ${diff})`);
  } finally {
    await Promise.all(groups.map((g) => g.close()));
  }
});

test("thunder - bf16 compression: every rank still applies the identical update (buckets reduced after backward here)", async () => {
  const make = () => createWindowSampler(stream, { batch: 8, block: 16, seed: 4 });
  const { models, syncs } = await dataParallel(2, make, { compression: "bf16", overlap: false });
  assert.equal(maxParamDiff(models[0]!, models[1]!), 0);
  assert.equal(syncs[0]!.stats.overlapped, 0, "without overlap no bucket goes out during backward");
  assert.ok(syncs[0]!.stats.buckets > 0);
  const one = await single(make);
  assert.ok(maxParamDiff(models[0]!, one.model) < 0.05, "close to the f32 result");
});

test("thunder - a rank that closes its group mid-training stops the other's step with a GroupError", async () => {
  const run = uniqueName("r");
  const group = uniqueName("g");
  const groups = await Promise.all([0, 1].map((rank) => openThunderGroup({ nc: env.nc, run, group, rank, world: 2, heartbeatMs: 50, deadAfterMs: 500 })));
  const make = () => createWindowSampler(stream, { batch: 8, block: 16, seed: 3 });
  try {
    const model = new GPTModel(cfg, createRng(7));
    let steps = 0;
    const t = train({
      ...trainOpts, steps: 1000, model, batches: shardBatches(make(), { rank: 0, world: 2 }), gradientSync: createGradientSync(groups[0]!),
      onStep: () => void steps++,
    }).then(() => null, (e: unknown) => e);
    const other = train({ ...trainOpts, steps: 5, model: new GPTModel(cfg, createRng(7)), batches: shardBatches(make(), { rank: 1, world: 2 }), gradientSync: createGradientSync(groups[1]!) });
    await other; // rank 1 trains 5 steps, then leaves
    await groups[1]!.close("rank 1 is done");
    const t0 = performance.now();
    const why = await t;
    assert.ok(why instanceof GroupError, `rank 0 stopped with ${String(why)}`);
    assert.ok(performance.now() - t0 < 2000, "stopped within the bound");
    assert.equal(steps, 5, "the steps both ranks took, and no more");
    assert.ok((await groups[0]!.failed) instanceof GroupError);
  } finally {
    await Promise.all(groups.map((g) => g.close()));
  }
});

test("thunder - a neighbour that finishes first and closes leaves the other's stats() readable; a new collective fails", async () => {
  const run = uniqueName("r");
  const group = uniqueName("g");
  const groups = await Promise.all([0, 1].map((rank) => openThunderGroup({ nc: env.nc, run, group, rank, world: 2 })));
  try {
    const bufs = groups.map((g, r) => g.alloc(1000).fill(r + 1));
    await Promise.all(groups.map((g, r) => g.allReduce(bufs[r]!)));
    assert.deepEqual([bufs[0]![0], bufs[1]![999]], [3, 3]);
    await groups[1]!.close("rank 1 is done");
    assert.ok((await groups[0]!.failed) instanceof GroupError, "rank 0 sees the ring end");
    const stats = await groups[0]!.stats(); // what a bench or report asks after its last collective
    assert.equal(stats?.collectives, 1);
    await assert.rejects(groups[0]!.allReduce(bufs[0]!), GroupError);
  } finally {
    await Promise.all(groups.map((g) => g.close()));
  }
  await assert.rejects(groups[0]!.stats(), GroupError, "a closed group's thread is gone");
});
