// Reproduces a reference fixture with troupe's kernels: forward (logits, loss), backward (every
// gradient), then the fixture's AdamW steps on the same batch (the loss before each step and the
// parameters after the last), reporting the largest absolute difference of each.
import { backward } from "../autograd/graph.js";
import { GPT } from "../nn/gpt.js";
import { crossEntropy } from "../ops/loss.js";
import { adamw } from "../optim/adam.js";
import { createRng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import { type FixtureConfig, gptConfigOf, loadFixture } from "./fixture.js";
import { FormatError } from "../errors.js";

export const verifyTolerances = {
  logits: 1e-4,
  loss: 1e-4,
  grads: 1e-4,
  train_losses: 1e-4,
  after_params: 1e-5,
} as const;

export interface VerifyReport {
  readonly config: FixtureConfig;
  readonly max_abs_diff: {
    readonly logits: number;
    readonly loss: number;
    readonly grads: number;
    readonly train_losses: number;
    readonly after_params: number;
  };
  readonly ok: boolean;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  if (a.length !== b.length) throw new FormatError(`${what}: ${a.length} values, the fixture has ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function verifyFixture(path: string): VerifyReport {
  const fx = loadFixture(path);
  const t = (name: string): Tensor => {
    const v = fx.tensors.get(name);
    if (!v) throw new FormatError(`${path}: missing tensor "${name}"`);
    return v;
  };
  const model = new GPT(gptConfigOf(fx.config), createRng(0));
  const names = model.namedParameters().map(([n]) => n);
  model.loadStateDict(new Map(names.map((n) => [n, t(n)])));
  const idx = t("input.idx");
  const targets = t("input.targets");

  // forward, loss, backward
  const logits = model.forward(idx);
  const loss = crossEntropy(logits, targets);
  const diff = {
    logits: maxAbsDiff(logits.f32(), t("out.logits").f32(), "out.logits"),
    loss: Math.abs(loss.item() - t("out.loss").item()),
    grads: 0,
    train_losses: 0,
    after_params: 0,
  };
  backward(loss);
  for (const [n, p] of model.namedParameters()) {
    diff.grads = Math.max(diff.grads, maxAbsDiff(p.grad!.f32(), t(`grad.${n}`).f32(), `grad.${n}`));
  }

  // the training steps on the same batch
  const a = fx.config.adamw;
  const opt = adamw(model, { lr: a.lr, betas: [a.beta1, a.beta2], eps: a.eps, weightDecay: a.weight_decay });
  const expected = fx.tensors.has("train.losses") ? t("train.losses").f32() : null;
  const losses: number[] = [];
  for (let step = 0; step < a.steps; step++) {
    if (step > 0) {
      opt.zeroGrad();
      const l = crossEntropy(model.forward(idx), targets);
      losses.push(l.item());
      backward(l);
    } else {
      losses.push(loss.item());
    }
    opt.step();
  }
  if (expected) diff.train_losses = maxAbsDiff(losses, expected, "train.losses");
  for (const [n, p] of model.namedParameters()) {
    const after = fx.tensors.get(`after.${n}`);
    if (after) diff.after_params = Math.max(diff.after_params, maxAbsDiff(p.f32(), after.f32(), `after.${n}`));
  }
  const ok = (Object.keys(verifyTolerances) as (keyof typeof verifyTolerances)[]).every((k) => diff[k] <= verifyTolerances[k]);
  return { config: fx.config, max_abs_diff: diff, ok };
}
