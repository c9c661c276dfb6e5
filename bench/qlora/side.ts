// One side of `troupe bench qlora`, run in its own process so its peak RSS is its own: a Llama
// (f32 base, or its Linear layers but the head quantised: QLoRA), LoRA adapters on every Linear
// but the head, AdamW on the adapters only, `steps` steps on byte batches of a text (or random
// bytes), then the validation loss on fixed held-out batches. The base is random (quantised as
// each Linear is made) or a pretrained f32 one loaded from a file (quantised after loading).
// The "pretrain" side trains every parameter of a random f32 Llama instead and writes it to
// `out`. Prints one JSON line. Run as `node side.js '<json options>'`.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { type LlamaConfig, type QuantizedWeight, type Tensor, type Rng, adamw, quantizedBytes, backward, createRng, crossEntropy, fromArray, noGrad, parseSafetensors, serializeSafetensors, workspace } from "../../kernels/mod.js";
import { type CausalLM, adapterParameters, applyLora, architecture, countParameters, createQuantized, quantizeBase } from "../../models/mod.js";

export interface SideOptions {
  readonly side: "lora" | "qlora" | "pretrain";
  readonly bits: 4 | 8;
  readonly config: LlamaConfig;
  readonly rank: number;
  readonly steps: number;
  readonly batch: number;
  readonly seq: number;
  readonly lr: number;
  /** A text file (bytes are tokens; the last tenth is held out), or null for random bytes. */
  readonly data: string | null;
  readonly valBatches: number;
  /** The random base's (and the adapters') initialisation. */
  readonly seed: number;
  /** The training batches' order (default seed + 1). */
  readonly dataSeed?: number;
  /** A pretrained f32 base (safetensors of every parameter) instead of a random one. */
  readonly base?: string | null;
  /** "pretrain" only: where the trained f32 parameters go. */
  readonly out?: string;
}

/** What the peak RSS is made of, in MB: measured or counted, `other` the rest (V8, malloc, code). */
export interface RssBreakdown {
  /** RSS at the start of the side, before the model (Node and the native addon). */
  readonly start: number;
  /** The frozen base: f32 parameters (embedding, norms, head; all of it on the f32 side) and quantised weights. */
  readonly base: number;
  /** The adapters' weights, gradients and AdamW moments (4 × the trainable f32 elements). */
  readonly adapters: number;
  /** The step's workspace: forward activations and the gradients in flight. */
  readonly workspace: number;
  readonly other: number;
}

export interface SideResult {
  readonly side: "lora" | "qlora" | "pretrain";
  readonly params: number;
  readonly trainable: number;
  readonly peak_rss_mb: number;
  readonly rss: RssBreakdown;
  readonly tokens_per_s: number;
  readonly train_loss: number;
  readonly val_loss: number | null;
  /** The base's validation loss before any training (its own, quantised on the QLoRA side). */
  readonly base_val_loss: number | null;
  readonly seconds: number;
}

function batchOf(bytes: Uint8Array | null, from: number, span: number, o: SideOptions, rng: Rng) {
  const n = o.batch * o.seq;
  const idx = new Int32Array(n);
  const tgt = new Int32Array(n);
  for (let b = 0; b < o.batch; b++) {
    const start = from + Math.floor(rng.uniform() * (span - o.seq - 1));
    for (let t = 0; t < o.seq; t++) {
      idx[b * o.seq + t] = bytes ? bytes[start + t]! : rng.nextU32() & 255;
      tgt[b * o.seq + t] = bytes ? bytes[start + t + 1]! : rng.nextU32() & 255;
    }
  }
  return { idx: fromArray(idx, [o.batch, o.seq]), targets: fromArray(tgt, [o.batch, o.seq]) };
}

function makeBase(o: SideOptions): CausalLM {
  const arch = architecture("llama");
  const config = arch.resolve(o.config);
  if (!o.base) return o.side === "qlora" ? createQuantized(arch, config, o.bits, createRng(o.seed)) : arch.create(config, createRng(o.seed));
  const model = arch.create(config, createRng(o.seed));
  model.loadStateDict(parseSafetensors(readFileSync(o.base), o.base).tensors);
  if (o.side === "qlora") quantizeBase(model, o.bits);
  return model;
}

/** The mean loss over `valBatches` held-out batches, the same ones for every side (a fixed rng). */
function validationLoss(model: CausalLM, bytes: Uint8Array, split: number, o: SideOptions, ws: ReturnType<typeof workspace>): number {
  model.eval();
  const vr = createRng(12345);
  let sum = 0;
  for (let i = 0; i < o.valBatches; i++) {
    const b = batchOf(bytes, split, bytes.length - split, o, vr);
    sum += ws.run(() => noGrad(() => crossEntropy(model.forward(b.idx), b.targets).item()));
  }
  model.train();
  return sum / o.valBatches;
}

export function runSide(o: SideOptions): SideResult {
  const t0 = performance.now();
  const startRss = process.memoryUsage.rss();
  const model = makeBase(o);
  const params = countParameters(model) + quantizedElements(model);
  const baseBytes = 4 * countParameters(model) + quantizedBytesOf(model);
  const bytes = o.data ? new Uint8Array(readFileSync(o.data)) : null;
  const split = bytes ? Math.floor(bytes.length * 0.9) : 1 << 20;
  const ws = workspace();
  const evaluate = bytes !== null && o.valBatches > 0;
  const baseVal = evaluate && o.side !== "pretrain" ? validationLoss(model, bytes, split, o, ws) : null;
  let trainable: [string, Tensor][];
  if (o.side === "pretrain") {
    trainable = model.namedParameters();
  } else {
    model.freeze();
    const targets = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
    applyLora(model, { rank: o.rank, alpha: 2 * o.rank, targets }, { seed: o.seed });
    trainable = adapterParameters(model);
  }
  const opt = adamw(trainable, { lr: o.lr, weightDecay: 0 });
  const rng = createRng(o.dataSeed ?? o.seed + 1);
  let timed = 0;
  let timedTokens = 0;
  let trainLoss = NaN;
  model.train();
  for (let s = 0; s < o.steps; s++) {
    const b = batchOf(bytes, 0, split, o, rng);
    const s0 = performance.now();
    opt.zeroGrad();
    trainLoss = ws.run(() => {
      const loss = crossEntropy(model.forward(b.idx), b.targets);
      backward(loss);
      return loss.item();
    });
    opt.step();
    if (s > 0) {
      timed += performance.now() - s0; // the first step warms up (allocations, the pool)
      timedTokens += o.batch * o.seq;
    }
  }
  const val = evaluate ? validationLoss(model, bytes, split, o, ws) : null;
  if (o.side === "pretrain") {
    if (!o.out) throw new Error("bench qlora: the pretrain side needs `out`");
    writeFileSync(`${o.out}.tmp`, serializeSafetensors(model.namedParameters()));
    renameSync(`${o.out}.tmp`, o.out);
  }
  const trainableElements = trainable.reduce((a, [, t]) => a + t.size, 0);
  const peak = process.resourceUsage().maxRSS * 1024; // VmHWM: the whole process's peak
  const mb = (b: number) => Math.round(b / 2 ** 20);
  const parts = { start: mb(startRss), base: mb(baseBytes), adapters: mb(4 * 4 * trainableElements), workspace: mb(ws.bytes) };
  return {
    side: o.side, params, trainable: trainableElements,
    peak_rss_mb: mb(peak),
    rss: { ...parts, other: mb(peak) - parts.start - parts.base - parts.adapters - parts.workspace },
    tokens_per_s: timed > 0 ? Math.round(timedTokens / (timed / 1000)) : 0,
    train_loss: trainLoss, val_loss: val, base_val_loss: baseVal, seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

/** Bytes of the quantised weights (codes and scales). */
function quantizedBytesOf(model: { namedModules(): [string, unknown][] }): number {
  let n = 0;
  for (const [, m] of model.namedModules()) {
    const q = (m as { quantized?: QuantizedWeight | null }).quantized;
    if (q) n += quantizedBytes(q);
  }
  return n;
}

/** Elements of the quantised weights (no longer parameters) so both sides count the same model. */
function quantizedElements(model: { namedModules(): [string, unknown][] }): number {
  let n = 0;
  for (const [, m] of model.namedModules()) {
    const q = (m as { quantized?: { rows: number; cols: number } | null }).quantized;
    if (q) n += q.rows * q.cols;
  }
  return n;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!) && process.argv[2]) {
  process.stdout.write(JSON.stringify(runSide(JSON.parse(process.argv[2]) as SideOptions)) + "\n");
}
