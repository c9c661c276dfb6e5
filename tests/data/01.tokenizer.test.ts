import { test } from "node:test";
import assert from "node:assert/strict";
import { byteTokenizer, chatTemplate, END_MARKER } from "../../data/mod.js";

const tok = byteTokenizer();

test("data - byte tokenizer round-trips ASCII and non-ASCII text losslessly", () => {
  const samples = ["", "hello, world", "First Citizen:\nBefore we proceed", "café déjà vu", "日本語のテキスト", "emoji 🎭🎭", "\uFEFFbom first", "nul\0inside", "tab\tand\r\nCRLF"];
  for (const s of samples) {
    const ids = tok.encode(s);
    assert.ok(ids instanceof Int32Array);
    assert.equal(ids.length, Buffer.byteLength(s, "utf8"), s);
    assert.ok(ids.every((id) => id >= 0 && id < 256));
    assert.equal(tok.decode(ids), s);
  }
  assert.equal(tok.vocabSize, 256);
  assert.deepEqual([...tok.encode("é")], [0xc3, 0xa9]);
});

test("data - invalid byte sequences and out-of-range ids decode to U+FFFD without throwing", () => {
  assert.equal(tok.decode([0xff]), "\uFFFD");
  assert.equal(tok.decode([0x61, 0xe6, 0x97]), "a\uFFFD"); // truncated 3-byte sequence
  assert.equal(tok.decode([0x61, 300, -1, 0x62]), "a\uFFFD\uFFFDb");
  assert.equal(tok.decode([0x61, 1.5]), "a\uFFFD");
});

test("data - the chat template renders prompt part, response, and the end marker", () => {
  const tpl = chatTemplate({ tokenizer: tok });
  const ex = tpl.encodeExample("12+7=", "19");
  assert.equal(tok.decode(ex.ids.subarray(0, ex.promptLen)), "Q: 12+7=\nA: ");
  assert.equal(tok.decode(ex.ids.subarray(ex.promptLen)), "19" + END_MARKER);
  assert.equal(ex.ids[ex.ids.length - 1], tok.eot);
  assert.equal(tok.eot, 3);
  assert.deepEqual([...tpl.encodePrompt("12+7=")], [...ex.ids.subarray(0, ex.promptLen)]);
  // generation output: stop at the first end marker
  assert.equal(tpl.decodeResponse(tok.encode("19\x03Q: junk")), "19");
  assert.equal(tpl.decodeResponse(tok.encode("no marker")), "no marker");
  assert.equal(tpl.containsEot("a\x03b"), true);
  assert.equal(tpl.containsEot("plain"), false);
});

test("data - a custom template changes the delimiters", () => {
  const tpl = chatTemplate({ tokenizer: tok, userPrefix: "> ", assistantPrefix: " = " });
  const ex = tpl.encodeExample("2+2", "4");
  assert.equal(tok.decode(ex.ids), "> 2+2 = 4\x03");
  assert.equal(ex.promptLen, 8);
});
