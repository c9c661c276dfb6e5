// Shared test helpers for the kernels layer: seeded data, comparisons, kernel modes, and the
// finite-difference gradient check (tinygrad's helper_test_op idea: shape, then dtype, then
// values, with separate forward and gradient tolerances).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as K from "../../kernels/mod.js";
import { sharedPath } from "../../bench/shared.js";
import { skipUnlessCI } from "../harness/needs.js";
import type { Tensor } from "../../kernels/mod.js";

export { K };

/** <repo> (tests compile to <repo>/dist/tests/kernels). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const fixturesDir = join(repoRoot, "tests", "kernels", "fixtures");
/** <repo>/../shared/fixtures, found as bench/shared.ts says ($TROUPE_SHARED, ancestors, origin). */
export const sharedFixtures = sharedPath("fixtures");

/** The shared fixture path, or null when absent (see sharedMissing). */
export function sharedFixture(name: string): string | null {
  const p = join(sharedFixtures, name);
  return existsSync(p) ? p : null;
}

/** Why a shared fixture cannot be used (for testNeeding), or null when it is there. */
export function sharedMissing(name: string): string | null {
  if (sharedFixture(name)) return null;
  return `${join(sharedFixtures, name)} not found (the shared fixtures live in ../shared beside the repository; or set TROUPE_SHARED)`;
}

/** A `{ skip }` reason when a shared fixture is absent, else false; under CI its absence fails the file (prefer testNeeding). */
export function sharedSkip(name: string): string | false {
  return skipUnlessCI(sharedMissing(name));
}

export function randomTensor(shape: readonly number[], rng: K.Rng, scale = 1): Tensor {
  return K.randn(shape, rng, scale);
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, "lengths differ");
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (Number.isNaN(d)) return Infinity;
    if (d > m) m = d;
  }
  return m;
}

/** |a - b| <= atol + rtol * |b| elementwise, with a readable failure. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const ok = a === e || Math.abs(a - e) <= atol + rtol * Math.abs(e) || (Number.isNaN(a) && Number.isNaN(e));
    if (!ok) assert.fail(`${what}: element ${i} is ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
  }
}

export function assertShape(t: Tensor, shape: readonly number[], what: string): void {
  assert.deepEqual([...t.shape], [...shape], `${what}: shape`);
}

/** The fast kernel modes this machine runs (always "portable"). */
export function fastModes(): K.KernelMode[] {
  const cpu = K.kernelInfo().cpu;
  const modes: K.KernelMode[] = ["portable"];
  if (cpu.avx2) modes.push("avx2");
  if (cpu.avx512) modes.push("avx512");
  return modes;
}

/** Runs fn under the naive reference kernels. */
export function reference<T>(fn: () => T): T {
  return K.withKernels({ mode: "reference" }, fn);
}

export interface GradCheckOptions {
  /** Finite-difference step (default 1e-2, central differences). */
  readonly h?: number;
  readonly atol?: number;
  readonly rtol?: number;
  /** Elements checked per input (sampled; default 12). */
  readonly samples?: number;
  readonly seed?: number;
}

/**
 * Checks d(sum(f(inputs) * R))/d input against central finite differences for every input that
 * requires grad. The forward runs under the reference kernels (double accumulations) so the
 * numeric derivative is precise; the analytic gradient comes from the active (fast) kernels.
 */
export function gradCheck(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): void {
  const h = options.h ?? 1e-2;
  const atol = options.atol ?? 2e-3;
  const rtol = options.rtol ?? 2e-2;
  const rng = K.createRng(options.seed ?? 99);
  // analytic
  for (const x of inputs) if (x.requiresGrad) x.grad = null;
  const out = f(...inputs);
  const R = K.randn(out.shape, rng);
  const loss = K.sum(K.mul(out, R));
  K.backward(loss);
  const objective = (): number => reference(() => K.noGrad(() => {
    const o = f(...inputs).f32();
    const r = R.f32();
    let s = 0;
    for (let i = 0; i < o.length; i++) s += o[i]! * r[i]!;
    return s;
  }));
  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    assert.ok(x.grad, `${name}: input ${k} got no gradient`);
    const g = x.grad!.f32();
    const d = x.f32();
    const n = Math.min(options.samples ?? 12, d.length);
    const picks = new Set<number>();
    while (picks.size < n) picks.add(rng.int(d.length));
    for (const i of picks) {
      const v = d[i]!;
      d[i] = v + h;
      const hi = d[i]!;
      const up = objective();
      d[i] = v - h;
      const lo = d[i]!;
      const down = objective();
      d[i] = v;
      const numeric = (up - down) / (hi - lo); // the f32 step actually taken
      const ok = Math.abs(g[i]! - numeric) <= atol + rtol * Math.abs(numeric);
      if (!ok) assert.fail(`${name}: d/d input${k}[${i}] analytic ${g[i]} vs numeric ${numeric} (shape ${K.formatShape(x.shape)})`);
    }
  });
}

/** A leaf that requires grad. */
export function leaf(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t;
}
