// What the stage 2-6 tasks share: the data they take (prompt/response items as the data
// layer's lanes give them), batches with the response mask, the λ weights per step, a frozen
// model while heads train, and the gate report every evaluation returns.
// Legend: B batch, T time.
import { END_BYTE, packRows } from "../../../data/mod.js";
import { IGNORE_INDEX, type Tensor, fromArray } from "../../../kernels/mod.js";
import { ModelConfigError, StageDataError } from "../../errors.js";
import { type LayeredModel, dimsOf } from "../../layered.js";

/** An example: tokens with the chat template applied (LaneItem from data/ fits). */
export interface AgpItem {
  readonly ids: Int32Array;
  readonly promptLen: number;
  readonly prompt: string;
  readonly response: string;
  readonly domain: string;
  readonly difficulty: string | null;
}

export interface AgpData {
  readonly train: readonly AgpItem[];
  readonly heldOut: readonly AgpItem[];
}

/** The loss terms of the composite loss (the director's LOSS_TERMS). */
export const AGP_TERMS = ["sft", "route", "vit", "depth", "sem", "transfer"] as const;
export type AgpTerm = (typeof AGP_TERMS)[number];
/** λ of each term at a step (the director passes `(s) => lambdasFor(schedule, s)`). */
export type LambdaFn = (step: number) => Partial<Record<AgpTerm, number>>;

export const fullWeight = (terms: readonly AgpTerm[]): LambdaFn => () => Object.fromEntries(terms.map((t) => [t, 1]));

export interface AgpBatch {
  readonly items: readonly AgpItem[];
  /** [B, T] i32 */
  readonly idx: Tensor;
  /** [B·T] next-token targets, IGNORE_INDEX off the response */
  readonly targets: Int32Array;
  /** [B·T]: 1 on positions that predict a response token or the end marker */
  readonly mask: Float32Array;
  /** [B·T]: 1 on every position of an example (prompt and response, not padding) */
  readonly valid: Float32Array;
  readonly B: number;
  readonly T: number;
}

export function makeBatch(items: readonly AgpItem[], T: number): AgpBatch {
  const B = items.length;
  const b = packRows(items, B, T, END_BYTE);
  const mask = Float32Array.from(b.targets, (t) => (t === IGNORE_INDEX ? 0 : 1));
  const valid = new Float32Array(B * T);
  items.forEach((it, r) => valid.fill(1, r * T, r * T + Math.min(T, it.ids.length - 1)));
  return { items, idx: fromArray(b.idx, [B, T]), targets: b.targets, mask, valid, B, T };
}

/** Consecutive batches of at most B items covering all of them. */
export function batchesOf(items: readonly AgpItem[], B: number, T: number): AgpBatch[] {
  const out: AgpBatch[] = [];
  for (let i = 0; i < items.length; i += B) out.push(makeBatch(items.slice(i, i + B), T));
  return out;
}

/** The block every item fits in (the longest item − 1), checked against the model. */
export function blockFor(model: LayeredModel, items: readonly AgpItem[]): number {
  if (items.length === 0) throw new StageDataError("no examples: the lane is empty");
  const longest = items.reduce((m, it) => Math.max(m, it.ids.length), 0);
  if (longest - 1 > dimsOf(model).positions) throw new ModelConfigError("data.block", `an example has ${longest} tokens, the model's block is ${dimsOf(model).positions}`);
  return longest - 1;
}

/**
 * Runs fn with every model parameter frozen and the model in eval mode (heads train, the model
 * does not, no dropout), then restores both.
 */
export async function withFrozen<T>(model: LayeredModel, fn: () => Promise<T>): Promise<T> {
  const params = model.namedParameters();
  const was = params.map(([, t]) => t.requiresGrad);
  const training = model.training;
  for (const [, t] of params) t.requiresGrad = false;
  model.eval();
  try {
    return await fn();
  } finally {
    params.forEach(([, t], i) => (t.requiresGrad = was[i]!));
    model.train(training);
  }
}

/** withFrozen for synchronous work (evaluations). */
export function withFrozenSync<T>(model: LayeredModel, fn: () => T): T {
  const params = model.namedParameters();
  const was = params.map(([, t]) => t.requiresGrad);
  const training = model.training;
  for (const [, t] of params) t.requiresGrad = false;
  model.eval();
  try {
    return fn();
  } finally {
    params.forEach(([, t], i) => (t.requiresGrad = was[i]!));
    model.train(training);
  }
}

/** One score on the gate's scale (accuracy, KL, ...). */
export interface Scored {
  readonly name: string;
  readonly value: number;
}

/**
 * A stage's verdict: its metric (the director's gate compares it with the threshold) and the
 * scores behind it — the model's own, the named baseline's and the best trivial baseline's,
 * all on one scale — and whether the model beats each.
 */
/**
 * The measurement behind a verdict, item by item on the same held-out items (tokens or
 * prompts), for evidence with intervals (data/evidence): the model's score, the named
 * baseline's and each trivial baseline's. `hits` are 0/1 (accuracies); `values` continuous.
 */
export interface PerItem {
  readonly measure: string;
  readonly kind: "hits" | "values";
  readonly direction: "higher" | "lower";
  readonly score: { readonly name: string; readonly values: Float32Array };
  readonly named: { readonly name: string; readonly values: Float32Array; readonly detail?: string };
  readonly trivial: readonly { readonly name: string; readonly values: Float32Array; readonly detail?: string }[];
}

export interface GateReport {
  readonly stage: 2 | 3 | 4 | 5 | 6;
  readonly metric: string;
  readonly value: number;
  readonly direction: "higher" | "lower";
  readonly threshold: number | null;
  readonly score: Scored;
  readonly named: Scored;
  readonly trivial: Scored;
  readonly beatsNamed: boolean;
  readonly beatsTrivial: boolean;
  readonly meetsThreshold: boolean;
  readonly passed: boolean;
  /** the stage's own required checks besides beating the baselines (named; ok; why when not) */
  readonly checks: readonly { readonly name: string; readonly ok: boolean; readonly detail?: string }[];
  /** one sentence: why it passed or which check failed */
  readonly reason: string;
  readonly details: Record<string, unknown>;
  /** the per-item measurement behind score, named and trivial (when the stage has one) */
  readonly items?: PerItem;
  /** the metric's own 95 % interval, when the stage measures one (stage 6: bootstrap over prompts) */
  readonly valueCi?: readonly [number, number];
}

const better = (dir: "higher" | "lower", a: number, b: number) => (dir === "higher" ? a > b : a < b);

/** Builds the verdict: passes only when the metric meets the threshold and the score beats both baselines. */
export function gateReport(r: Omit<GateReport, "beatsNamed" | "beatsTrivial" | "meetsThreshold" | "passed" | "reason" | "checks"> & { scoreDirection?: "higher" | "lower"; extraChecks?: { ok: boolean; why: string; name?: string }[] }): GateReport {
  const sd = r.scoreDirection ?? r.direction;
  const beatsNamed = Number.isFinite(r.score.value) && better(sd, r.score.value, r.named.value);
  const beatsTrivial = Number.isFinite(r.score.value) && better(sd, r.score.value, r.trivial.value);
  const meetsThreshold = Number.isFinite(r.value) && (r.threshold === null ? true : r.direction === "higher" ? r.value >= r.threshold : r.value <= r.threshold);
  const fails: string[] = [];
  const fmt = (x: number) => (Number.isFinite(x) ? +x.toPrecision(4) : String(x));
  if (!meetsThreshold) fails.push(`${r.metric} ${fmt(r.value)} ${r.direction === "higher" ? "<" : ">"} ${r.threshold === null ? "(not finite)" : `${r.direction === "higher" ? "min" : "max"} ${fmt(r.threshold)}`}`);
  if (!beatsNamed) fails.push(`${r.score.name} ${fmt(r.score.value)} does not beat ${r.named.name} ${fmt(r.named.value)}`);
  if (!beatsTrivial) fails.push(`${r.score.name} ${fmt(r.score.value)} does not beat ${r.trivial.name} ${fmt(r.trivial.value)}`);
  for (const c of r.extraChecks ?? []) if (!c.ok) fails.push(c.why);
  const passed = fails.length === 0;
  const { scoreDirection: _s, extraChecks: _e, ...rest } = r;
  const checks = (r.extraChecks ?? []).map((c) => ({ name: c.name ?? c.why, ok: c.ok, ...(c.ok ? {} : { detail: c.why }) }));
  return {
    ...rest, beatsNamed, beatsTrivial, meetsThreshold, passed, checks,
    reason: passed
      ? `${r.metric} ${fmt(r.value)}: ${r.score.name} ${fmt(r.score.value)} beats ${r.named.name} ${fmt(r.named.value)} and ${r.trivial.name} ${fmt(r.trivial.value)}`
      : `stage ${r.stage} did not pass: ${fails.join("; ")}`,
  };
}

export interface AgpProgress {
  readonly step: number;
  readonly totalSteps: number;
  /** λ-weighted total and each term (unweighted) */
  readonly losses: Record<string, number>;
  readonly lambdas: Partial<Record<AgpTerm, number>>;
}

export interface AgpRunOptions {
  readonly steps: number;
  readonly lr?: number;
  readonly seed?: number;
  readonly weightDecay?: number;
  readonly lambdas?: LambdaFn;
  readonly onProgress?: (p: AgpProgress) => void;
  readonly signal?: AbortSignal;
}
