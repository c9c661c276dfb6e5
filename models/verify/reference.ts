// The reference file of a model or adapter directory (reference.safetensors, made with PyTorch;
// ../shared/fixtures/README.md): inputs, expected logits and loss, optional gradients, and an
// optional AdamW trajectory (train.losses, after.<name>). Its AdamW settings come from the
// file's __metadata__.adamw when present, else the fixtures' (lr 1e-3, betas 0.9/0.999, eps
// 1e-8, weight decay 0.01 on every parameter), with as many steps as train.losses has.
import { existsSync } from "node:fs";
import { type Tensor, backward, crossEntropy, readSafetensors } from "../../kernels/mod.js";
import { adamw } from "../../kernels/mod.js";
import type { CausalLM } from "../arch/mod.js";
import { ModelFileError } from "../errors.js";
import type { NamedComparison } from "./compare.js";

export const REFERENCE_FILE = "reference.safetensors";
export const REFERENCE_BF16_FILE = "reference.bf16.safetensors";

export interface AdamWSettings {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weight_decay: number;
}

export const FIXTURE_ADAMW: AdamWSettings = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.01 };

export interface Reference {
  readonly file: string;
  readonly tensors: Map<string, Tensor>;
  readonly adamw: AdamWSettings;
  need(name: string): Tensor;
  has(name: string): boolean;
  /** Names with this prefix, prefix removed. */
  withPrefix(prefix: string): string[];
}

export function readReference(file: string, required: readonly string[] = ["input.idx", "input.targets", "out.logits", "out.loss"]): Reference {
  if (!existsSync(file)) throw new ModelFileError({ file }, "not found: `troupe verify DIR` needs the directory's reference.safetensors (made with PyTorch)");
  let parsed;
  try {
    parsed = readSafetensors(file);
  } catch (err) {
    throw new ModelFileError({ file }, (err as Error).message.replace(`${file}: `, ""), { cause: err });
  }
  const { tensors, metadata } = parsed;
  let adam = FIXTURE_ADAMW;
  if (metadata.adamw) {
    try {
      adam = { ...FIXTURE_ADAMW, ...(JSON.parse(metadata.adamw) as Partial<AdamWSettings>) };
    } catch (err) {
      throw new ModelFileError({ file }, "__metadata__.adamw is not JSON", { cause: err });
    }
  }
  const ref: Reference = {
    file, tensors, adamw: adam,
    need: (name) => {
      const t = tensors.get(name);
      if (!t) throw new ModelFileError({ file, tensor: name }, "is missing from the reference");
      return t;
    },
    has: (name) => tensors.has(name),
    withPrefix: (prefix) => [...tensors.keys()].filter((n) => n.startsWith(prefix)).map((n) => n.slice(prefix.length)),
  };
  for (const n of required) ref.need(n);
  return ref;
}

/**
 * Forward, loss and (when the reference has gradients) backward on the reference batch, then
 * its AdamW steps on `trained` (the parameters that train, by reference name). Returns the
 * comparisons; `refName` maps a troupe parameter name to the reference's.
 */
export function reproduce(model: CausalLM, ref: Reference, trained: readonly [string, Tensor][], refName: (param: string) => RefName): NamedComparison[] {
  const idx = ref.need("input.idx");
  const targets = ref.need("input.targets");
  const out: NamedComparison[] = [];
  model.eval(); // no dropout: a reference with random masks could not be reproduced anyway
  const logits = model.forward(idx);
  const loss = crossEntropy(logits, targets);
  out.push({ group: "logits", name: "out.logits", actual: logits.f32().slice(), expected: ref.need("out.logits").f32() });
  out.push({ group: "loss", name: "out.loss", actual: [loss.item()], expected: ref.need("out.loss").f32() });
  const wantGrads = ref.withPrefix("grad.").length > 0;
  const steps = ref.has("train.losses") ? ref.need("train.losses").size : 0;
  if (!wantGrads && steps === 0) return out;
  backward(loss);
  if (wantGrads) {
    for (const [n, p] of trained) {
      const r = refName(n);
      const name = `grad.${r.name}`;
      out.push({ group: "grads", name, actual: layout(p.grad ? p.grad.f32().slice() : new Float32Array(p.size).fill(NaN), p, r.transpose), expected: ref.need(name).f32() });
    }
  }
  if (steps > 0) {
    const a = ref.adamw;
    const opt = adamw(trained.map(([n, p]) => [n, p] as [string, Tensor]), { lr: a.lr, betas: [a.beta1, a.beta2], eps: a.eps, weightDecay: a.weight_decay });
    const losses: number[] = [loss.item()];
    opt.step();
    for (let s = 1; s < steps; s++) {
      opt.zeroGrad();
      const l = crossEntropy(model.forward(idx), targets);
      losses.push(l.item());
      backward(l);
      opt.step();
    }
    out.push({ group: "train_losses", name: "train.losses", actual: losses, expected: ref.need("train.losses").f32() });
    for (const [n, p] of trained) {
      const r = refName(n);
      const name = `after.${r.name}`;
      out.push({ group: "after_params", name, actual: layout(p.f32(), p, r.transpose), expected: ref.need(name).f32() });
    }
  }
  const compared = new Set(out.map((c) => c.name));
  for (const name of ref.tensors.keys()) {
    if ((name.startsWith("grad.") || name.startsWith("after.")) && !compared.has(name)) {
      throw new ModelFileError({ file: ref.file, tensor: name }, "names no trained parameter of this model (another architecture or adapter?)");
    }
  }
  return out;
}

/** A reference tensor's name and whether it is stored transposed against troupe's layout. */
export interface RefName {
  readonly name: string;
  readonly transpose: boolean;
}

function layout(values: Float32Array, p: Tensor, transpose: boolean): Float32Array {
  if (!transpose) return values;
  const [rows, cols] = [p.shape[0]!, p.shape[1]!];
  const out = new Float32Array(values.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j]!;
  return out;
}
