// Stage 5, the transfer adapter. Training: at each split index a TransferAdapter (encoder with
// the route/vitality context when those heads exist there, latent at the chosen bitrate,
// decoder) learns λ_transfer · L_transfer = cosine + MSE on the state + KL(no-transfer ‖
// resumed logits) (+ the bitrate penalty), the frozen model resuming from the decoded state.
// Evaluation on held-out prompts: every codec's fidelity at every split (bytes/token, KL,
// top-1); transfer_kl = the learned codec's worst mean KL over the splits, against the
// cheapest fixed codec at least as large (the named baseline) and a constant state (the
// training mean, 0 bytes: the trivial one).
// Legend: B batch, T time, C channels, N = B·T, d latent.
import { type Tensor, add, clone, fromArray, klDivergence, noGrad, scale } from "../../../kernels/mod.js";
import { ModelConfigError } from "../../errors.js";
import { type HeadSet, addHead, createHead, headsOf } from "../../heads/registry.js";
import { DEFAULT_TRANSFER_WEIGHTS, type LatentBits, TransferAdapter, type TransferLossWeights, learnedBytesPerToken, transferLoss } from "../../heads/transfer.js";
import { type LayeredModel, checkIndices, dimsOf } from "../../layered.js";
import { CODECS } from "../../transfer/packet.js";
import { type FidelityRow, measureFidelity } from "../../transfer/fidelity.js";
import { type AgpData, type AgpRunOptions, type GateReport, batchesOf, blockFor, gateReport, makeBatch, withFrozen, withFrozenSync } from "./common.js";
import { contextWidth, headContext } from "./context.js";
import { type FitResult, fit } from "./fit.js";

export interface TransferStageOptions extends AgpRunOptions {
  readonly model: LayeredModel;
  readonly data: AgpData;
  /** split indices (1..L-1) */
  readonly layers: readonly number[];
  /** latent channels (default: the most that keeps a token within 1/8 of raw f32 at `bits`) */
  readonly latent?: number;
  readonly bits?: LatentBits;
  readonly hidden?: number;
  /** prompts per step (default 16) */
  readonly batch?: number;
  readonly weights?: Partial<TransferLossWeights>;
  /** λ_b of the optional bitrate penalty (mean |z|) */
  readonly bitratePenalty?: number;
  /** route/vitality heads whose probabilities at the split are the encoder's context */
  readonly heads?: HeadSet;
}

/** The widest latent whose packet payload stays ≤ 1/8 of raw f32 (C/2 bytes a token). */
export function eighthLatent(C: number, bits: LatentBits): number {
  const budget = Math.floor((4 * C) / 8);
  return Math.max(1, bits === 8 ? budget - 4 : Math.floor((budget - 2) / 2));
}

export async function trainTransfer(o: TransferStageOptions): Promise<{ heads: HeadSet; fit: FitResult; bytesPerToken: number }> {
  const L = dimsOf(o.model).layers;
  const layers = checkIndices(o.model, "transfer.layers", o.layers, 1, L - 1);
  const C = dimsOf(o.model).channels;
  const bits = o.bits ?? 8;
  const latent = o.latent ?? eighthLatent(C, bits);
  const set: HeadSet = o.heads ?? new Map();
  const T = blockFor(o.model, o.data.train);
  const B = Math.min(o.batch ?? 16, o.data.train.length);
  const w = { ...DEFAULT_TRANSFER_WEIGHTS, ...o.weights, bitrate: o.bitratePenalty ?? o.weights?.bitrate ?? 0 };
  return withFrozen(o.model, async () => {
    const made = layers.map((layer) => {
      return createHead({ kind: "transfer", layer, channels: C, context: contextWidth(set, layer), latent, bits, hidden: o.hidden ?? 128 }, (o.seed ?? 0) + 53 * layer) as unknown as TransferAdapter;
    });
    const f = await fit({
      ...o,
      terms: ["transfer"],
      params: made.flatMap((m) => m.namedParameters(`transfer.${m.spec.layer}.`)),
      lossAt: (_s, lambdas, rng) => {
        const items = Array.from({ length: B }, () => o.data.train[rng.int(o.data.train.length)]!);
        const b = makeBatch(items, T);
        const full = noGrad(() => o.model.forwardWithHidden(b.idx, { capture: layers }));
        const teacher = full.logits;
        let sum: Tensor | null = null;
        const parts = { cos: 0, mse: 0, kl: 0 };
        for (const m of made) {
          const h = fromArray(full.hidden[m.spec.layer]!.f32(), [B * T, C]);
          const ctx = m.spec.context ? headContext(o.model, set, m.spec.layer, h) : null;
          const { z, rms } = m.encode(h, ctx ? fromArray(ctx, [B * T, m.spec.context]) : null, { noise: rng });
          const p = transferLoss(o.model, m, h, m.decode(z, rms), z, teacher, b.valid, w);
          parts.cos += p.cos / made.length;
          parts.mse += p.mse / made.length;
          parts.kl += p.kl / made.length;
          sum = sum ? add(sum, p.loss) : p.loss;
        }
        const lam = lambdas.transfer ?? 0;
        return { loss: lam > 0 ? scale(sum!, lam / made.length) : null, parts: { transfer: parts.cos * w.cos + parts.mse * w.mse + parts.kl * w.kl, ...parts } };
      },
    });
    for (const m of made) addHead(set, m);
    return { heads: set, fit: f, bytesPerToken: learnedBytesPerToken({ latent, bits }) };
  });
}

export interface TransferEvalOptions {
  readonly model: LayeredModel;
  readonly data: AgpData;
  readonly heads: HeadSet;
  /** codecs to measure (default all six) */
  readonly codecs?: readonly string[];
  /** max transfer_kl, nats/token (null: only the baselines decide) */
  readonly threshold?: number | null;
  readonly forwardBatch?: number;
}

/**
 * The constant-state baseline: every position gets the mean state of the layer over (up to
 * 1024) training prompts, and resumes from it. KL of every counted held-out position, batch by
 * batch (batches of B), in the order measureFidelity counts them.
 */
export function constantStateKl(model: LayeredModel, data: AgpData, layer: number, B: number): Float32Array {
  const C = dimsOf(model).channels;
  const T = blockFor(model, [...data.train, ...data.heldOut]);
  const mean = new Float64Array(C);
  let n = 0;
  noGrad(() => {
    for (const b of batchesOf(data.train.slice(0, 1024), B, T)) {
      const h = model.forwardWithHidden(b.idx, { capture: [layer] }).hidden[layer]!.f32();
      for (let i = 0; i < b.B * T; i++) {
        if (!b.valid[i]) continue;
        n++;
        for (let c = 0; c < C; c++) mean[c]! += h[i * C + c]!;
      }
    }
  });
  const m = Float32Array.from(mean, (x) => x / Math.max(1, n));
  const out: number[] = [];
  noGrad(() => {
    for (const b of batchesOf(data.heldOut, B, T)) {
      const full = clone(model.forwardWithHidden(b.idx).logits);
      const st = new Float32Array(b.B * T * C);
      for (let i = 0; i < b.B * T; i++) st.set(m, i * C);
      const k = klDivergence(model.resumeFrom(fromArray(st, [b.B, T, C]), layer), full, { reduction: "none" }).f32();
      for (let i = 0; i < b.B * T; i++) if (b.mask[i]) out.push(k[i]!);
    }
  });
  return Float32Array.from(out);
}

export interface TransferGateInput {
  /** fidelity of every codec at every split, with kl_tokens (measured in-process or by the transfer actors) */
  readonly rows: readonly FidelityRow[];
  /** the constant-state baseline's per-token KL at each split, in the same token order */
  readonly constant: ReadonlyMap<number, Float32Array>;
  /** max transfer_kl, nats/token (null: only the baselines decide) */
  readonly threshold?: number | null;
  /** how the rows were measured ("in process", "transfer actors over NATS") */
  readonly path?: string;
}

const meanOf = (x: Float32Array) => x.reduce((a, b) => a + b, 0) / Math.max(1, x.length);

/**
 * Stage 5 gate from fidelity rows: transfer_kl (lower) = the learned codec's worst mean KL over
 * the splits, against the cheapest fixed codec at least as large (named) and the constant state
 * (trivial), each at the split where the learned codec does worst.
 */
export function transferGate(o: TransferGateInput): GateReport {
  const layers = [...new Set(o.rows.filter((r) => r.codec === "learned").map((r) => r.layer))].sort((a, b) => a - b);
  if (layers.length === 0) throw new ModelConfigError("transfer.codecs", "the stage-5 gate measures the learned codec: no fidelity row has it");
  const byLayer: Record<string, unknown> = {};
  let worst = layers[0]!;
  let learned = -Infinity;
  for (const layer of layers) {
    const here = o.rows.filter((r) => r.layer === layer);
    const l = here.find((r) => r.codec === "learned")!;
    const fixed = here.filter((r) => r.codec !== "learned" && r.payload_bytes_per_token >= l.payload_bytes_per_token).sort((a, b) => a.payload_bytes_per_token - b.payload_bytes_per_token)[0];
    const constant = o.constant.get(layer);
    if (!constant) throw new ModelConfigError("transfer.constant", `no constant-state baseline at split ${layer}`);
    byLayer[String(layer)] = { learned_kl: l.kl_mean, named: fixed?.codec ?? null, named_kl: fixed?.kl_mean ?? null, constant_state_kl: meanOf(constant) };
    if (l.kl_mean > learned) {
      learned = l.kl_mean;
      worst = layer;
    }
  }
  const here = o.rows.filter((r) => r.layer === worst);
  const l = here.find((r) => r.codec === "learned")!;
  const fixed = here.filter((r) => r.codec !== "learned" && r.payload_bytes_per_token >= l.payload_bytes_per_token).sort((a, b) => a.payload_bytes_per_token - b.payload_bytes_per_token)[0];
  const constant = o.constant.get(worst)!;
  const raw = o.rows.find((r) => r.codec === "raw-f32");
  const report = gateReport({
    stage: 5,
    metric: "transfer_kl",
    value: learned,
    direction: "lower",
    threshold: o.threshold ?? null,
    score: { name: "learned-codec KL", value: learned },
    named: { name: fixed ? `${fixed.codec} KL (the cheapest fixed codec at least as large)` : "no fixed codec as large", value: fixed ? fixed.kl_mean : Infinity },
    trivial: { name: "constant-state KL", value: meanOf(constant) },
    details: {
      worst_split: worst, layers: byLayer, path: o.path ?? "in process",
      fidelity: o.rows.map(({ kl_tokens: _k, ...r }) => r),
      learned_over_raw_bytes: raw ? l.payload_bytes_per_token / raw.payload_bytes_per_token : null,
    },
  });
  if (!fixed?.kl_tokens || !l.kl_tokens) return report;
  return {
    ...report,
    items: {
      measure: `KL(no transfer ‖ resumed) per held-out response token, split at index ${worst} (the learned codec's worst), nats`,
      kind: "values",
      direction: "lower",
      score: { name: `learned (${l.payload_bytes_per_token.toFixed(1)} B/token)`, values: l.kl_tokens },
      named: { name: `${fixed.codec} (${fixed.payload_bytes_per_token.toFixed(1)} B/token)`, values: fixed.kl_tokens, detail: "the cheapest fixed codec at least as large" },
      trivial: [{ name: "constant state (0 B/token)", values: constant, detail: "the training mean state of the layer for every token" }],
    },
  };
}

/** Stage 5 gate: transfer_kl (lower) of the learned codec, measured in this process. */
export function evaluateTransfer(o: TransferEvalOptions): GateReport {
  const adapters = headsOf<TransferAdapter>(o.heads, "transfer");
  if (adapters.length === 0) throw new ModelConfigError("heads", "no transfer adapter to evaluate (train stage 5 first)");
  const layers = adapters.map((a) => a.spec.layer);
  const codecs = o.codecs ?? CODECS;
  if (!codecs.includes("learned")) throw new ModelConfigError("transfer.codecs", "the stage-5 gate measures the learned codec: list it");
  const B = o.forwardBatch ?? 64;
  const T = blockFor(o.model, [...o.data.train, ...o.data.heldOut]);
  const batches = batchesOf(o.data.heldOut, B, T).map((b) => ({ idx: b.idx, mask: b.mask }));
  const rows: FidelityRow[] = withFrozenSync(o.model, () => measureFidelity(o.model, batches, {
    layers, codecs, heads: o.heads, perToken: true,
    context: (layer, hidden) => headContext(o.model, o.heads, layer, hidden),
  }));
  const constant = new Map(layers.map((layer) => [layer, withFrozenSync(o.model, () => constantStateKl(o.model, o.data, layer, B))]));
  return transferGate({ rows, constant, ...(o.threshold !== undefined ? { threshold: o.threshold } : {}) });
}
