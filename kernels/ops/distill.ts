// Knowledge distillation: the fused loss α·T²·KL(softmax(t/T) ‖ softmax(s/T)) + (1−α)·CE(s, y)
// in one native kernel with its backward (src/compress), with a dense teacher [..., V] or only
// the teacher's top-k logits per row (the full-vocabulary teacher never materialised), plus
// the helpers to make those: topK and multi-teacher averaging. Gradients flow to the student.
// Legend: N rows (all leading dims), V classes, K teacher entries kept per row.
import { gradOf, record } from "../autograd/graph.js";
import { IGNORE_INDEX } from "../constants.js";
import { ArgumentError } from "../errors.js";
import { native } from "../native/load.js";
import { alloc } from "../tensor/arena.js";
import type { Tensor, TensorImpl } from "../tensor/tensor.js";
import { expectF32, expectI32, expectIndices, expectRank, expectSameShape, expectShape, fmt, oneOf, positiveInt, positiveNumber } from "./validate.js";
import type { Reduction } from "./loss.js";

export interface DistillOptions {
  /** Softmax temperature of the KL term (default 2). */
  readonly temperature?: number;
  /** Weight of the KL term in [0, 1]; 1 − alpha weighs the hard-label CE (default 0.5; 1 needs no targets). */
  readonly alpha?: number;
  /** Rows whose target equals this give 0 and no gradient (default IGNORE_INDEX). */
  readonly ignoreIndex?: number;
  /** "mean" over the kept rows (default), "sum", or "none" (per row). */
  readonly reduction?: Reduction;
}

/** A teacher given by its k largest logits per row: indices i32 [..., K], values f32 [..., K]. */
export interface TopKTeacher {
  readonly indices: Tensor;
  readonly values: Tensor;
}

const reductions: readonly Reduction[] = ["mean", "sum", "none"];

interface Common {
  si: TensorImpl;
  td: Int32Array | null;
  N: number;
  V: number;
  T: number;
  alpha: number;
  ignore: number;
  reduction: Reduction;
  count: number;
}

function common(op: string, student: Tensor, targets: Tensor | null, o: DistillOptions): Common {
  const si = expectF32(op, "student", student);
  expectRank(op, "student", si, 1, Infinity);
  const V = si.shape[si.shape.length - 1]!;
  const N = V === 0 ? 0 : si.size / V;
  const T = positiveNumber(op, "temperature", o.temperature ?? 2);
  const alpha = o.alpha ?? 0.5;
  if (typeof alpha !== "number" || !(alpha >= 0 && alpha <= 1)) {
    throw new ArgumentError({ op, arg: "alpha" }, `Expected "alpha" to be a number in [0, 1], got ${String(alpha)}`);
  }
  const ignore = o.ignoreIndex ?? IGNORE_INDEX;
  const reduction = oneOf(op, "reduction", o.reduction ?? "mean", reductions);
  let td: Int32Array | null = null;
  let count = N;
  if (targets === null) {
    if (alpha !== 1) throw new ArgumentError({ op, arg: "targets" }, `Expected "targets" for the hard-label term (alpha ${alpha} < 1); pass alpha 1 to distil without labels`);
  } else {
    const ti = expectI32(op, "targets", targets);
    expectShape(op, "targets", ti, si.shape.slice(0, -1), `"student" is ${fmt(si.shape)}`);
    expectIndices(op, "targets", ti, V, ignore);
    td = ti.i32();
    count = 0;
    for (let i = 0; i < N; i++) if (td[i] !== ignore) count++;
  }
  return { si, td, N, V, T, alpha, ignore, reduction, count };
}

function reduce(losses: TensorImpl, c: Common): { out: TensorImpl; scale: number; stride: number } {
  if (c.reduction === "none") return { out: losses, scale: 1, stride: 1 };
  const d = losses.f32();
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  const out = alloc("f32", []);
  const mean = c.reduction === "mean";
  out.f32()[0] = mean ? (c.count === 0 ? 0 : s / c.count) : s;
  return { out, scale: mean ? (c.count === 0 ? 0 : 1 / c.count) : 1, stride: 0 };
}

/** The fused distillation loss against a dense teacher [..., V] (same shape as the student). */
export function distillationLoss(student: Tensor, teacher: Tensor, targets: Tensor | null, options: DistillOptions = {}): Tensor {
  const op = "distillationLoss";
  const c = common(op, student, targets, options);
  const ti = expectF32(op, "teacher", teacher);
  expectSameShape(op, "student", c.si, "teacher", ti);
  const nat = native();
  const losses = alloc("f32", c.si.shape.slice(0, -1));
  const saved = alloc("f32", [3 * c.N]);
  nat.kdForward(losses.f32(), saved.f32(), c.si.f32(), ti.f32(), c.td, c.N, c.V, c.T, c.alpha, c.ignore);
  const { out, scale, stride } = reduce(losses, c);
  return record(op, [c.si], out, (g) => {
    nat.kdBackward(gradOf(c.si).f32(), g.f32(), stride, scale, c.si.f32(), ti.f32(), saved.f32(), c.td, c.N, c.V, c.T, c.alpha, c.ignore);
  });
}

/** The fused distillation loss against the teacher's top-k logits (p_t renormalised over those K classes). */
export function distillationLossTopK(student: Tensor, teacher: TopKTeacher, targets: Tensor | null, options: DistillOptions = {}): Tensor {
  const op = "distillationLossTopK";
  const c = common(op, student, targets, options);
  const ii = expectI32(op, "teacher.indices", teacher?.indices);
  const vi = expectF32(op, "teacher.values", teacher?.values);
  const lead = c.si.shape.slice(0, -1);
  const K = ii.shape[ii.shape.length - 1] ?? 0;
  expectShape(op, "teacher.indices", ii, [...lead, null], `"student" is ${fmt(c.si.shape)}`);
  expectSameShape(op, "teacher.indices", ii, "teacher.values", vi);
  positiveInt(op, "K", K);
  if (K > c.V) throw new ArgumentError({ op, arg: "teacher.indices" }, `Expected at most V = ${c.V} teacher entries per row, got ${K}`);
  expectIndices(op, "teacher.indices", ii, c.V);
  const idx = ii.i32();
  for (let r = 0; r < c.N; r++) {
    const seen = new Set<number>();
    for (let k = 0; k < K; k++) {
      const v = idx[r * K + k]!;
      if (seen.has(v)) throw new ArgumentError({ op, arg: "teacher.indices" }, `Expected distinct class ids per row, got ${v} twice in row ${r}`);
      seen.add(v);
    }
  }
  const nat = native();
  const losses = alloc("f32", lead);
  const saved = alloc("f32", [3 * c.N]);
  nat.kdTopkForward(losses.f32(), saved.f32(), c.si.f32(), idx, vi.f32(), c.td, c.N, c.V, K, c.T, c.alpha, c.ignore);
  const { out, scale, stride } = reduce(losses, c);
  return record(op, [c.si], out, (g) => {
    nat.kdTopkBackward(gradOf(c.si).f32(), g.f32(), stride, scale, c.si.f32(), idx, vi.f32(), saved.f32(), c.td, c.N, c.V, K, c.T, c.alpha, c.ignore);
  });
}

/** The k largest entries of each row of logits [..., V] (descending; ties by lower index). No gradient. */
export function topK(logits: Tensor, k: number): TopKTeacher {
  const op = "topK";
  const li = expectF32(op, "logits", logits);
  expectRank(op, "logits", li, 1, Infinity);
  const V = li.shape[li.shape.length - 1]!;
  positiveInt(op, "k", k);
  if (k > V) throw new ArgumentError({ op, arg: "k" }, `Expected "k" to be at most V = ${V}, got ${k}`);
  const N = li.size / V;
  const shape = [...li.shape.slice(0, -1), k];
  const indices = alloc("i32", shape);
  const values = alloc("f32", shape);
  const x = li.f32(), oi = indices.i32(), ov = values.f32();
  const order = new Int32Array(V);
  for (let r = 0; r < N; r++) {
    for (let v = 0; v < V; v++) order[v] = v;
    const row = x.subarray(r * V, (r + 1) * V);
    const sorted = Array.from(order).sort((a, b) => row[b]! - row[a]! || a - b);
    for (let j = 0; j < k; j++) {
      oi[r * k + j] = sorted[j]!;
      ov[r * k + j] = row[sorted[j]!]!;
    }
  }
  return { indices, values };
}

/**
 * Several teachers as one: logits whose softmax at temperature T is the mean of the teachers'
 * softmax(z/T), i.e. T·log(mean_m softmax(z_m/T)) per row. Optional weights (default equal).
 */
export function averageTeachers(teachers: readonly Tensor[], temperature: number, weights?: readonly number[]): Tensor {
  const op = "averageTeachers";
  if (!Array.isArray(teachers) || teachers.length === 0) throw new ArgumentError({ op, arg: "teachers" }, "Expected at least one teacher");
  const T = positiveNumber(op, "temperature", temperature);
  const first = expectF32(op, "teachers[0]", teachers[0]);
  const ts = teachers.map((t, i) => {
    const ti = expectF32(op, `teachers[${i}]`, t);
    expectSameShape(op, "teachers[0]", first, `teachers[${i}]`, ti);
    return ti.f32();
  });
  const w = weights ?? teachers.map(() => 1 / teachers.length);
  if (w.length !== teachers.length || w.some((x) => !(x >= 0)) || Math.abs(w.reduce((a, b) => a + b, 0) - 1) > 1e-6) {
    throw new ArgumentError({ op, arg: "weights" }, `Expected ${teachers.length} non-negative weights summing to 1, got ${JSON.stringify(w)}`);
  }
  const V = first.shape[first.shape.length - 1]!;
  const N = first.size / V;
  const out = alloc("f32", first.shape);
  const o = out.f32();
  const p = new Float64Array(V);
  for (let r = 0; r < N; r++) {
    p.fill(0);
    for (let m = 0; m < ts.length; m++) {
      const row = ts[m]!.subarray(r * V, (r + 1) * V);
      let mx = -Infinity;
      for (let v = 0; v < V; v++) mx = Math.max(mx, row[v]! / T);
      let s = 0;
      for (let v = 0; v < V; v++) s += Math.exp(row[v]! / T - mx);
      for (let v = 0; v < V; v++) p[v]! += w[m]! * Math.exp(row[v]! / T - mx) / s;
    }
    for (let v = 0; v < V; v++) o[r * V + v] = p[v]! > 0 ? T * Math.log(p[v]!) : -1e30;
  }
  return out;
}
