// One rank of `troupe bench thunder`: the benchmark GPT trained by the real trainer loop
// (models/training: AdamW, no clipping, constant lr, like the peer) on fixed random batches of
// 16 rows × 128, data-parallel through a ThunderGroup when world > 1 (world 1: no sync at all,
// the single-host path). argv: JSON {nats?, run, group, rank, world, address, steps, warmup,
// compression, config}. Prints {"rank":…, "step_ms":[…], "tokens_per_step":…} (group tokens).
import { GPT, createRng, randint } from "../../kernels/mod.js";
import type { ResumableBatcher, TokenBatch } from "../../data/mod.js";
import { train } from "../../models/mod.js";
import { connectNats, createGradientSync, openThunderGroup } from "../../hosts/mod.js";

const o = JSON.parse(process.argv[2]!) as {
  nats?: string; run: string; group: string; rank: number; world: number; address: string; steps: number; warmup: number;
  compression: "none" | "f16" | "bf16"; overlap?: boolean; bucketBytes?: number;
  config: { vocab: number; block: number; d: number; heads: number; layers: number; batch: number };
};
const c = o.config;
const rng = createRng(1000 + o.rank);
const model = new GPT({ vocabSize: c.vocab, blockSize: c.block, nEmbd: c.d, nHead: c.heads, nLayer: c.layers }, createRng(0));
const idx = randint([c.batch, c.block], c.vocab, rng).i32().slice();
const targets = randint([c.batch, c.block], c.vocab, rng).i32().slice();
const batch: TokenBatch = { idx, targets, B: c.batch, T: c.block, tokens: c.batch * c.block };
const batches: ResumableBatcher<null> = { next: () => batch, state: () => null, restore: () => undefined };

const nc = o.world > 1 ? await connectNats(o.nats!) : null;
const group = nc ? await openThunderGroup({ nc, run: o.run, group: o.group, rank: o.rank, world: o.world, address: o.address, hostName: `h${o.rank}` }) : null;
const sync = group ? createGradientSync(group, { compression: o.compression, overlap: o.overlap ?? true, ...(o.bucketBytes ? { bucketBytes: o.bucketBytes } : {}) }) : undefined;
const stamps: number[] = [];
await train({
  model, batches, steps: o.warmup + o.steps, lr: 3e-4, weightDecay: 0.01, clipNorm: null,
  ...(sync ? { gradientSync: sync } : {}),
  onStep: () => void stamps.push(performance.now()),
});
const timed = stamps.slice(o.warmup - 1);
const step_ms = timed.slice(1).map((t, i) => t - timed[i]!);
process.stdout.write(JSON.stringify({ rank: o.rank, world: o.world, step_ms, tokens_per_step: c.batch * c.block * o.world, sync: sync?.stats ?? null }) + "\n");
await group?.close("bench done");
await nc?.close();
