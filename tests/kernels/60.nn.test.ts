// kernels - modules: parameter names, replacement by path, state dicts, the GPT's hidden states.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, assertClose } from "./helpers.js";

const cfg = { vocabSize: 13, blockSize: 7, nEmbd: 8, nHead: 2, nLayer: 2 };

test("nn - GPT parameter names follow the reference fixtures", () => {
  const names = new K.GPT(cfg, K.createRng(1)).namedParameters().map(([n]) => n);
  const block = (i: number) => ["ln_1", "qkv", "proj", "ln_2", "fc", "fc_proj"].flatMap((m) => [`h.${i}.${m}.weight`, `h.${i}.${m}.bias`]);
  assert.deepEqual(names, ["wte.weight", "wpe.weight", ...block(0), ...block(1), "ln_f.weight", "ln_f.bias"]);
  const untied = new K.GPT({ ...cfg, tiedLmHead: false }, K.createRng(1)).namedParameters().map(([n]) => n);
  assert.equal(untied.at(-1), "lm_head.weight");
});

test("nn - modules are reachable and replaceable by dotted path", () => {
  const model = new K.GPT(cfg, K.createRng(1));
  const qkv = model.getModule("h.1.qkv");
  assert.ok(qkv instanceof K.Linear);
  assert.ok(model.getModule("h.1.attn") instanceof K.MultiHeadAttention);
  assert.ok(model.getModule("h.0.mlp") instanceof K.MLP);
  const paths = model.namedModules().map(([p]) => p);
  assert.ok(paths.includes("h.0.qkv") && paths.includes("h.1.fc_proj") && paths.includes("ln_f"));
  // wrap h.1.qkv: y = base(x) + 0 * extra(x) keeps the output; names gain the wrapper's own
  class Wrapped extends K.Module {
    readonly extra: K.Linear;
    constructor(readonly base: K.Linear) {
      super();
      this.addModule("base", base, { inline: true });
      this.extra = this.addModule("extra", new K.Linear(8, 24, K.createRng(2), { bias: false }));
    }
    forward(x: K.Tensor): K.Tensor {
      return K.add(this.base.forward(x), K.scale(this.extra.forward(x), 0));
    }
  }
  const idx = K.randint([2, 5], 13, K.createRng(3));
  const before = K.noGrad(() => model.forward(idx)).f32().slice();
  model.replaceModule("h.1.qkv", new Wrapped(qkv as K.Linear));
  assert.ok(model.getModule("h.1.qkv") instanceof Wrapped);
  const names = model.namedParameters().map(([n]) => n);
  assert.ok(names.includes("h.1.qkv.weight") && names.includes("h.1.qkv.extra.weight"));
  assertClose(K.noGrad(() => model.forward(idx)).f32(), before, 0, 0, "the wrapped model computes the same logits");
  assert.throws(() => model.getModule("h.9"), /no child module "9"/);
});

test("nn - state dicts round-trip and mismatches are named", () => {
  const a = new K.GPT(cfg, K.createRng(1));
  const b = new K.GPT(cfg, K.createRng(2));
  b.loadStateDict(a.stateDict());
  const idx = K.randint([1, 7], 13, K.createRng(3));
  assertClose(b.forward(idx).f32(), a.forward(idx).f32(), 0, 0, "same weights, same logits");
  const partial = new Map(a.stateDict());
  partial.delete("ln_f.bias");
  partial.set("bogus", K.zeros([1]));
  assert.throws(() => b.loadStateDict(partial), /missing \[ln_f.bias\], unexpected \[bogus\]/);
  const wrong = new Map(a.stateDict());
  wrong.set("wpe.weight", K.zeros([3, 8]));
  assert.throws(() => b.loadStateDict(wrong), /"wpe.weight" is f32 \[3,8\], the parameter is f32 \[7,8\]/);
});

test("nn - hidden states are captured, and the logit lens of the last one is the logits", () => {
  const model = new K.GPT(cfg, K.createRng(4));
  const idx = K.randint([2, 7], 13, K.createRng(5));
  const out = model.forwardWithHidden(idx, { capture: "all" });
  assert.equal(out.hidden.length, 3);
  for (const h of out.hidden) assert.deepEqual([...h!.shape], [2, 7, 8]);
  assertClose(model.logitLens(out.hidden[2]!).f32(), out.logits.f32(), 0, 0, "lens(final) = logits");
  const some = model.forwardWithHidden(idx, { capture: [1] });
  assert.equal(some.hidden[0], undefined);
  assertClose(some.hidden[1]!.f32(), out.hidden[1]!.f32(), 0, 0, "capture one layer");
  assert.throws(() => model.forward(K.zeros([1, 8], "i32")), /sequence length 8 of "idx" \[1,8\] exceeds blockSize 7/);
});

test("nn - layers validate their configuration", () => {
  assert.throws(() => new K.MultiHeadAttention(10, 3, K.createRng(1)), /Expected "dim" \(10\) to be a multiple of "heads" \(3\)/);
  assert.throws(() => new K.Linear(0, 3, K.createRng(1)), /Expected "inFeatures" to be a positive integer, got 0/);
  const rms = new K.RMSNorm(4);
  const y = rms.forward(K.tensor([1, 2, 3, 4], [1, 4]));
  const r = Math.sqrt((1 + 4 + 9 + 16) / 4 + 1e-6);
  assertClose(y.f32(), [1 / r, 2 / r, 3 / r, 4 / r], 1e-6, 1e-6, "rmsnorm");
});

// guards #3: rng.state() once exported signed words that setState rejected
test("nn - dropout is seeded: the same generator state gives the same masks, eval turns it off", () => {
  const make = () => new K.GPT({ ...cfg, dropout: 0.2 }, K.createRng(9));
  const idx = K.randint([2, 7], 13, K.createRng(5));
  const a = make();
  const b = make();
  const ya = a.forward(idx).f32().slice();
  assertClose(b.forward(idx).f32(), ya, 0, 0, "same seeds, same masks");
  const saved = a.dropoutRng.state();
  const next = a.forward(idx).f32().slice();
  assert.notDeepEqual(next, ya, "a new draw per call");
  a.dropoutRng.setState(saved);
  assertClose(a.forward(idx).f32(), next, 0, 0, "restored generator, same masks");
  a.eval();
  const e1 = a.forward(idx).f32().slice();
  assertClose(a.forward(idx).f32(), e1, 0, 0, "no dropout in eval mode");
  const plain = new K.GPT(cfg, K.createRng(9));
  plain.loadStateDict(a.stateDict());
  assertClose(e1, plain.forward(idx).f32(), 0, 0, "eval = the model without dropout");
  assert.throws(() => new K.GPT({ ...cfg, dropout: 1 }, K.createRng(1)), /Expected "dropout" to be a number in \[0, 1\), got 1/);
});

test("nn - loadStateDict accepts strided views (values, not raw storage)", () => {
  const lin = new K.Linear(3, 2, K.createRng(1), { bias: false });
  const wT = K.tensor([1, 2, 3, 4, 5, 6], [3, 2]); // the transposed weight
  lin.loadStateDict(new Map([["weight", K.transpose(wT)]]));
  assert.deepEqual(lin.weight.toArray(), [1, 3, 5, 2, 4, 6]);
});
