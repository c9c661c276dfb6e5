// The data path with any tokenizer: a corpus validates on the same text whatever the
// tokenizer (split by bytes at a character boundary, parts tokenized apart), and bits per byte
// turn a loss in nats per token into a figure that compares across tokenizers. guards #15
import { test } from "node:test";
import assert from "node:assert/strict";
import * as D from "../../data/mod.js";
import { IGNORE_INDEX } from "../../kernels/constants.js";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { enc, gpt2Style, llama2Style, sampleCorpus } from "./tokenizer-fixtures.js";

const bpe = () => {
  const f = gpt2Style();
  return D.tokenizerFromJson(enc(f.json), enc(f.config));
};

test("bpb - a corpus validates on the same text with bytes and with a BPE, and no token crosses the split", () => {
  const text = sampleCorpus();
  const tok = bpe();
  const a = D.corpusFromText(text);
  const b = D.corpusFromText(text, { tokenizer: tok });
  assert.deepEqual(a.bytes, b.bytes);
  assert.equal(a.splitAt, a.bytes.train, "bytes: one token per byte");
  assert.ok(b.tokens.length < a.tokens.length / 2, "the BPE compresses");
  assert.equal(tok.decode(b.train) + tok.decode(b.val), text);
  assert.equal(tok.decode(b.val), D.byteTokenizer().decode(a.val));
  assert.equal(b.tokenizer, tok);
  assert.equal(b.vocabSize, tok.vocabSize);
});

test("bpb - the split moves back to a character boundary instead of cutting a character", () => {
  const text = "é".repeat(10); // 20 bytes; 10% → the split at byte 18 is a boundary, 15% → 17 is not
  const c = D.corpusFromText(text, { valFraction: 0.15 });
  assert.deepEqual(c.bytes, { train: 16, val: 4 });
  assert.equal(D.byteTokenizer().decode(c.val), "éé");
  const t = D.corpusFromText(text, { valFraction: 0.15, tokenizer: bpe() });
  assert.deepEqual(t.bytes, c.bytes);
});

test("bpb - bits per byte: nats/ln2 for bytes; for a BPE, the targets' bytes are the text they decode to", () => {
  const text = sampleCorpus();
  const bytesCorpus = D.corpusFromText(text);
  const wb = D.evalWindows(bytesCorpus.val, { batch: 4, block: 16 });
  assert.ok(Math.abs(D.bitsPerByte(1.2, wb, D.byteTokenizer()) - 1.2 / Math.LN2) < 1e-12);

  const tok = bpe();
  const c = D.corpusFromText(text, { tokenizer: tok });
  const windows = D.evalWindows(c.val, { batch: 4, block: 16 });
  const { tokens, bytes } = D.targetBytes(windows, tok);
  const targets = windows.flatMap((w) => [...w.targets].filter((t) => t !== IGNORE_INDEX));
  assert.equal(tokens, targets.length);
  assert.equal(bytes, new TextEncoder().encode(tok.decode(targets)).length);
  assert.ok(bytes / tokens > 2);
  // the same loss per token is fewer bits per byte when each token holds more bytes
  assert.ok(Math.abs(D.bitsPerByte(2, windows, tok) - (2 * tokens) / bytes / Math.LN2) < 1e-12);
  assert.ok(D.bitsPerByte(2, windows, tok) < D.bitsPerByte(2, wb, D.byteTokenizer()));
  // a special token (an end marker) counts as one byte, as 0x03 does for bytes
  assert.equal(tok.tokenBytes(tok.eot), 1);
  assert.equal(D.byteTokenizer().tokenBytes(3), 1);
});

test("bpb - lanes and SFT batches work with a BPE: pad is its eot, and a record it cannot encode is skipped and counted", async () => {
  const tok = bpe();
  const ds = await D.loadData({ source: { kind: "pack", domains: ["arithmetic"], trainPerCell: 20, heldOutPerCell: 5 }, lanes: { routing: false, semantic: false, transfer: false } }, { tokenizer: tok });
  assert.equal(ds.tokenizer, tok);
  assert.equal(ds.template.kind, "plain");
  const item = ds.lanes.sft.train[0]!;
  assert.equal(item.ids[item.ids.length - 1], tok.eot);
  assert.equal(tok.decode(item.ids.subarray(item.promptLen, -1)), item.response);
  const b = D.createSftBatcher(ds.lanes.sft.train, { batch: 4, block: 64, seed: 1, pad: tok.eot }).next();
  assert.ok(b.tokens > 0);
  // a tokenizer without unk or byte fallback cannot encode an emoji: that record is skipped with its reason
  const dir = mkdtempSync(join(tmpdir(), "troupe-bpb-"));
  try {
    const file = join(dir, "pairs.jsonl");
    const rows = [{ prompt: "speak", response: "speak, speak" }, { prompt: "speak 🎭", response: "speak" }, { prompt: "hear me", response: "speak" }];
    writeFileSync(file, rows.map((r) => JSON.stringify({ ...r, metadata: { split: "train" } })).join("\n") + "\n");
    const narrow = D.tokenizerFromJson(enc(llama2Style({ byteFallback: false, unk: false }).json), enc(llama2Style().config));
    const template = D.chatTemplate({ tokenizer: narrow, userPrefix: "", assistantPrefix: " " });
    const nd = await D.loadData({ source: { kind: "jsonl", train: file }, lanes: { routing: false, semantic: false, transfer: false } }, { template });
    assert.equal(nd.lanes.sft.train.length, 2);
    assert.equal(nd.lanes.sft.report.skipped.count, 1);
    assert.deepEqual(nd.lanes.sft.report.skipped.byReason, { "cannot be tokenized": 1 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
