// Compares what an implementation computed with a PyTorch reference file, tensor by tensor,
// for any architecture: the caller says which tensors the reference must hold (the names of
// the trainable parameters, whether it recorded AdamW steps) and passes its own results.
// Reference names: out.logits, out.loss, grad.<param>, train.losses, after.<param>.
// Every expected tensor is required: a missing or misshapen one is a FormatError, never a match.
import { FormatError } from "../errors.js";
import type { Tensor } from "../tensor/tensor.js";
import {
  type AdamWSettings,
  type NumericsShape,
  type TensorComparison,
  F32_UNIT_ROUNDOFF,
  TRAJECTORY_FRACTION,
  adamTravel,
  compareElements,
  compareScaled,
  compareTrajectory,
  f32RelativeBound,
  maxAbs,
} from "./tolerance.js";

export interface ReferenceExpectation {
  /** Trainable parameters: the reference holds grad.<name> for each (and after.<name> with `steps`). */
  readonly params: readonly string[];
  /** The AdamW steps recorded as train.losses and after.<name>; null when the reference has none. */
  readonly adamw: AdamWSettings | null;
}

/** What the implementation computed from the reference's parameters and inputs. */
export interface ReferenceRun {
  readonly logits: ArrayLike<number>;
  readonly loss: number;
  /** Gradient of the loss for every expected parameter. */
  readonly grads: ReadonlyMap<string, ArrayLike<number>>;
  /** With adamw: the loss before each step, and every expected parameter after the last. */
  readonly trainLosses?: readonly number[];
  readonly after?: ReadonlyMap<string, ArrayLike<number>>;
}

export const CheckKind = ["logits", "loss", "grads", "train_losses", "after_params", "after_small_grad"] as const;
export type CheckKind = (typeof CheckKind)[number];

/** One kind of check over all its tensors: the worst element decides. */
export interface CheckSummary {
  readonly tensors: number;
  readonly elements: number;
  readonly max_abs_diff: number;
  /** Largest difference / bound: at most 1 passes. */
  readonly worst_ratio: number;
  /** Where: "grad.h.0.fc.weight[17]". */
  readonly worst: string | null;
  readonly ok: boolean;
}

export interface ReferenceBounds {
  /** ε = 2·u·√K·D for logits, losses and gradients (relative to each tensor's largest value). */
  readonly relative: number;
  readonly numerics: NumericsShape;
  /** 2·u·max|any reference gradient|: the absolute floor under each gradient's bound. */
  readonly grad_floor: number;
  /** ρ: after the steps, within this fraction of how far the reference moved the tensor. */
  readonly trajectory_fraction: number;
  /** lr·Σ U_t: the farthest the AdamW steps can move one element; small-gradient elements get twice this. */
  readonly adam_travel: number | null;
}

export interface TensorCheck extends TensorComparison {
  readonly kind: CheckKind;
}

export interface ReferenceComparison {
  readonly ok: boolean;
  readonly bounds: ReferenceBounds;
  readonly checks: Record<CheckKind, CheckSummary>;
  /** Every comparison, one per tensor and kind. */
  readonly tensors: TensorCheck[];
}

/** Throws a FormatError listing every expected tensor that is missing or has the wrong size. */
export function requireReferenceTensors(
  path: string,
  reference: ReadonlyMap<string, Tensor>,
  expect: ReferenceExpectation,
  sizes: ReadonlyMap<string, number>,
): void {
  const want: [string, number | null][] = [["out.logits", null], ["out.loss", 1]];
  for (const p of expect.params) want.push([`grad.${p}`, sizes.get(p) ?? null]);
  if (expect.adamw) {
    want.push(["train.losses", expect.adamw.steps]);
    for (const p of expect.params) want.push([`after.${p}`, sizes.get(p) ?? null]);
  }
  const missing = want.filter(([n]) => !reference.has(n)).map(([n]) => n);
  const wrong = want
    .filter(([n, size]) => size !== null && reference.has(n) && reference.get(n)!.size !== size)
    .map(([n, size]) => `${n} has ${reference.get(n)!.size} values, expected ${size}`);
  const notF32 = want.filter(([n]) => reference.has(n) && reference.get(n)!.dtype !== "f32").map(([n]) => `${n} is ${reference.get(n)!.dtype}`);
  const problems = [
    ...(missing.length ? [`missing ${missing.length} expected tensor${missing.length > 1 ? "s" : ""}: ${abbreviate(missing)}`] : []),
    ...wrong,
    ...notF32.map((s) => `${s}, expected f32`),
  ];
  if (problems.length) throw new FormatError(`${path}: ${problems.join("; ")}`);
}

function abbreviate(names: string[]): string {
  return names.length <= 8 ? names.join(", ") : `${names.slice(0, 8).join(", ")} and ${names.length - 8} more`;
}

function summarize(checks: readonly TensorCheck[]): CheckSummary {
  let worst: TensorCheck | null = null;
  let maxDiff = 0;
  let elements = 0;
  for (const c of checks) {
    elements += c.elements;
    if (c.max_abs_diff > maxDiff) maxDiff = c.max_abs_diff;
    if (c.elements > 0 && (worst === null || c.worst_ratio > worst.worst_ratio)) worst = c;
  }
  const ratio = worst?.worst_ratio ?? 0;
  const where = worst?.worst ? `${worst.name}[${worst.worst.index}]` : null;
  return { tensors: checks.length, elements, max_abs_diff: maxDiff, worst_ratio: ratio, worst: where, ok: ratio <= 1 };
}

/**
 * Compares a run with its reference (checked with requireReferenceTensors first):
 * logits |Δ| <= ε·max|logits|; loss and train losses |Δ| <= ε·max(|loss|, max|logits|);
 * each gradient |Δ| <= ε·max|grad| + 2u·max|any grad|; each parameter after the steps as
 * compareTrajectory says, with the small-gradient floor max(gradient bound, AdamW eps).
 */
export function compareToReference(
  run: ReferenceRun,
  reference: ReadonlyMap<string, Tensor>,
  expect: ReferenceExpectation,
  initial: ReadonlyMap<string, ArrayLike<number>>,
  numerics: NumericsShape,
): ReferenceComparison {
  const ref = (n: string) => reference.get(n)!.f32();
  const eps = f32RelativeBound(numerics);
  const checks: TensorCheck[] = [];
  const add = (kind: CheckKind, c: TensorComparison) => checks.push({ ...c, kind });

  const refLogits = ref("out.logits");
  const logitScale = maxAbs(refLogits);
  add("logits", compareScaled("out.logits", run.logits, refLogits, eps, 0));
  const refLoss = ref("out.loss")[0]!;
  const lossBound = eps * Math.max(Math.abs(refLoss), logitScale);
  add("loss", compareElements("out.loss", [run.loss], [refLoss], () => lossBound));

  let gMax = 0;
  for (const p of expect.params) gMax = Math.max(gMax, maxAbs(ref(`grad.${p}`)));
  const gradFloor = 2 * F32_UNIT_ROUNDOFF * gMax;
  const gradBound = new Map<string, number>();
  for (const p of expect.params) {
    const want = ref(`grad.${p}`);
    const got = run.grads.get(p);
    if (!got) throw new FormatError(`the run has no gradient for "${p}"`);
    gradBound.set(p, eps * maxAbs(want) + gradFloor);
    add("grads", compareScaled(`grad.${p}`, got, want, eps, gradFloor));
  }

  const a = expect.adamw;
  if (a) {
    const losses = run.trainLosses ?? [];
    const trainBound = eps * Math.max(maxAbs(ref("train.losses")), logitScale);
    if (losses.length !== a.steps) throw new FormatError(`the run has ${losses.length} training losses, expected ${a.steps}`);
    add("train_losses", compareElements("train.losses", losses, ref("train.losses"), () => trainBound));
    for (const p of expect.params) {
      const got = run.after?.get(p);
      const before = initial.get(p);
      if (!got || !before) throw new FormatError(`the run has no ${got ? "initial value" : "final value"} for "${p}"`);
      const t = compareTrajectory(`after.${p}`, got, ref(`after.${p}`), before, ref(`grad.${p}`), {
        adamw: a,
        gradFloor: Math.max(gradBound.get(p)!, a.eps),
      });
      add("after_params", t.regular);
      add("after_small_grad", t.small);
    }
  }
  const summary = Object.fromEntries(CheckKind.map((k) => [k, summarize(checks.filter((c) => c.kind === k))])) as Record<CheckKind, CheckSummary>;
  return {
    ok: checks.every((c) => c.ok),
    bounds: {
      relative: eps,
      numerics,
      grad_floor: gradFloor,
      trajectory_fraction: TRAJECTORY_FRACTION,
      adam_travel: a ? adamTravel(a) : null,
    },
    checks: summary,
    tensors: checks,
  };
}
