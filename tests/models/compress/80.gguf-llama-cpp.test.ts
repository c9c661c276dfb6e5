// gguf - llama.cpp runs what troupe exports (guards #12): node-llama-cpp's prebuilt CPU binary
// loads the GGUF files of a tinyshakespeare GPT. F32 and F16: its next-token log-probabilities
// equal troupe's within 1e-3 on held-out text. Q8_0 and Q4_0: greedy continuations of 20
// held-out prompts equal those of troupe's own dequantised model (ggmlEquivalent) token for
// token. The byte vocabulary tokenizes and detokenizes in llama.cpp exactly as in troupe, and
// @huggingface/gguf reads the same files with the right names, shapes and types.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { gguf } from "@huggingface/gguf";
import { llamaCppMissing, openLlamaCpp } from "../../../bench/peers/llama-cpp.js";
import * as D from "../../../data/mod.js";
import { testNeeding } from "../../harness/needs.js";
import { K, M, tempDir } from "../helpers.js";
import { heldOut, shakespeareMissing, shakespeareModel } from "./shakespeare.js";

const missing = shakespeareMissing() ?? (await llamaCppMissing());
const dir = tempDir("troupe-gguf-");
process.on("exit", () => dir[Symbol.dispose]());

function ourLogProbs(model: K.GPT, ids: number[]): Float32Array {
  return K.noGrad(() => K.logSoftmax(model.forward(K.tensor(ids, [1, ids.length], "i32")))).f32();
}

async function worstLogProbDiff(path: string, reference: K.GPT, seqs: number[][]): Promise<number> {
  const peer = await openLlamaCpp(path, { threads: 1, contextSize: 128 });
  try {
    let worst = 0;
    for (const ids of seqs) {
      const theirs = await peer.logProbs(ids);
      const ours = ourLogProbs(reference, ids);
      theirs.forEach((row, t) => row.forEach((v, c) => (worst = Math.max(worst, Math.abs(v - ours[t * 256 + c]!)))));
    }
    return worst;
  } finally {
    await peer.close();
  }
}

for (const type of ["f32", "f16"] as const) {
  testNeeding(`gguf - llama.cpp's log-probabilities of a ${type} export equal troupe's within 1e-3 on held-out text`, missing, async () => {
    const { model, corpus } = await shakespeareModel();
    const path = join(dir.path, `m-${type}.gguf`);
    M.exportGguf(model, path, { type });
    const seqs = heldOut(corpus, 4, 64);
    // troupe's model as it computes (F32: the trained model itself; F16: its f16 weights), and
    // the same with ggml's conversions (f16 matmul inputs for F16, the f16 GELU table)
    const plain = type === "f32" ? model : M.dequantizedCopy(model, "f16");
    const worst = await worstLogProbDiff(path, plain, seqs);
    const ggml = await worstLogProbDiff(path, M.ggmlEquivalent(model, type), seqs);
    process.stderr.write(`[gguf] ${type}: worst |log p diff| over ${seqs.length} x 64 held-out positions x 256: ${worst.toExponential(2)} vs troupe's ${type} model, ${ggml.toExponential(2)} with ggml's conversions reproduced\n`);
    if (type === "f32") assert.ok(worst <= 1e-3, `${type}: worst difference ${worst}`);
    assert.ok(ggml <= 1e-3, `${type} with ggml's conversions: worst difference ${ggml}`);
    assert.ok(ggml < worst, "the reproduced conversions explain part of the difference");
  });
}

for (const type of ["q8_0", "q4_0"] as const) {
  testNeeding(`gguf - llama.cpp's greedy continuations of 20 held-out prompts of a ${type} export equal troupe's dequantised model's`, missing, async () => {
    const { model, corpus } = await shakespeareModel();
    const path = join(dir.path, `m-${type}.gguf`);
    M.exportGguf(model, path, { type });
    const ours = M.ggmlEquivalent(model, type);
    const prompts = heldOut(corpus, 20, 16);
    const peer = await openLlamaCpp(path, { threads: 1, contextSize: 128 });
    try {
      let same = 0, differsFromF32 = 0;
      for (const p of prompts) {
        const theirs = await peer.greedy(p, 32);
        const mine = Array.from(M.generate(ours, Int32Array.from(p), { maxTokens: 32, temperature: 0 }));
        assert.deepEqual(theirs, mine, `prompt ${JSON.stringify(D.byteTokenizer().decode(p))}`);
        same++;
        const f32 = Array.from(M.generate(model, Int32Array.from(p), { maxTokens: 32, temperature: 0 }));
        if (f32.join() !== mine.join()) differsFromF32++;
      }
      process.stderr.write(`[gguf] ${type}: ${same}/20 greedy continuations identical; ${differsFromF32}/20 differ from the f32 model's\n`);
      assert.equal(same, 20);
    } finally {
      await peer.close();
    }
  });
}

testNeeding("gguf - a model with pruned MLP channels dropped (smaller feed_forward_length) runs in llama.cpp", missing, async () => {
  const { model, corpus } = await shakespeareModel();
  const pruned = M.copyGpt(model);
  const { masks, plan } = M.structuredMasks(pruned, { channelSparsity: 0.5 });
  M.applyMasks(pruned, masks);
  const smaller = M.dropPrunedChannels(pruned, plan);
  assert.equal(smaller.config.mlpHidden, 128);
  const path = join(dir.path, "m-pruned.gguf");
  M.exportGguf(smaller, path, { type: "f32" });
  const worst = await worstLogProbDiff(path, M.ggmlEquivalent(smaller, "f32"), heldOut(corpus, 2, 64));
  assert.ok(worst <= 1e-3, `worst difference ${worst}`);
});

testNeeding("gguf - the byte vocabulary tokenizes and detokenizes in llama.cpp exactly as in troupe", missing, async () => {
  const { model } = await shakespeareModel();
  const path = join(dir.path, "m-tok.gguf");
  M.exportGguf(model, path, { type: "f32" });
  const peer = await openLlamaCpp(path);
  try {
    const tok = D.byteTokenizer();
    const texts = ["ROMEO:\nBut soft , what light ' s that? Isn't it .", "  two  spaces, tabs\tand \r\n CRLF", "é ü 日本語 🎭 \u0000\u0001 end\x03", "'s 're 've 'll 'd 123 4567 ,.;:!?"];
    for (const text of texts) {
      assert.deepEqual(peer.tokenize(text), Array.from(tok.encode(text)), `tokenize ${JSON.stringify(text)}`);
      assert.equal(peer.detokenize(Array.from(tok.encode(text))), text, `detokenize ${JSON.stringify(text)}`);
    }
  } finally {
    await peer.close();
  }
});

testNeeding("gguf - @huggingface/gguf reads an export's names, shapes and types; troupe reads it back", missing, async () => {
  const { model } = await shakespeareModel();
  for (const type of ["f32", "f16", "q8_0", "q4_0"] as const) {
    const path = join(dir.path, `hf-${type}.gguf`);
    const exp = M.exportGguf(model, path, { type });
    const out = await gguf(path, { allowLocalFile: true });
    assert.equal(out.metadata["general.architecture"], "gpt2");
    assert.equal(out.metadata["gpt2.block_count" as never], 2);
    const code = { f32: 0, f16: 1, q4_0: 2, q8_0: 8 };
    assert.deepEqual(out.tensorInfos.map((t) => t.name), exp.tensors.map((t) => t.name));
    assert.deepEqual(out.tensorInfos.map((t) => t.shape.map(Number)), exp.tensors.map((t) => [...t.shape].reverse()));
    assert.deepEqual(out.tensorInfos.map((t) => t.dtype), exp.tensors.map((t) => code[t.type]));
    assert.ok(exp.tensors.some((t) => t.type === type), `${type} tensors present`);
    assert.ok(out.tensorInfos.find((t) => t.name === "blk.0.attn_qkv.weight")!.shape.map(Number).join() === "64,192", "qkv in ggml order {in, out}");
    const back = M.readGgufModel(path);
    const want = type === "f32" ? model : M.dequantizedCopy(model, type);
    for (const [n, p] of back.namedParameters()) assert.deepEqual(p.f32(), want.namedParameters().find(([m]) => m === n)![1].f32(), `${type} ${n}`);
  }
});

test("gguf - the comparison can fail: a different model's greedy output and a foreign tokenizer are caught", async (t) => {
  const a = M.createGpt({ nEmbd: 32, nLayer: 1, nHead: 2, blockSize: 32 }, 1);
  const bytes = M.gptToGguf(a, { type: "f32" }).bytes;
  const f = K.parseGguf(bytes);
  f.metadata.set("tokenizer.ggml.merges", K.kv.array("string", ["Ġ t"]));
  assert.throws(() => M.gptFromGguf(f, "x.gguf"), (e: unknown) => M.isExportFormatError(e) && /pre-tokenizer "deepseek-llm" is not supported/.test((e as Error).message));
  f.metadata.set("general.architecture", K.kv.string("llama"));
  assert.throws(() => M.gptFromGguf(f, "x.gguf"), /architecture "llama" is not supported/);
  assert.throws(() => M.gptToGguf(M.createGpt({ vocabSize: 100, nEmbd: 32, nLayer: 1, nHead: 2, blockSize: 32 }), { type: "f32" }), /byte vocabulary \(256 tokens\); this model has 100/);
  if (missing) return t.skip(missing);
  const { model, corpus } = await shakespeareModel();
  const path = join(dir.path, "m-q4-neg.gguf");
  M.exportGguf(model, path, { type: "q4_0" });
  const peer = await openLlamaCpp(path, { threads: 1, contextSize: 128 });
  try {
    const other = M.createGpt({ nEmbd: 64, nLayer: 2, nHead: 4, blockSize: 64 }, 99); // untrained
    let differ = 0;
    for (const p of heldOut(corpus, 5, 16)) {
      const theirs = await peer.greedy(p, 16);
      if (theirs.join() !== Array.from(M.generate(other, Int32Array.from(p), { maxTokens: 16, temperature: 0 })).join()) differ++;
    }
    assert.ok(differ >= 4, `another model's continuations differ (${differ}/5)`);
  } finally {
    await peer.close();
  }
});
