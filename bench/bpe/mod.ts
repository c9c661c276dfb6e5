// `troupe bench bpe`: a Llama trained from scratch with a byte-level BPE tokenizer (learned on
// the training 90% of the text) against today's byte-level GPT (DEFAULT_TEXT_CONFIG), each for
// the same wall-clock budget on the same text, validation loss in bits per byte side by side
// (the same validation bytes: the last 10%, split before tokenizing).
import { readFileSync } from "node:fs";
import { loadTextCorpus, tokenizerOfTrained, trainBpe } from "../../data/mod.js";
import { type LlamaConfig, kernelInfo } from "../../kernels/mod.js";
import { DEFAULT_TEXT_CONFIG, attachTokenizer, countParameters, createModel, trainText } from "../../models/mod.js";

export interface BpeBenchOptions {
  readonly data: string;
  /** Wall-clock seconds of training per side (default 120). */
  readonly seconds?: number;
  /** BPE vocabulary (default 1024). */
  readonly vocab?: number;
  readonly batch?: number;
  readonly onProgress?: (line: string) => void;
}

export interface BpeSide {
  readonly arch: string;
  readonly tokenizer: string;
  readonly params: number;
  readonly context_tokens: number;
  readonly steps: number;
  readonly tokens_per_s: number;
  readonly bytes_per_token: number;
  readonly val_loss: number;
  readonly val_bpb: number;
  readonly wall_s: number;
}

export interface BpeBenchReport {
  readonly budget_s: number;
  readonly gpt_bytes: BpeSide;
  readonly llama_bpe: BpeSide;
  /** llama_bpe.val_bpb / gpt_bytes.val_bpb: below 1 means the BPE Llama is better. */
  readonly bpb_ratio: number;
  readonly llama_lower: boolean;
  readonly kernels: string;
  readonly threads: number;
}

/** The Llama of the comparison: the GPT's width, depth and heads (128, 4, 4), 2 kv heads, SwiGLU 344. */
export function bpeLlamaConfig(vocab: number, context: number): LlamaConfig {
  return { vocabSize: vocab, hiddenSize: 128, intermediateSize: 344, numHeads: 4, numKvHeads: 2, numLayers: 4, maxPositions: context };
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

export async function runBpeBench(o: BpeBenchOptions): Promise<BpeBenchReport> {
  const seconds = o.seconds ?? 120;
  const vocab = o.vocab ?? 1024;
  const batch = o.batch ?? 16;
  const say = o.onProgress ?? (() => {});
  const text = readFileSync(o.data, "utf8");
  const bytes = new Uint8Array(readFileSync(o.data));
  // the tokenizer never sees the validation text
  const trained = trainBpe(text.slice(0, Math.floor(text.length * 0.9)), { vocabSize: vocab });
  const tok = tokenizerOfTrained(trained);
  const byteCorpus = await loadTextCorpus(o.data);
  const bpeCorpus = await loadTextCorpus(o.data, { tokenizer: tok });
  const bytesPerToken = bytes.length / bpeCorpus.tokens.length;
  const common = { steps: 1_000_000, maxSeconds: seconds, batch, evalEvery: 1_000_000, seed: 1337 };

  say(`[bench] bpe: the byte-level GPT for ${seconds} s ...`);
  const g = await trainText({ ...common, corpus: byteCorpus });
  say(`[bench] gpt: ${g.steps} steps, val ${g.valBpb.toFixed(3)} bits/byte`);
  const side = (arch: string, tokenizer: string, r: typeof g, context: number, bpt: number): BpeSide => ({
    arch, tokenizer, params: countParameters(r.model), context_tokens: context, steps: r.steps, tokens_per_s: Math.round(r.tokensPerS),
    bytes_per_token: r4(bpt), val_loss: r4(r.valLoss), val_bpb: r4(r.valBpb), wall_s: Math.round(r.wallMs / 100) / 10,
  });
  const gpt = side("gpt2", "bytes", g, DEFAULT_TEXT_CONFIG.blockSize, 1);

  const context = DEFAULT_TEXT_CONFIG.blockSize;
  const llama = attachTokenizer(createModel("llama", bpeLlamaConfig(tok.vocabSize, context), 1337), tok);
  say(`[bench] bpe: the BPE Llama (vocab ${tok.vocabSize}, ${bytesPerToken.toFixed(2)} bytes/token) for ${seconds} s ...`);
  const l = await trainText({ ...common, corpus: bpeCorpus, start: llama });
  say(`[bench] llama: ${l.steps} steps, val ${l.valBpb.toFixed(3)} bits/byte`);
  const ll = side("llama", `bpe-${tok.vocabSize}`, l, context, bytesPerToken);
  const k = kernelInfo();
  return { budget_s: seconds, gpt_bytes: gpt, llama_bpe: ll, bpb_ratio: r4(ll.val_bpb / gpt.val_bpb), llama_lower: ll.val_bpb < gpt.val_bpb, kernels: k.kernels, threads: k.threads };
}
