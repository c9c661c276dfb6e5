// gguf - a model with a byte-level BPE tokenizer.json (one `troupe tokenizer train` makes) exports
// with llama.cpp's "gpt2" BPE vocabulary: llama.cpp tokenizes held-out text to exactly troupe's
// ids, its log-probabilities of an F32 export equal troupe's within 1e-3 and its Q8_0 greedy
// continuations equal troupe's dequantised model's; reading the GGUF back gives a tokenizer that
// encodes the same. guards #12
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { gguf } from "@huggingface/gguf";
import { llamaCppMissing, openLlamaCpp } from "../../../bench/peers/llama-cpp.js";
import * as D from "../../../data/mod.js";
import { testNeeding } from "../../harness/needs.js";
import { K, M, tempDir } from "../helpers.js";
import { SHAKESPEARE, shakespeareMissing } from "./shakespeare.js";

const missing = shakespeareMissing() ?? (await llamaCppMissing());
const dir = tempDir("troupe-gguf-bpe-");
process.on("exit", () => dir[Symbol.dispose]());

let built: Promise<{ model: K.GPT; tok: D.Tokenizer; val: string }> | null = null;
function bpeModel() {
  built ??= (async () => {
    const text = readFileSync(SHAKESPEARE, "utf8");
    const train = text.slice(0, 200_000), val = text.slice(text.length - 20_000);
    const tok = D.tokenizerOfTrained(D.trainBpe(train, { vocabSize: 384 }));
    const corpus = D.corpusFromText(train, { tokenizer: tok });
    const r = await M.trainText({ corpus, steps: 120, model: { nEmbd: 64, nLayer: 2, nHead: 4, blockSize: 64 }, lr: 3e-3, warmupSteps: 10, evalEvery: 120, seed: 3 });
    r.model.eval();
    return { model: r.model as K.GPT, tok: tok as D.Tokenizer, val };
  })();
  return built;
}

testNeeding("gguf-bpe - llama.cpp tokenizes like troupe's BPE and computes the same log-probabilities (F32) and greedy tokens (Q8_0)", missing, async () => {
  const { model, tok, val } = await bpeModel();
  assert.equal(M.tokenizerOf(model), tok);
  const f32 = join(dir.path, "bpe-f32.gguf");
  M.exportGguf(model, f32, { type: "f32" });
  const meta = await gguf(f32, { allowLocalFile: true });
  assert.equal(meta.metadata["tokenizer.ggml.model"], "gpt2");
  assert.equal((meta.metadata["tokenizer.ggml.tokens"] as unknown[]).length, model.config.vocabSize);
  const peer = await openLlamaCpp(f32, { threads: 1, contextSize: 128, vocabSize: model.config.vocabSize });
  try {
    // tokenization: 40 held-out snippets of 200 characters
    let tokens = 0;
    for (let i = 0; i < 40; i++) {
      const s = val.slice(i * 400, i * 400 + 200);
      const ours: number[] = Array.from(tok.encode(s));
      assert.deepEqual(peer.tokenize(s), ours, `tokenize ${JSON.stringify(s.slice(0, 40))}…`);
      tokens += ours.length;
    }
    assert.ok(tokens < 40 * 200 * 0.8, `merges are used (${tokens} tokens for 8000 characters)`);
    // log-probabilities on held-out text
    const ids: number[] = Array.from(tok.encode(val.slice(5000, 6000))).slice(0, 64);
    const theirs = await peer.logProbs(ids);
    const ours = K.noGrad(() => K.logSoftmax(model.forward(K.tensor(ids, [1, ids.length], "i32")))).f32();
    const V = model.config.vocabSize;
    let worst = 0;
    theirs.forEach((row, t) => row.forEach((v, c) => (worst = Math.max(worst, Math.abs(v - ours[t * V + c]!)))));
    process.stderr.write(`[gguf-bpe] vocab ${V}: ${tokens} tokens for 8000 held-out characters, identical in llama.cpp; worst |log p diff| ${worst.toExponential(2)}\n`);
    assert.ok(worst <= 1e-3, `worst difference ${worst}`);
  } finally {
    await peer.close();
  }
  const q8 = join(dir.path, "bpe-q8_0.gguf");
  M.exportGguf(model, q8, { type: "q8_0" });
  const ref = M.ggmlEquivalent(model, "q8_0");
  const p8 = await openLlamaCpp(q8, { threads: 1, contextSize: 128, vocabSize: model.config.vocabSize });
  try {
    for (let i = 0; i < 5; i++) {
      const prompt: number[] = Array.from(tok.encode(val.slice(i * 3000, i * 3000 + 60))).slice(0, 12);
      assert.deepEqual(await p8.greedy(prompt, 24), Array.from(M.generate(ref, Int32Array.from(prompt), { maxTokens: 24, temperature: 0 })), `prompt ${i}`);
    }
  } finally {
    await p8.close();
  }
  // read back: the same weights and a tokenizer that encodes the same
  const back = M.readGgufModel(f32);
  const s = val.slice(100, 900);
  assert.deepEqual(Array.from(M.tokenizerOf(back).encode(s)), Array.from(tok.encode(s)));
  assert.deepEqual(back.namedParameters()[0]![1].f32(), model.namedParameters()[0]![1].f32());
});

test("gguf-bpe - a tokenizer llama.cpp's gpt-2 pre-tokenizer would not reproduce is refused; another BPE's ids differ", async () => {
  const text = readFileSync(SHAKESPEARE, "utf8").slice(0, 60_000);
  const tok = D.tokenizerOfTrained(D.trainBpe(text, { vocabSize: 300 }));
  const model = M.attachTokenizer(M.createGpt({ vocabSize: 300, nEmbd: 32, nLayer: 1, nHead: 2, blockSize: 16 }, 1), tok);
  const doc = JSON.parse(new TextDecoder().decode(tok.files.get("tokenizer.json")!)) as Record<string, unknown>;
  doc.normalizer = { type: "Lowercase" };
  const lower = D.tokenizerFromJson(new TextEncoder().encode(JSON.stringify(doc)));
  const bad = M.attachTokenizer(M.createGpt({ vocabSize: 300, nEmbd: 32, nLayer: 1, nHead: 2, blockSize: 16 }, 1), lower);
  assert.throws(() => M.gptToGguf(bad, { type: "f32" }), (e: unknown) => M.isExportFormatError(e) && /has a normalizer/.test((e as Error).message));
  // the exported vocabulary is this tokenizer's: another trained on reversed text reads differently
  const back = M.gptFromGguf(K.parseGguf(M.gptToGguf(model, { type: "f32" }).bytes), "x.gguf");
  const other = D.tokenizerOfTrained(D.trainBpe(text.split("").reverse().join(""), { vocabSize: 300 }));
  const s = text.slice(1000, 1400);
  assert.deepEqual(Array.from(M.tokenizerOf(back).encode(s)), Array.from(tok.encode(s)));
  assert.notDeepEqual(Array.from(other.encode(s)), Array.from(tok.encode(s)));
});
