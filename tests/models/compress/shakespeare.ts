// A small GPT trained briefly on tinyshakespeare for the compression tests (C 64, 2 blocks,
// block 64: every matrix is a whole number of ggml blocks), built once per test process.
import { existsSync } from "node:fs";
import { sharedPath } from "../../../bench/shared.js";
import * as D from "../../../data/mod.js";
import * as K from "../../../kernels/mod.js";
import * as M from "../../../models/mod.js";

export const SHAKESPEARE = sharedPath("data/tinyshakespeare/input.txt");

export function shakespeareMissing(): string | null {
  return existsSync(SHAKESPEARE) ? null : `${SHAKESPEARE} not found (the shared data live in ../shared beside the repository; or set TROUPE_SHARED)`;
}

let cached: Promise<{ model: K.GPT; corpus: D.TextCorpus }> | null = null;

/** The model (eval mode) and its corpus; `steps` only matters the first time. */
export function shakespeareModel(steps = 250): Promise<{ model: K.GPT; corpus: D.TextCorpus }> {
  cached ??= (async () => {
    const corpus = await D.loadTextCorpus(SHAKESPEARE);
    const r = await M.trainText({ corpus, steps, model: { nEmbd: 64, nLayer: 2, nHead: 4, blockSize: 64 }, lr: 3e-3, warmupSteps: 20, evalEvery: steps, seed: 7 });
    r.model.eval();
    return { model: r.model as K.GPT, corpus };
  })();
  return cached;
}

/** n held-out windows of `len` tokens from the validation split. */
export function heldOut(corpus: D.TextCorpus, n: number, len: number): number[][] {
  const out: number[][] = [];
  const stride = Math.floor((corpus.val.length - len) / n);
  for (let i = 0; i < n; i++) out.push(Array.from(corpus.val.subarray(i * stride, i * stride + len)));
  return out;
}
