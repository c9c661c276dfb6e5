// llama.cpp as a peer, through node-llama-cpp: its prebuilt CPU binary (an npm optional
// dependency, @node-llama-cpp/<platform>), loaded with getLlama({ gpu: false, build: "never" })
// so nothing is downloaded or compiled. Used by the GGUF interop tests and `bench generate`.
// The context runs with F32 KV caches and without flash attention (its most exact CPU setup),
// a fixed thread count, and a batch as large as the context.
// Legend: V vocab, T tokens.
import { ExportFormatError } from "../../models/mod.js";

export interface LlamaCppOptions {
  /** Threads llama.cpp computes with (default 1). */
  readonly threads?: number;
  /**
   * Context length in tokens (default 256). Keep it above the longest sequence: node-llama-cpp
   * shifts a full context (drops its start) before the last token, which changes that token's
   * logits. A sequence must also stay within the model's positions (gpt2: context_length).
   */
  readonly contextSize?: number;
  /** The model's vocabulary size (default 256, troupe's bytes). */
  readonly vocabSize?: number;
}

export interface LlamaCppPeer {
  /** What ran: llama.cpp build, threads, KV cache type. */
  readonly info: { readonly backend: string; readonly threads: number; readonly kvCache: string; readonly contextSize: number };
  readonly vocabSize: number;
  /** log-softmax of llama.cpp's next-token logits after each of `tokens` ([T] rows of [V]). */
  logProbs(tokens: readonly number[]): Promise<Float32Array[]>;
  /** Greedy continuation of `prompt`: n new tokens (no stop token). */
  greedy(prompt: readonly number[], n: number): Promise<number[]>;
  tokenize(text: string): number[];
  detokenize(tokens: readonly number[]): string;
  close(): Promise<void>;
}

/** Why llama.cpp cannot run here (for testNeeding), or null. */
export async function llamaCppMissing(): Promise<string | null> {
  try {
    const { getLlama } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" as never, progressLogs: false, skipDownload: true } as never);
    await llama.dispose();
    return null;
  } catch (err) {
    return `node-llama-cpp's prebuilt CPU binary does not load here (${(err as Error).message.split("\n")[0]}); run npm ci (it arrives as an optional dependency)`;
  }
}

export async function openLlamaCpp(path: string, options: LlamaCppOptions = {}): Promise<LlamaCppPeer> {
  const threads = options.threads ?? 1;
  const contextSize = options.contextSize ?? 256;
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, progressLogs: false, skipDownload: true, maxThreads: threads });
  let model;
  try {
    model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  } catch (err) {
    await llama.dispose();
    throw new ExportFormatError(`llama.cpp could not load ${path}: ${(err as Error).message}`, { cause: err });
  }
  const context = await model.createContext({
    contextSize, batchSize: contextSize, threads: { ideal: threads, min: threads }, flashAttention: false,
    experimentalKvCacheKeyType: "F32", experimentalKvCacheValueType: "F32",
  } as never);
  const seq = context.getSequence();
  const V = options.vocabSize ?? 256;
  return {
    info: { backend: `llama.cpp (node-llama-cpp ${llama.buildType}, ${llama.cpuMathCores} cores)`, threads, kvCache: "F32", contextSize },
    vocabSize: V,
    async logProbs(tokens) {
      await seq.clearHistory();
      const out = await seq.controlledEvaluate(tokens.map((t) => [t as never, { generateNext: { probabilities: true } }] as never));
      return out.map((o, i) => {
        const probs = o?.next?.probabilities;
        if (!probs) throw new ExportFormatError(`llama.cpp gave no probabilities after token ${i}`);
        const row = new Float32Array(V).fill(-Infinity);
        for (const [tok, p] of probs) row[tok as number] = Math.log(p);
        return row;
      });
    },
    async greedy(prompt, n) {
      await seq.clearHistory();
      const got: number[] = [];
      if (n === 0) return got;
      for await (const t of seq.evaluate(prompt as never, { temperature: 0 })) {
        got.push(t as number);
        if (got.length >= n) break;
      }
      return got;
    },
    tokenize(text) {
      return model.tokenize(text, false) as unknown as number[];
    },
    detokenize(tokens) {
      return model.detokenize(tokens as never);
    },
    async close() {
      await context.dispose();
      await model.dispose();
      await llama.dispose();
    },
  };
}
