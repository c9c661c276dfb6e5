// `troupe train` estimates the memory a run needs before allocating anything: refused (exit 2)
// with the estimate and the machine's memory when it cannot fit, unless --force; otherwise the
// estimate is said with the first progress line and returned in the result.
import { freemem, totalmem } from "node:os";
import type { MemoryEstimate } from "../../models/mod.js";
import { UsageCode, UsageError } from "../errors.js";

export interface MemoryCheck {
  readonly estimate: MemoryEstimate;
  readonly available: number;
  readonly total: number;
  /** for the first progress line */
  readonly text: string;
  readonly fields: Record<string, unknown>;
}

export interface ShapeForEstimate {
  readonly vocabSize: number;
  readonly blockSize: number;
  readonly nEmbd: number;
  readonly nHead: number;
  readonly nLayer: number;
  readonly tiedLmHead?: boolean;
  /** the starting model's own parameter count */
  readonly parameters?: number;
}

/** TROUPE_MEMORY_AVAILABLE (bytes) stands in for the machine's free memory, for tests and for limits. */
function availableBytes(): number {
  const env = Number(process.env.TROUPE_MEMORY_AVAILABLE);
  return Number.isFinite(env) && env > 0 ? env : freemem();
}

export async function checkMemory(shape: ShapeForEstimate, batch: number, force: boolean, trainable?: number): Promise<MemoryCheck> {
  const M = await import("../../models/mod.js");
  const e = M.estimateTrainingMemory(shape, { batch, ...(trainable !== undefined ? { trainable } : {}) });
  const f = M.formatBytes;
  const available = availableBytes();
  const total = totalmem();
  const parts = `${(e.parameters / 1e6).toFixed(e.parameters < 1e7 ? 2 : 0)}M parameters: weights ${f(e.params)}, gradients ${f(e.grads)}, AdamW ${f(e.optimizer)}, activations ${f(e.activations)} + workspace ${f(e.workspace)} for --batch ${batch} × --block ${shape.blockSize}`;
  if (e.total > available && !force) {
    throw new UsageError(
      `this model needs about ${f(e.total)} to train (${parts}) but the machine has ${f(available)} available of ${f(total)}; ` +
        `lower --embd, --layers, --block or --batch, or pass --force to try anyway`,
      { code: UsageCode.tooLarge },
    );
  }
  return {
    estimate: e, available, total,
    text: `memory: about ${f(e.total)} of ${f(available)} available (${parts})${e.total > available ? " — over, --force given" : ""}`,
    fields: { memory_estimate_bytes: e.total, memory_available_bytes: available, parameters: e.parameters },
  };
}
