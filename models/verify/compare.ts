// The one comparison `troupe verify DIR` makes, and the LoRA fixture files too: what troupe
// computed from a reference's weights and inputs against PyTorch's, tensor by tensor, under the
// per-tensor relative bounds of the kernels layer's verify (compareToReference: logits, losses
// and gradients within ε = 2·u·√K·D of each tensor's largest value, the AdamW trajectory within
// a fraction of how far the reference moved each tensor). Every expected tensor is required.
// The numerics shape comes from the model: K = max(B·T, the largest dimension of any parameter),
// D = layers + 2, for any architecture. bf16_logits (logits of BF16 weights, computed in f32)
// use the logits' bound.
import {
  CheckKind,
  type CheckSummary,
  type NumericsShape,
  type ReferenceBounds,
  type ReferenceRun,
  type Tensor,
  type TensorCheck,
  type AdamWSettings as KernelAdamW,
  compareScaled,
  compareToReference,
  f32RelativeBound,
  requireReferenceTensors,
} from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { ModelFileError } from "../errors.js";

export const DirCheckKind = [...CheckKind, "bf16_logits"] as const;
export type DirCheckKind = (typeof DirCheckKind)[number];

/** What a reproduction computed, keyed by the reference's tensor names (grad.<name>, after.<name>). */
export interface DirRun extends ReferenceRun {
  /** The trained tensors' reference names. */
  readonly params: readonly string[];
  /** Each trained tensor before the steps (reference layout). */
  readonly initial: ReadonlyMap<string, ArrayLike<number>>;
  readonly sizes: ReadonlyMap<string, number>;
  readonly adamw: KernelAdamW | null;
  readonly numerics: NumericsShape;
}

export interface ComparisonReport {
  readonly ok: boolean;
  /** The largest |troupe - PyTorch| of each check present (the bounds are per tensor: see checks). */
  readonly max_abs_diff: Partial<Record<DirCheckKind, number>>;
  /** Per check, where its worst element is ("grad.model.norm.weight[3]"). */
  readonly worst: Partial<Record<DirCheckKind, string>>;
  /** Checks over their bound. */
  readonly failed: DirCheckKind[];
  readonly bounds: ReferenceBounds;
  readonly checks: Partial<Record<DirCheckKind, CheckSummary>>;
  readonly tensors: (Omit<TensorCheck, "kind"> & { kind: DirCheckKind })[];
}

/** K = max(B·T, the largest dimension of any parameter), D = layers + 2. */
export function modelNumerics(model: CausalLM, batch: number, time: number): NumericsShape {
  let k = batch * time;
  for (const [, p] of model.namedParameters()) for (const d of p.shape) k = Math.max(k, d);
  return { reduction: k, depth: model.dims.layers + 2 };
}

function summarize(checks: readonly { elements: number; max_abs_diff: number; worst_ratio: number; name: string; worst: { index: number } | null }[]): CheckSummary {
  let worst: (typeof checks)[number] | null = null;
  let maxDiff = 0;
  let elements = 0;
  for (const c of checks) {
    elements += c.elements;
    if (c.max_abs_diff > maxDiff) maxDiff = c.max_abs_diff;
    if (c.elements > 0 && (worst === null || c.worst_ratio > worst.worst_ratio)) worst = c;
  }
  const ratio = worst?.worst_ratio ?? 0;
  return { tensors: checks.length, elements, max_abs_diff: maxDiff, worst_ratio: ratio, worst: worst?.worst ? `${worst.name}[${worst.worst.index}]` : null, ok: ratio <= 1 };
}

/**
 * Compares a run with its reference file's tensors; `bf16` (troupe's logits on BF16 weights and
 * PyTorch's) is checked against the logits' bound when given. A missing or misshapen expected
 * tensor is a ModelFileError naming the file.
 */
export function compareRun(run: DirRun, reference: ReadonlyMap<string, Tensor>, file: string, bf16?: { actual: ArrayLike<number>; expected: ArrayLike<number> }): ComparisonReport {
  const expect = { params: run.params, adamw: run.adamw };
  try {
    requireReferenceTensors(file, reference, expect, run.sizes);
  } catch (err) {
    throw new ModelFileError({ file }, (err as Error).message.replace(`${file}: `, ""), { cause: err });
  }
  const logits = reference.get("out.logits")!;
  if (logits.size !== run.logits.length) throw new ModelFileError({ file, tensor: "out.logits" }, `has ${logits.size} values, troupe computed ${run.logits.length}`);
  const cmp = compareToReference(run, reference, expect, run.initial, run.numerics);
  const tensors: ComparisonReport["tensors"] = [...cmp.tensors];
  if (bf16) {
    if (bf16.actual.length !== bf16.expected.length) throw new ModelFileError({ file, tensor: "bf16 out.logits" }, `has ${bf16.expected.length} values, troupe computed ${bf16.actual.length}`);
    tensors.push({ ...compareScaled("bf16:out.logits", bf16.actual, bf16.expected, f32RelativeBound(run.numerics), 0), kind: "bf16_logits" });
  }
  const checks: Partial<Record<DirCheckKind, CheckSummary>> = {};
  for (const k of DirCheckKind) {
    const of = tensors.filter((t) => t.kind === k);
    if (of.length) checks[k] = summarize(of);
  }
  const present = Object.keys(checks) as DirCheckKind[];
  const max_abs_diff = Object.fromEntries(present.map((k) => [k, checks[k]!.max_abs_diff]));
  const worst = Object.fromEntries(present.filter((k) => checks[k]!.worst).map((k) => [k, checks[k]!.worst!]));
  const failed = present.filter((k) => !checks[k]!.ok);
  return { ok: failed.length === 0 && tensors.length > 0, max_abs_diff, worst, failed, bounds: cmp.bounds, checks, tensors };
}
