// Reproduces a LoRA reference fixture (../shared/fixtures/lora_reference.safetensors, made
// with PyTorch) through the models layer's LoRA GPT: logits, loss, the gradient of every LoRA
// tensor under the same per-tensor bounds as `verify DIR` (compareRun), and that the base got no
// gradient at all. The kernels layer's verifyFixture covers plain GPT fixtures; `troupe verify`
// sends files with lora_A/lora_B tensors here.
import { type FixtureConfig, GPT, type Tensor, createRng, gptConfigOf, loadFixture } from "../../kernels/mod.js";
import { AdapterError } from "../errors.js";
import { adapterParameters, applyLora, baseParameters } from "../lora/mod.js";
import { type ComparisonReport, compareRun } from "./compare.js";
import { FIXTURE_ADAMW, reproduce } from "./reference.js";

export interface LoraVerifyReport extends ComparisonReport {
  readonly kind: "lora";
  readonly config: FixtureConfig;
  readonly lora: { readonly rank: number; readonly alpha: number; readonly targets: string[]; readonly tensors: number };
  /** No base parameter received a gradient. */
  readonly base_frozen: boolean;
}

/** True when a fixture file holds LoRA tensors (so verifyLoraFixture applies). */
export function isLoraFixture(tensorNames: Iterable<string>): boolean {
  for (const n of tensorNames) if (n.endsWith(".lora_A") || n.endsWith(".lora_B")) return true;
  return false;
}

export function verifyLoraFixture(path: string): LoraVerifyReport {
  const fx = loadFixture(path);
  const need = (name: string): Tensor => {
    const t = fx.tensors.get(name);
    if (!t) throw new AdapterError(`${path}: missing tensor "${name}"`);
    return t;
  };
  const rank = Number(fx.metadata.lora_r);
  const alpha = Number(fx.metadata.lora_alpha);
  const targets = (fx.metadata.targets ?? "").split(",").filter(Boolean);
  if (!Number.isInteger(rank) || !(alpha > 0) || targets.length === 0) {
    throw new AdapterError(`${path}: __metadata__ needs lora_r, lora_alpha and targets (got ${JSON.stringify({ lora_r: fx.metadata.lora_r, lora_alpha: fx.metadata.lora_alpha, targets: fx.metadata.targets })})`);
  }
  const model = new GPT(gptConfigOf(fx.config), createRng(0));
  model.loadStateDict(new Map(model.namedParameters().map(([n]) => [n, need(n)])));
  const applied = applyLora(model, { rank, alpha, targets });
  const lora = adapterParameters(model);
  model.loadStateDict(new Map(lora.map(([n]) => [n, need(n)])), { strict: false });
  for (const n of ["input.idx", "input.targets", "out.logits", "out.loss"]) need(n);
  const ref = {
    file: path, tensors: fx.tensors, adamw: FIXTURE_ADAMW,
    need, has: (n: string) => fx.tensors.has(n),
    withPrefix: (prefix: string) => [...fx.tensors.keys()].filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)),
  };
  const run = reproduce(model, ref, lora, (n) => ({ name: n, transpose: false }));
  const baseFrozen = baseParameters(model).every(([, p]) => p.grad === null && !p.requiresGrad);
  const c = compareRun(run, fx.tensors, path);
  return { kind: "lora", config: fx.config, lora: { rank, alpha, targets: applied.targets, tensors: lora.length }, base_frozen: baseFrozen, ...c, ok: c.ok && baseFrozen };
}
