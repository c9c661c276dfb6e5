// kernels - verify's bounds can fail: every way of corrupting a correct PyTorch fixture that
// the bounds exist to catch is rejected, each by the check it concerns, and an incomplete
// fixture is an error, never a match. guards #14 (item 1)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { K, fixturesDir } from "./helpers.js";

const base = join(fixturesDir, "gpt_odd.safetensors");
type Tensors = Map<string, K.Tensor>;

/** Writes the base fixture changed by `mutate` and verifies it. */
function verifyCorrupted(mutate: (t: Tensors) => void): K.VerifyReport {
  const fx = K.readSafetensors(base);
  mutate(fx.tensors);
  const dir = mkdtempSync(join(tmpdir(), "troupe-fx-"));
  try {
    const path = join(dir, "corrupted.safetensors");
    K.writeSafetensors(path, fx.tensors, fx.metadata);
    return K.verifyFixture(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report fails, and exactly the `failing` checks do. */
function expectFails(r: K.VerifyReport, failing: readonly K.CheckKind[]): void {
  assert.equal(r.ok, false, "the corrupted fixture passed");
  const failed = K.CheckKind.filter((k) => !r.checks[k].ok);
  assert.deepEqual(failed, [...failing], `failed checks: ${failed.map((k) => `${k} ${r.checks[k].worst_ratio} at ${r.checks[k].worst}`).join(", ")}`);
}

const gradNames = (t: Tensors) => [...t.keys()].filter((n) => n.startsWith("grad."));

/** `count` distinct (tensor, element) picks over every gradient, seeded. */
function pickGradElements(t: Tensors, count: number, seed: number): [string, number][] {
  const rng = K.createRng(seed);
  const names = gradNames(t);
  const picks = new Map<string, [string, number]>();
  while (picks.size < count) {
    const n = names[rng.int(names.length)]!;
    const i = rng.int(t.get(n)!.size);
    picks.set(`${n}[${i}]`, [n, i]);
  }
  return [...picks.values()];
}

test("verify-bounds - the uncorrupted base fixture passes every check", () => {
  const r = K.verifyFixture(base);
  assert.equal(r.ok, true);
  assert.ok(r.checks.after_small_grad.elements > 0, "the key-bias elements are counted apart");
});

test("verify-bounds - zeroed gradient elements fail the gradient check (200 of them, and just 5)", () => {
  for (const count of [200, 5]) {
    const r = verifyCorrupted((t) => {
      for (const [n, i] of pickGradElements(t, count, count)) t.get(n)!.f32()[i] = 0;
    });
    expectFails(r, ["grads"]);
  }
});

test("verify-bounds - sign-flipped gradient elements fail the gradient check", () => {
  const r = verifyCorrupted((t) => {
    for (const [n, i] of pickGradElements(t, 200, 3)) t.get(n)!.f32()[i]! *= -1;
  });
  expectFails(r, ["grads"]);
});

test("verify-bounds - LayerNorm gradients x 1.05 (and x 1.001) fail the gradient check", () => {
  for (const f of [1.05, 1.001]) {
    const r = verifyCorrupted((t) => {
      for (const n of gradNames(t).filter((n) => /ln_(1|2|f)\./.test(n))) t.get(n)!.f32().forEach((v, i, a) => { a[i] = v * f; });
    });
    expectFails(r, ["grads"]);
  }
});

test("verify-bounds - a NaN in a reference gradient fails (it is never within a bound)", () => {
  const r = verifyCorrupted((t) => { t.get("grad.h.1.proj.bias")!.f32()[2] = NaN; });
  expectFails(r, ["grads"]);
  assert.equal(r.checks.grads.max_abs_diff, Infinity);
});

test("verify-bounds - perturbed logits and losses fail their checks", () => {
  expectFails(verifyCorrupted((t) => { t.get("out.logits")!.f32()[40]! += 1e-4; }), ["logits"]);
  expectFails(verifyCorrupted((t) => { t.get("out.loss")!.f32()[0]! += 1e-4; }), ["loss"]);
  expectFails(verifyCorrupted((t) => { t.get("train.losses")!.f32()[6]! += 1e-4; }), ["train_losses"]);
});

/** Replaces every after.<p> with before + f·(after - before), on the tensors `which` accepts. */
function scaleTravel(t: Tensors, f: number, which: (n: string) => boolean = () => true): void {
  for (const n of [...t.keys()].filter((n) => n.startsWith("after.") && which(n))) {
    const before = t.get(n.slice("after.".length))!.f32();
    t.get(n)!.f32().forEach((v, i, a) => { a[i] = before[i]! + f * (v - before[i]!); });
  }
}

test("verify-bounds - a trajectory 5% longer or shorter (one tensor) fails the after-steps check", () => {
  expectFails(verifyCorrupted((t) => scaleTravel(t, 1.05, (n) => n === "after.h.0.fc.weight")), ["after_params"]);
  expectFails(verifyCorrupted((t) => scaleTravel(t, 0.95, (n) => n === "after.ln_f.bias")), ["after_params"]);
});

test("verify-bounds - parameters that never moved, or moved farther than AdamW can, fail", () => {
  expectFails(verifyCorrupted((t) => scaleTravel(t, 0)), ["after_params"]);
  expectFails(verifyCorrupted((t) => scaleTravel(t, 10, (n) => n === "after.wpe.weight")), ["after_params"]);
});

test("verify-bounds - a trajectory one AdamW step short fails", () => {
  const r = verifyCorrupted((t) => {
    const fx = K.loadFixture(base);
    const model = new K.GPT(K.gptConfigOf(fx.config), K.createRng(0));
    model.loadStateDict(new Map(model.namedParameters().map(([n]) => [n, t.get(n)!])));
    const a = fx.config.adamw;
    const opt = K.adamw(model, { lr: a.lr, betas: [a.beta1, a.beta2], eps: a.eps, weightDecay: a.weight_decay });
    for (let s = 0; s < a.steps - 1; s++) {
      opt.zeroGrad();
      K.backward(K.crossEntropy(model.forward(t.get("input.idx")!), t.get("input.targets")!));
      opt.step();
    }
    for (const [n, p] of model.namedParameters()) t.set(`after.${n}`, K.clone(p));
  });
  expectFails(r, ["after_params"]);
});

test("verify-bounds - a small-gradient element moved beyond what AdamW allows fails its own check", () => {
  // h.0.qkv.bias[C..2C) is the key bias: its gradient is zero in exact arithmetic
  const r = verifyCorrupted((t) => { t.get("after.h.0.qkv.bias")!.f32()[13]! += 0.05; });
  expectFails(r, ["after_small_grad"]);
});

test("verify-bounds - a fixture without train.losses, or without every after.*, is an error naming them", () => {
  const err = (mutate: (t: Tensors) => void, re: RegExp) =>
    assert.throws(() => verifyCorrupted(mutate), (e: unknown) => K.isFormatError(e) && re.test((e as Error).message));
  err((t) => t.delete("train.losses"), /missing 1 expected tensor: train\.losses/);
  err((t) => { for (const n of [...t.keys()]) if (n.startsWith("after.")) t.delete(n); }, /missing 28 expected tensors: after\.wte\.weight, after\.wpe\.weight, .* and 20 more/);
  err((t) => t.delete("grad.h.1.ln_2.bias"), /missing 1 expected tensor: grad\.h\.1\.ln_2\.bias/);
  err((t) => t.set("train.losses", K.tensor([1, 2, 3])), /train\.losses has 3 values, expected 10/);
  err((t) => t.set("grad.h.2.fc.weight", K.zeros([4])), /1 tensor this config does not have \(grad\.h\.2\.fc\.weight\)/);
  err((t) => t.delete("h.0.fc.bias"), /missing 1 parameter of this config: h\.0\.fc\.bias/);
});

test("verify-bounds - AdamW's largest step is lr at t = 1 and its travel bound holds and is nearly reached", () => {
  assert.equal(K.adamStepBound(0.9, 0.999, 1), 1);
  const a = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0, steps: 10 };
  const travel = K.adamTravel(a);
  assert.ok(travel > 10 * a.lr && travel < 10.5 * a.lr, `travel ${travel}`);
  // any gradient sequence: AdamW (ours, PyTorch's arithmetic) moves an element at most `travel`
  const rng = K.createRng(5);
  let farthest = 0;
  for (let trial = 0; trial < 200; trial++) {
    const p = K.zeros([1]);
    p.requiresGrad = true;
    const opt = K.adamw([["p", p]], { lr: a.lr, betas: [a.beta1, a.beta2], eps: a.eps, weightDecay: 0 });
    const sign = trial % 2 ? 1 : -1;
    for (let s = 0; s < a.steps; s++) {
      // one sign and size (lr per step: the bound is nearly reached), one sign shrinking, or random
      const g = trial < 50 ? sign * (trial + 1) : trial < 100 ? sign * 0.8 ** s * (1 + rng.uniform()) : rng.normal();
      p.grad = K.tensor([g]);
      opt.step();
    }
    farthest = Math.max(farthest, Math.abs(p.item()));
  }
  assert.ok(farthest <= travel, `moved ${farthest} > ${travel}`);
  assert.ok(farthest > 0.97 * travel, `the bound is loose: ${farthest} vs ${travel}`);
});

test("verify-bounds - the relative bound is 2·u·√K·D and compareElements treats NaN as a failure", () => {
  assert.equal(K.f32RelativeBound({ reduction: 128, depth: 4 }), 2 * 2 ** -24 * Math.sqrt(128) * 4);
  assert.throws(() => K.f32RelativeBound({ reduction: 0, depth: 4 }), RangeError);
  const c = K.compareElements("x", [1, NaN, 3], [1, 2, 3], () => 1e-3);
  assert.equal(c.ok, false);
  assert.equal(c.worst?.index, 1);
  assert.equal(c.max_abs_diff, Infinity);
  const d = K.compareScaled("y", [1.0005, -2], [1, -2], 1e-3, 0); // bound 1e-3 · 2
  assert.equal(d.ok, true);
  assert.ok(Math.abs(d.worst_ratio - 0.25) < 1e-9);
});
