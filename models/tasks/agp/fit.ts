// The optimisation loop of the stage 2-6 tasks: AdamW over the given parameters, a cosine
// schedule from lr to lr/10 after a short warm-up, gradient clipping, the NaN/Inf guard of the
// trainer loop (skip and count; stop after 5 in a row), an AbortSignal checked every step, and
// the λ of each term per step (a step whose λ are all 0 updates nothing, and a parameter the
// step's loss does not reach is left as it is).
import { type Rng, type Tensor, adamw, backward, clipGradNorm, cosineWithWarmup, createRng, workspace } from "../../../kernels/mod.js";
import { ModelConfigError, NonFiniteLossError, TrainingAbortedError } from "../../errors.js";
import type { AgpProgress, AgpRunOptions, AgpTerm, LambdaFn } from "./common.js";

export interface StepLoss {
  /** the λ-weighted total, or null when every λ is 0 at this step */
  readonly loss: Tensor | null;
  /** each term's unweighted value */
  readonly parts: Record<string, number>;
}

export interface FitOptions extends AgpRunOptions {
  readonly params: readonly (readonly [string, Tensor])[];
  readonly terms: readonly AgpTerm[];
  /** builds one step's loss from the λ of this step (synchronous; runs in a workspace) */
  readonly lossAt: (step: number, lambdas: Partial<Record<AgpTerm, number>>, rng: Rng) => StepLoss;
  readonly clipNorm?: number;
}

export interface FitResult {
  readonly steps: number;
  readonly skippedSteps: number;
  /** each part's mean over the last (up to 50) steps, and the first step's parts */
  readonly last: Record<string, number>;
  readonly first: Record<string, number>;
  /** total loss every step (for loss curves) */
  readonly curve: number[];
  readonly wallMs: number;
}

export async function fit(o: FitOptions): Promise<FitResult> {
  if (!Number.isInteger(o.steps) || o.steps < 1) throw new ModelConfigError("steps", `expected a positive integer, got ${o.steps}`);
  const lr = o.lr ?? 1e-3;
  if (!(lr > 0)) throw new ModelConfigError("lr", `expected a positive number, got ${lr}`);
  const params = o.params.filter(([, t]) => t.requiresGrad);
  if (params.length === 0) throw new ModelConfigError("params", "nothing to train (no parameter requires grad)");
  const t0 = performance.now();
  const opt = adamw(params, { lr, weightDecay: o.weightDecay ?? 0.01, decay: (_n, t) => t.shape.length >= 2 });
  const schedule = cosineWithWarmup({ maxLr: lr, minLr: lr / 10, warmupSteps: Math.min(20, Math.floor(o.steps / 10)), totalSteps: o.steps });
  const lambdaFn: LambdaFn = o.lambdas ?? (() => Object.fromEntries(o.terms.map((t) => [t, 1])));
  const rng = createRng(o.seed ?? 0);
  const ws = workspace();
  const recent: Record<string, number>[] = [];
  let first: Record<string, number> = {};
  const curve: number[] = [];
  let skipped = 0;
  let streak = 0;
  for (let step = 0; step < o.steps; step++) {
    if (o.signal?.aborted) throw new TrainingAbortedError(step, { cause: o.signal.reason });
    const all = lambdaFn(step);
    const lambdas: Partial<Record<AgpTerm, number>> = Object.fromEntries(o.terms.map((t) => [t, all[t] ?? 0]));
    opt.lr = schedule(step);
    // no gradient at all (not a zero one) for what this step's loss does not reach: AdamW skips
    // those parameters, so a module whose λ is 0 is not even weight-decayed
    for (const [, t] of params) t.grad = null;
    const { total, parts, trained } = ws.run(() => {
      const s = o.lossAt(step, lambdas, rng);
      if (!s.loss) return { total: 0, parts: s.parts, trained: false };
      const v = s.loss.item();
      if (Number.isFinite(v)) backward(s.loss);
      return { total: v, parts: s.parts, trained: true };
    });
    const norm = trained ? clipGradNorm(params as [string, Tensor][], o.clipNorm ?? 1) : 0;
    const finite = Number.isFinite(total) && Number.isFinite(norm);
    if (trained && finite) {
      opt.step();
      streak = 0;
    } else if (!finite) {
      skipped++;
      if (++streak >= 5) throw new NonFiniteLossError(step + 1, streak);
    }
    const rec = { ...parts, total };
    if (step === 0) first = rec;
    recent.push(rec);
    if (recent.length > 50) recent.shift();
    curve.push(total);
    o.onProgress?.({ step: step + 1, totalSteps: o.steps, losses: rec, lambdas } satisfies AgpProgress);
    if ((step & 7) === 7) await new Promise<void>((r) => setImmediate(r));
  }
  const last: Record<string, number> = {};
  for (const k of Object.keys(recent[0] ?? {})) last[k] = recent.reduce((a, r) => a + (r[k] ?? 0), 0) / recent.length;
  return { steps: o.steps, skippedSteps: skipped, last, first, curve, wallMs: performance.now() - t0 };
}
