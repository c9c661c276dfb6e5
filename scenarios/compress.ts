// A compression config (`troupe compress FILE`): the teacher, the corpus, the gate and the
// steps of the pipeline (models/compress/pipeline.ts), validated with the scenario schema so a
// mistake is reported as `file:line key: message` and nothing runs.
//
//   name: compress-shakespeare
//   data: ../shared/data/tinyshakespeare/input.txt     # a text corpus
//   teacher: { train_steps: 2000 }                      # or { checkpoint: runs/input }
//   gate: { max_val_loss_increase: 0.05 }               # relative to the f32 teacher, every step
//   steps:
//     - { kind: distill, steps: 200, temperature: 2, alpha: 0.5, top_k: 32 }
//     - { kind: prune, prune: channels, sparsity: 0.5, steps: 400 }
//     - { kind: quantize, method: qat, format: q4_0, steps: 300 }
//     - { kind: finetune, steps: 100 }
//     - { kind: export, type: q4_0, path: model.q4_0.gguf }
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { ScenarioError, ScenarioReadError } from "./errors.js";
import { Ctx, INVALID, bool, int, list, num, obj, oneOf, opt, str, tagged, type Infer } from "./schema.js";

const training = {
  kind: str(),
  steps: int({ min: 1 }),
  lr: opt(num({ gt: 0, max: 1 })),
  distill: opt(bool(), true),
  temperature: opt(num({ gt: 0, max: 100 })),
  alpha: opt(num({ min: 0, max: 1 })),
  top_k: opt(int({ min: 1 })),
};

const stepSection = tagged("kind", {
  distill: obj({ ...training, student: opt(obj({ n_embd: opt(int({ min: 1 })), n_layer: opt(int({ min: 1 })), n_head: opt(int({ min: 1 })), seed: opt(int({ min: 0 })) })) }),
  prune: obj({ ...training, prune: oneOf(["channels", "heads", "magnitude"] as const), sparsity: num({ gt: 0, lt: 1 }) }),
  quantize: obj({ ...training, steps: opt(int({ min: 1 })), method: oneOf(["qat", "ptq"] as const), format: oneOf(["q8_0", "q4_0"] as const) }),
  finetune: obj({ ...training }),
  export: obj({ kind: str(), type: oneOf(["f32", "f16", "q8_0", "q4_0"] as const), path: str() }),
});

const configSchema = obj({
  name: str({ pattern: /^[a-z0-9][a-z0-9_-]{0,62}$/, hint: "use lower-case letters, digits, - and _" }),
  data: str(),
  seed: opt(int({ min: 0 }), 1),
  teacher: obj({ train_steps: opt(int({ min: 1 })), checkpoint: opt(str()) }),
  gate: opt(obj({ max_val_loss_increase: num({ min: 0, max: 10 }), val_batches: opt(int({ min: 1 })) }), { max_val_loss_increase: 0.05, val_batches: undefined }),
  out: opt(str()),
  steps: list(stepSection, { min: 1 }),
});

export type CompressStepSection = Infer<typeof stepSection>;

export interface CompressPlan {
  readonly source: string;
  readonly name: string;
  /** As written; relative paths are resolved against the current directory by the command. */
  readonly data: string;
  readonly seed: number;
  readonly teacher: { readonly trainSteps?: number; readonly checkpoint?: string };
  readonly maxIncrease: number;
  readonly valBatches?: number;
  /** Where exports go (default runs/<name>), relative to the current directory. */
  readonly out: string;
  readonly steps: readonly CompressStepSection[];
}

export function parseCompressConfig(text: string, file: string): CompressPlan {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const ctx = new Ctx(file, doc, lines);
  for (const e of doc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    ctx.issues.push({ file, line: Math.max(1, line), col, path: "", message: `YAML: ${e.message.split("\n")[0]}` });
  }
  if (ctx.issues.length) throw new ScenarioError(file, ctx.issues);
  const p = configSchema.parse(ctx.resolve(doc.contents), [], ctx);
  if (p === INVALID) throw new ScenarioError(file, ctx.issues);
  if (p.teacher.train_steps === undefined && p.teacher.checkpoint === undefined) ctx.issueAt(["teacher"], "give train_steps (train the f32 teacher) or checkpoint (use a trained one)");
  const exports = p.steps.filter((s) => s.kind === "export").length;
  if (exports > 1 || (exports === 1 && p.steps[p.steps.length - 1]!.kind !== "export")) ctx.issueAt(["steps"], "at most one export step, and it comes last");
  p.steps.forEach((s, i) => {
    if (s.kind === "quantize" && s.method === "qat" && s.steps === undefined) ctx.issueAt(["steps", i, "steps"], "QAT trains: give its steps");
  });
  if (ctx.issues.length) throw new ScenarioError(file, ctx.issues);
  const checkpoint = p.teacher.checkpoint;
  return {
    source: resolve(file), name: p.name, data: p.data, seed: p.seed,
    teacher: { ...(p.teacher.train_steps !== undefined ? { trainSteps: p.teacher.train_steps } : {}), ...(checkpoint ? { checkpoint } : {}) },
    maxIncrease: p.gate.max_val_loss_increase, ...(p.gate.val_batches !== undefined ? { valBatches: p.gate.val_batches } : {}),
    out: p.out ?? `runs/${p.name}`, steps: p.steps,
  };
}

export function loadCompressConfig(file: string): CompressPlan {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ScenarioReadError(file, `cannot read the compression config (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return parseCompressConfig(text, file);
}
