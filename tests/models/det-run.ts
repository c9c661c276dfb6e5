// A small deterministic training run shared by the resume tests and their child process
// (`node dist/tests/models/det-run.js N` prints {losses, digest} for N steps as JSON).
// Text windows, dropout and gradient accumulation are on, so every piece of state matters.
import { corpusFromText } from "../../data/mod.js";
import * as M from "../../models/mod.js";
import { toyText } from "./helpers.js";

export const DET_MODEL = { blockSize: 16, nEmbd: 32, nHead: 2, nLayer: 2, dropout: 0.1 };

export interface DetRun {
  losses: number[];
  digest: string;
  result: M.TextTrainResult;
}

export async function detRun(steps: number, extra: Partial<M.TextTrainOptions> = {}): Promise<DetRun> {
  const losses: number[] = [];
  const result = await M.trainText({
    corpus: corpusFromText(toyText(), { name: "toy" }), model: DET_MODEL, steps: 20, batch: 4, accumulate: 2,
    lr: 3e-3, warmupSteps: 3, minLr: 3e-4, evalEvery: 5, evalBatches: 2, seed: 5,
    ...extra,
    onStep: (r) => losses.push(r.loss),
  });
  void steps;
  return { losses, digest: M.weightsDigest(result.model), result };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  const r = await detRun(20);
  process.stdout.write(JSON.stringify({ losses: r.losses, digest: r.digest, val: r.result.valLoss }) + "\n");
}
