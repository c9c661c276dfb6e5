// The one comparison `troupe verify DIR` makes: named tensors, each in a group (logits, loss,
// grads, train_losses, after_params, bf16_logits), against PyTorch's. Today: the largest
// absolute difference per group against the group's tolerance, naming the worst tensor. Every
// verify path calls only this function, so a different rule (per-tensor relative bounds) is a
// change here.
import { ModelFileError } from "../errors.js";

export interface NamedComparison {
  readonly group: string;
  /** The tensor's name in the reference file (grad.model.norm.weight, ...). */
  readonly name: string;
  readonly actual: ArrayLike<number>;
  readonly expected: ArrayLike<number>;
}

export interface ComparisonReport {
  readonly max_abs_diff: Record<string, number>;
  /** Per group, the tensor with the largest difference. */
  readonly worst: Record<string, string>;
  readonly tolerances: Record<string, number>;
  /** Groups over their tolerance. */
  readonly failed: string[];
  readonly ok: boolean;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

/** Compares every item; a group without a tolerance, or items of different sizes, are errors. */
export function compareTensors(items: readonly NamedComparison[], tolerances: Readonly<Record<string, number>>, source: string): ComparisonReport {
  const max: Record<string, number> = {};
  const worst: Record<string, string> = {};
  for (const it of items) {
    if (tolerances[it.group] === undefined) throw new ModelFileError({ file: source, tensor: it.name }, `no tolerance for group "${it.group}"`);
    if (it.actual.length !== it.expected.length) {
      throw new ModelFileError({ file: source, tensor: it.name }, `has ${it.expected.length} values, troupe computed ${it.actual.length}`);
    }
    const d = maxAbsDiff(it.actual, it.expected);
    if (max[it.group] === undefined || !(d <= max[it.group]!)) {
      max[it.group] = d;
      worst[it.group] = it.name;
    }
  }
  const used = Object.fromEntries(Object.keys(max).map((g) => [g, tolerances[g]!]));
  const failed = Object.keys(max).filter((g) => !(max[g]! <= tolerances[g]!));
  return { max_abs_diff: max, worst, tolerances: used, failed, ok: failed.length === 0 && items.length > 0 };
}
