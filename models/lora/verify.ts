// Reproduces a LoRA reference fixture (../shared/fixtures/lora_reference.safetensors, made
// with PyTorch) through the models layer's LoRA GPT: logits, loss, the gradient of every LoRA
// tensor, and that the base got no gradient at all. The kernels layer's verifyFixture covers
// plain GPT fixtures; `troupe verify` sends files with lora_A/lora_B tensors here.
import { type FixtureConfig, GPT, type Tensor, backward, createRng, crossEntropy, gptConfigOf, loadFixture } from "../../kernels/mod.js";
import { AdapterError } from "../errors.js";
import { adapterParameters, applyLora, baseParameters } from "./apply.js";

export const loraVerifyTolerances = { logits: 1e-4, loss: 1e-4, lora_grads: 1e-4 } as const;

export interface LoraVerifyReport {
  readonly kind: "lora";
  readonly config: FixtureConfig;
  readonly lora: { readonly rank: number; readonly alpha: number; readonly targets: string[]; readonly tensors: number };
  readonly max_abs_diff: { readonly logits: number; readonly loss: number; readonly lora_grads: number };
  /** No base parameter received a gradient. */
  readonly base_frozen: boolean;
  readonly ok: boolean;
}

/** True when a fixture file holds LoRA tensors (so verifyLoraFixture applies). */
export function isLoraFixture(tensorNames: Iterable<string>): boolean {
  for (const n of tensorNames) if (n.endsWith(".lora_A") || n.endsWith(".lora_B")) return true;
  return false;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  if (a.length !== b.length) throw new AdapterError(`${what}: ${a.length} values, the fixture has ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
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

  const logits = model.forward(need("input.idx"));
  const loss = crossEntropy(logits, need("input.targets"));
  const diff = {
    logits: maxAbsDiff(logits.f32(), need("out.logits").f32(), "out.logits"),
    loss: Math.abs(loss.item() - need("out.loss").item()),
    lora_grads: 0,
  };
  backward(loss);
  for (const [n, p] of lora) {
    const g = p.grad ? p.grad.f32() : new Float32Array(p.size).fill(NaN);
    diff.lora_grads = Math.max(diff.lora_grads, maxAbsDiff(g, need(`grad.${n}`).f32(), `grad.${n}`));
  }
  const baseFrozen = baseParameters(model).every(([, p]) => p.grad === null && !p.requiresGrad);
  const ok = baseFrozen && (Object.keys(loraVerifyTolerances) as (keyof typeof loraVerifyTolerances)[]).every((k) => diff[k] <= loraVerifyTolerances[k]);
  return { kind: "lora", config: fx.config, lora: { rank, alpha, targets: applied.targets, tensors: lora.length }, max_abs_diff: diff, base_frozen: baseFrozen, ok };
}
