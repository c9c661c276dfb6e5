// The tinyshakespeare model the compression benches start from: exactly what
// `troupe train --data ../shared/data/tinyshakespeare/input.txt` makes (the default text GPT,
// 4 blocks of 128 channels, block 128, seed 1337), for `steps` steps (default 2000, as the
// README's row). Cached in the temporary directory by its settings (fresh: train it again).
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as D from "../../data/mod.js";
import { type GPT, parseSafetensors, serializeSafetensors } from "../../kernels/mod.js";
import * as M from "../../models/mod.js";
import { sharedPath } from "../shared.js";

export const SHAKESPEARE = () => sharedPath("data/tinyshakespeare/input.txt");

export interface BaseOptions {
  readonly steps?: number;
  readonly fresh?: boolean;
  readonly data?: string;
  readonly say?: (line: string) => void;
}

export interface Base {
  readonly model: GPT;
  readonly corpus: D.TextCorpus;
  readonly cached: string | null;
  readonly steps: number;
}

export async function shakespeareBase(o: BaseOptions = {}): Promise<Base> {
  const steps = o.steps ?? 2000;
  const data = o.data ?? SHAKESPEARE();
  const say = o.say ?? (() => undefined);
  const corpus = await D.loadTextCorpus(data);
  const digest = createHash("sha256").update(JSON.stringify({ steps, data, size: corpus.tokens.length, v: 1 })).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "troupe-bench-compress");
  const file = join(dir, `base-${digest}.safetensors`);
  if (!o.fresh && existsSync(file)) {
    const model = M.createGpt(M.DEFAULT_TEXT_CONFIG);
    model.loadStateDict(parseSafetensors(readFileSync(file), file).tensors);
    model.eval();
    say(`[bench] base from the cache ${file}`);
    return { model, corpus, cached: file, steps };
  }
  say(`[bench] training the tinyshakespeare base (${steps} steps, the default text GPT) ...`);
  const r = await M.trainText({ corpus, steps });
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${file}.tmp`, serializeSafetensors(r.model.namedParameters()));
  renameSync(`${file}.tmp`, file);
  r.model.eval();
  return { model: r.model as GPT, corpus, cached: null, steps };
}
