// `troupe bench generate`: greedy generation of the tinyshakespeare model from one exported
// GGUF file, troupe against llama.cpp (node-llama-cpp's prebuilt CPU binary) in the same run,
// both on the CPU with the same thread count. troupe reads the GGUF back (readGgufModel) and
// decodes with models/generate.ts; llama.cpp decodes the file with an F32 KV cache. Interleaved
// rounds, each side's median tokens/s (prompt processing included on both sides). same_tokens:
// both greedy continuations are identical for every prompt.
// troupe decodes with its KV cache (models/generate.ts: prefill, then one row per token).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configureKernels, currentKernelSettings, kernelInfo } from "../../kernels/mod.js";
import * as M from "../../models/mod.js";
import { openLlamaCpp } from "../peers/llama-cpp.js";
import { type BaseOptions, shakespeareBase } from "./base.js";

export interface GenerateBenchOptions extends BaseOptions {
  readonly threads?: number;
  readonly type?: M.ExportType;
  readonly prompts?: number;
  /** New tokens per prompt (prompt + new tokens stay within the model's positions). */
  readonly tokens?: number;
  readonly rounds?: number;
}

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;

export async function runGenerateBench(o: GenerateBenchOptions = {}) {
  const say = o.say ?? (() => undefined);
  const threads = o.threads ?? 1, type = o.type ?? "f32", nPrompts = o.prompts ?? 4, rounds = o.rounds ?? 3;
  const base = await shakespeareBase(o);
  const block = base.model.config.blockSize;
  const promptLen = 16;
  const tokens = Math.min(o.tokens ?? block - promptLen, block - promptLen);
  const dir = mkdtempSync(join(tmpdir(), "troupe-bench-generate-"));
  const before = currentKernelSettings();
  try {
    const path = join(dir, `model.${type}.gguf`);
    M.exportGguf(base.model, path, { type });
    const ours = M.readGgufModel(path);
    ours.eval();
    const val = base.corpus.val;
    const stride = Math.floor((val.length - promptLen) / nPrompts);
    const prompts = Array.from({ length: nPrompts }, (_, i) => Array.from(val.subarray(i * stride, i * stride + promptLen)));
    configureKernels({ threads });
    const peer = await openLlamaCpp(path, { threads, contextSize: 2 * block });
    const tr: number[] = [], lr: number[] = [];
    let same = true;
    try {
      for (let r = 0; r < rounds; r++) {
        say(`[bench] generate: round ${r + 1}/${rounds} (${nPrompts} prompts x ${tokens} tokens each side)`);
        let t0 = performance.now();
        const mine = prompts.map((p) => Array.from(M.generate(ours, Int32Array.from(p), { maxTokens: tokens, temperature: 0 })));
        tr.push((nPrompts * tokens) / ((performance.now() - t0) / 1000));
        t0 = performance.now();
        const theirs: number[][] = [];
        for (const p of prompts) theirs.push(await peer.greedy(p, tokens));
        lr.push((nPrompts * tokens) / ((performance.now() - t0) / 1000));
        same &&= mine.every((m, i) => m.join() === theirs[i]!.join());
      }
    } finally {
      await peer.close();
    }
    const t = median(tr), l = median(lr);
    return {
      troupe_tokens_per_s: Math.round(t), llama_cpp_tokens_per_s: Math.round(l), ratio: Math.round((t / l) * 1000) / 1000, same_tokens: same,
      settings: {
        type, threads, prompts: nPrompts, prompt_tokens: promptLen, new_tokens: tokens, rounds, model: base.model.config,
        troupe: { kernels: kernelInfo().kernels, blas: kernelInfo().blas, kv_cache: true }, llama_cpp: peer.info,
        per_round: { troupe: tr.map(Math.round), llama_cpp: lr.map(Math.round) },
      },
    };
  } finally {
    configureKernels(before);
    rmSync(dir, { recursive: true, force: true });
  }
}
