// The acceptance line of #15 item 4: a BPE tokenizer trained on tinyshakespeare round-trips
// every line of the corpus exactly, and its tokenizer.json gives the same ids in
// @huggingface/tokenizers as in troupe (the whole corpus in one call, and line by line).
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Tokenizer as Reference } from "@huggingface/tokenizers";
import * as D from "../../data/mod.js";
import { sharedPath } from "../../bench/shared.js";
import { testNeeding } from "../harness/needs.js";
import { rustMissing, rustTokenizer } from "./rust-reference.js";

const SHAKESPEARE = sharedPath("data/tinyshakespeare/input.txt");
const missing = existsSync(SHAKESPEARE) ? null : `${SHAKESPEARE} not present (the shared data lives in ../shared beside the repository; or set TROUPE_SHARED)`;

testNeeding("tokenizers - BPE trained on tinyshakespeare: every line round-trips, @huggingface/tokenizers gives the same ids", missing, async () => {
  const text = readFileSync(SHAKESPEARE, "utf8");
  const trained = D.trainBpe(text, { vocabSize: 2048 });
  assert.equal(trained.stats.merges, 2048 - 256 - 1);
  const dir = mkdtempSync(join(tmpdir(), "troupe-shakespeare-"));
  try {
    await D.writeTokenizerDir(dir, D.tokenizerOfTrained(trained).files);
    const ours = await D.loadTokenizer(dir);
    const ref = new Reference(JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")), JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")));
    const lines = text.split("\n");
    assert.equal(lines.length, 40001);
    let tokens = 0;
    for (const [i, line] of lines.entries()) {
      const ids = ours.encode(line);
      tokens += ids.length;
      assert.equal(ours.decode(ids), line, `line ${i + 1} round-trips`);
      assert.deepEqual([...ids], ref.encode(line, { add_special_tokens: false }).ids, `line ${i + 1} has the reference's ids`);
    }
    const all = ours.encode(text);
    assert.deepEqual([...all], ref.encode(text, { add_special_tokens: false }).ids, "the whole corpus in one call");

    assert.equal(ours.decode(all), text);
    // it compresses: well over 2 bytes per token at this vocabulary
    assert.ok(text.length / all.length > 2.5, `${(text.length / all.length).toFixed(2)} bytes per token`);
    assert.ok(tokens > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

testNeeding("tokenizers - the Rust tokenizers crate reads the tinyshakespeare BPE the same way", missing ?? rustMissing, async () => {
  const text = readFileSync(SHAKESPEARE, "utf8");
  const tok = D.tokenizerOfTrained(D.trainBpe(text, { vocabSize: 2048 }));
  const rust = rustTokenizer(new TextDecoder().decode(tok.files.get("tokenizer.json")!));
  assert.deepEqual([...tok.encode(text)], (await rust.encode(text, null, { addSpecialTokens: false })).getIds());
});
