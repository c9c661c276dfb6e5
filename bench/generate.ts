// `troupe bench generate`: tokens/s of `generate` with the KV cache against the same call
// without it (what generate did before the cache: re-run the context, cropped to the model's
// window, for every new token), measured in the same run, in interleaved rounds, for a GPT-2 and
// a Llama of the default text model's size. Also checks that both paths produced the same
// tokens where they must (inside the context window).
import { DEFAULT_TEXT_CONFIG, createGpt, createModel, generate, type CausalLM } from "../models/mod.js";
import { kernelInfo } from "../kernels/mod.js";

export interface GenerateBenchOptions {
  /** New tokens per call (default 300, troupe generate's default). */
  readonly tokens?: number;
  /** Prompt tokens (default 16). */
  readonly prompt?: number;
  /** Rounds of (uncached, cached) per model; medians over all (default 3). */
  readonly rounds?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** The default text GPT and a Llama of the same width, depth, context and vocabulary. */
export function benchModels(): { name: string; model: CausalLM }[] {
  const c = DEFAULT_TEXT_CONFIG;
  return [
    { name: "gpt2", model: createGpt(c, 1) },
    { name: "llama", model: createModel("llama", { vocabSize: c.vocabSize, hiddenSize: c.nEmbd, intermediateSize: 352, numHeads: c.nHead, numKvHeads: c.nHead / 2, numLayers: c.nLayer, maxPositions: c.blockSize }, 1) },
  ];
}

export function runGenerateBench(options: GenerateBenchOptions = {}) {
  const tokens = options.tokens ?? 300;
  const promptLen = options.prompt ?? 16;
  const rounds = Math.max(1, options.rounds ?? 3);
  const results = benchModels().map(({ name, model }) => {
    const prompt = Int32Array.from({ length: promptLen }, (_, i) => (i * 37 + 11) % model.dims.vocabSize);
    const W = model.dims.maxPositions;
    const within = Math.min(tokens, W - promptLen);
    generate(model, prompt, { maxTokens: 8, temperature: 0 }); // warm-up
    const plain: number[] = [], cached: number[] = [];
    let equalWithin = true;
    let firstDifference: number | null = null;
    for (let r = 0; r < rounds; r++) {
      let t0 = performance.now();
      const a = generate(model, prompt, { maxTokens: tokens, temperature: 0, cache: false });
      plain.push((a.length / (performance.now() - t0)) * 1000);
      t0 = performance.now();
      const b = generate(model, prompt, { maxTokens: tokens, temperature: 0 });
      cached.push((b.length / (performance.now() - t0)) * 1000);
      for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] !== b[i]) {
          if (i < within) equalWithin = false;
          firstDifference ??= i;
          break;
        }
      }
    }
    const u = median(plain), c = median(cached);
    return {
      arch: name, params: model.parameters().reduce((n, p) => n + p.size, 0), context: W, prompt: promptLen, tokens,
      uncached_tokens_per_s: Math.round(u), cached_tokens_per_s: Math.round(c), ratio: round(c / u, 2),
      uncached_runs: plain.map(Math.round), cached_runs: cached.map(Math.round),
      /** Both paths gave the same tokens for the ones inside the context window (they must). */
      equal_within_context: equalWithin,
      /** The first position where they differ (past the window they may), or null. */
      first_difference: firstDifference,
    };
  });
  const info = kernelInfo();
  return { results, min_ratio: Math.min(...results.map((r) => r.ratio)), rounds, kernels: info.kernels, threads: info.threads };
}
