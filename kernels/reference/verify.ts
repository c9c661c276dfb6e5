// Reproduces a GPT reference fixture with troupe's kernels: forward (logits, loss), backward
// (every gradient), then the fixture's AdamW steps on the same batch (the loss before each step
// and the parameters after the last), and compares each with its bound (compare.ts,
// tolerance.ts). Every tensor the format promises must be there, and nothing else.
import { backward } from "../autograd/graph.js";
import { FormatError } from "../errors.js";
import { GPT } from "../nn/gpt.js";
import { crossEntropy } from "../ops/loss.js";
import { adamw } from "../optim/adam.js";
import { createRng } from "../tensor/rng.js";
import type { Tensor } from "../tensor/tensor.js";
import { type CheckSummary, type ReferenceBounds, type TensorCheck, CheckKind, compareToReference, requireReferenceTensors } from "./compare.js";
import { type FixtureConfig, gptConfigOf, loadFixture } from "./fixture.js";
import type { NumericsShape } from "./tolerance.js";

export interface VerifyReport {
  readonly kind: "gpt";
  readonly path: string;
  readonly config: FixtureConfig;
  readonly ok: boolean;
  /** The largest |troupe - PyTorch| of each check (the bounds are per tensor: see checks). */
  readonly max_abs_diff: Record<CheckKind, number>;
  readonly bounds: ReferenceBounds;
  readonly checks: Record<CheckKind, CheckSummary>;
  readonly tensors: TensorCheck[];
}

/** K = max(B·T, 4C, V) (weight gradients sum over B·T rows, the MLP over 4C, the head over V); D = layers + 2. */
export function gptNumerics(c: FixtureConfig, batch: number, time: number): NumericsShape {
  return { reduction: Math.max(batch * time, 4 * c.n_embd, c.vocab_size), depth: c.n_layer + 2 };
}

function checkNames(path: string, tensors: ReadonlyMap<string, Tensor>, params: readonly string[]): void {
  const missing = params.filter((n) => !tensors.has(n));
  if (missing.length) throw new FormatError(`${path}: missing ${missing.length} parameter${missing.length > 1 ? "s" : ""} of this config: ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? " ..." : ""}`);
  const known = new Set(["input.idx", "input.targets", "out.logits", "out.loss", "train.losses", ...params, ...params.map((p) => `grad.${p}`), ...params.map((p) => `after.${p}`)]);
  const extra = [...tensors.keys()].filter((n) => !known.has(n));
  if (extra.length) {
    throw new FormatError(`${path}: ${extra.length} tensor${extra.length > 1 ? "s" : ""} this config does not have (${extra.slice(0, 8).join(", ")}${extra.length > 8 ? " ..." : ""}); does __metadata__.config describe this file?`);
  }
}

export function verifyFixture(path: string): VerifyReport {
  const fx = loadFixture(path);
  const model = new GPT(gptConfigOf(fx.config), createRng(0));
  const params = model.namedParameters().map(([n]) => n);
  checkNames(path, fx.tensors, params);
  const a = fx.config.adamw;
  const sizes = new Map(model.namedParameters().map(([n, p]) => [n, p.size]));
  const expect = { params, adamw: a };
  requireReferenceTensors(path, fx.tensors, expect, sizes);
  model.loadStateDict(new Map(params.map((n) => [n, fx.tensors.get(n)!])));
  const initial = new Map(params.map((n) => [n, fx.tensors.get(n)!.f32()]));
  const idx = fx.tensors.get("input.idx")!;
  const targets = fx.tensors.get("input.targets")!;
  if (idx.shape.length !== 2) throw new FormatError(`${path}: input.idx must be [B, T], got [${idx.shape.join(", ")}]`);
  const [B, T] = idx.shape as [number, number];
  const nLogits = fx.tensors.get("out.logits")!.size;
  if (nLogits !== B * T * fx.config.vocab_size) throw new FormatError(`${path}: out.logits has ${nLogits} values, expected B·T·V = ${B * T * fx.config.vocab_size}`);

  // forward, loss, backward
  const logits = model.forward(idx);
  const loss = crossEntropy(logits, targets);
  const logitValues = logits.f32().slice();
  const lossValue = loss.item();
  backward(loss);
  const grads = new Map(model.namedParameters().map(([n, p]) => [n, p.grad ? p.grad.f32().slice() : new Float32Array(p.size).fill(NaN)]));

  // the training steps on the same batch: the first reuses the gradient above
  const opt = adamw(model, { lr: a.lr, betas: [a.beta1, a.beta2], eps: a.eps, weightDecay: a.weight_decay });
  const trainLosses: number[] = [];
  for (let step = 0; step < a.steps; step++) {
    if (step > 0) {
      opt.zeroGrad();
      const l = crossEntropy(model.forward(idx), targets);
      trainLosses.push(l.item());
      backward(l);
    } else {
      trainLosses.push(lossValue);
    }
    opt.step();
  }
  const after = new Map(model.namedParameters().map(([n, p]) => [n, p.f32()]));
  const cmp = compareToReference({ logits: logitValues, loss: lossValue, grads, trainLosses, after }, fx.tensors, expect, initial, gptNumerics(fx.config, B, T));
  const maxAbsDiff = Object.fromEntries(CheckKind.map((k) => [k, cmp.checks[k].max_abs_diff])) as Record<CheckKind, number>;
  return { kind: "gpt", path, config: fx.config, ok: cmp.ok, max_abs_diff: maxAbsDiff, bounds: cmp.bounds, checks: cmp.checks, tensors: cmp.tensors };
}
