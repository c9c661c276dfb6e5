// troupe's tokenizer.json reader against the independent one, @huggingface/tokenizers: the same
// ids (with and without the post-processor's special tokens) on a corpus and on awkward text,
// for a GPT-2-style byte-level BPE, the Llama-3 layout and the SentencePiece-style layouts;
// and against the Rust crate itself (via @anush008/tokenizers) on the same files.
// guards #15 (item 4: tokenizers)
import { test } from "node:test";
import assert from "node:assert/strict";
import { Tokenizer as Reference } from "@huggingface/tokenizers";
import * as D from "../../data/mod.js";
import { testNeeding } from "../harness/needs.js";
import { rustMissing, rustTokenizer } from "./rust-reference.js";
import { AWKWARD, enc, gpt2Style, llama2Style, llama3Style, sampleCorpus } from "./tokenizer-fixtures.js";

function both(files: { json: string; config: string }) {
  const ours = D.tokenizerFromJson(enc(files.json), enc(files.config));
  const ref = new Reference(JSON.parse(files.json), JSON.parse(files.config));
  return { ours, ref };
}

/** Compares ids on every text; returns how many texts were compared. */
function compare(files: { json: string; config: string }, texts: readonly string[], opts: { decode: boolean }): number {
  const { ours, ref } = both(files);
  for (const text of texts) {
    for (const special of [false, true]) {
      const want = ref.encode(text, { add_special_tokens: special }).ids;
      const got = [...ours.encode(text, { addSpecialTokens: special })];
      assert.deepEqual(got, want, `ids of ${JSON.stringify(text.slice(0, 60))} (special tokens ${special})`);
    }
    const ids = [...ours.encode(text)];
    if (opts.decode && ids.length > 0) {
      // both follow tokenizer_config.json's clean_up_tokenization_spaces
      assert.equal(ours.decode(ids), ref.decode(ids), `decode of ${JSON.stringify(text.slice(0, 60))}`);
    }
  }
  return texts.length;
}

const corpusLines = sampleCorpus().split("\n");

test("tokenizers - a trained byte-level BPE gives @huggingface/tokenizers' ids on a corpus and awkward text", () => {
  const files = gpt2Style();
  assert.ok(compare(files, [...AWKWARD, ...corpusLines, sampleCorpus()], { decode: true }) > 50);
  // the awkward texts really reach merges, specials and multi-byte characters
  const { ours } = both(files);
  const ids = ours.encode("tail<|endoftext|>" + sampleCorpus());
  assert.ok(ids.includes(ours.eot));
  assert.ok(ids.some((id) => id >= 256 && id !== ours.eot), "merged tokens are used");
});

test("tokenizers - the Llama-3 layout (Split regex, ignore_merges, BOS template, lstrip/rstrip added tokens) matches", () => {
  const files = llama3Style();
  const extra = ["<|begin_of_text|>hi<|eot_id|>", "x troupe-added y", "a <mask> b", "a<mask>b", "  <mask>  ", "I'M", "'S'T'RE", "12 123 1234 12345", "a\n\n\nb", "x  \n y"];
  compare(files, [...AWKWARD, ...extra, ...corpusLines], { decode: true });
  const { ours } = both(files);
  assert.equal(ours.encode("hi", { addSpecialTokens: true })[0], ours.tokenToId("<|begin_of_text|>"));
  assert.equal(ours.eot, ours.tokenToId("<|eot_id|>"));
});

test("tokenizers - SentencePiece-style BPE with byte fallback (Llama-2/TinyLlama legacy layout) matches", () => {
  const files = llama2Style();
  compare(files, [...AWKWARD.filter((t) => !t.includes("\udc00")), "<s>hello</s> world", "x</s>y", ...corpusLines], { decode: true });
  const { ours } = both(files);
  const emoji = ours.encode("🎭");
  assert.ok([...emoji].some((id) => /^<0x/.test(ours.idToToken(id)!)), "a character outside the vocabulary falls back to byte tokens");
  assert.equal(ours.decode(ours.encode("naïve 🎭 façade")), "naïve 🎭 façade");
});

test("tokenizers - the Metaspace layout (prepend_scheme first, split false) matches", () => {
  compare(llama2Style({ metaspace: true }), [...AWKWARD.filter((t) => !t.includes("\udc00")), "<s>after special", "before</s>", ...corpusLines], { decode: false });
});

test("tokenizers - with neither unk nor byte fallback a missing character is a TokenizerError, not lost text", () => {
  // the Rust crate and @huggingface/tokenizers drop such a character at different moments (and
  // give different ids); troupe refuses to encode it
  const files = llama2Style({ byteFallback: false, unk: false });
  compare(files, ["plain tet", "speak, speak"], { decode: false });
  const ours = D.tokenizerFromJson(enc(files.json), enc(files.config));
  assert.throws(() => ours.encode("a 🎭 b"), (e: unknown) => D.isTokenizerError(e) && /U\+1F3AD .* cannot be encoded/.test((e as Error).message));
  // with an unk token instead, consecutive unknown characters fuse into one <unk>, as in both
  const unk = llama2Style({ byteFallback: false });
  compare(unk, ["a🎭🎭b", "🎭 x 🎭"], { decode: false });
  const withUnk = D.tokenizerFromJson(enc(unk.json));
  assert.equal([...withUnk.encode("a🎭🎭b")].filter((id) => id === withUnk.tokenToId("<unk>")).length, 1);
});

test("tokenizers - the comparison can fail: dropping the first merge from troupe's copy changes the ids", () => {
  const files = gpt2Style();
  const j = JSON.parse(files.json);
  j.model.merges.splice(0, 1);
  const ours = D.tokenizerFromJson(enc(j), enc(files.config));
  const ref = new Reference(JSON.parse(files.json), JSON.parse(files.config));
  const text = sampleCorpus();
  assert.notDeepEqual([...ours.encode(text)], ref.encode(text, { add_special_tokens: false }).ids);
});

testNeeding("tokenizers - the Rust tokenizers crate gives the same ids on every layout", rustMissing, async () => {
  const texts = [...AWKWARD.filter((t) => !t.includes("\udc00")), ...corpusLines, "<s>hello</s> world", "a <mask> b", "x troupe-added y", "<|begin_of_text|>hi<|eot_id|>"];
  const layouts = { gpt2: gpt2Style(), llama3: llama3Style(), llama2: llama2Style(), metaspace: llama2Style({ metaspace: true }), unk: llama2Style({ byteFallback: false }) };
  let compared = 0;
  for (const [name, files] of Object.entries(layouts)) {
    const rust = rustTokenizer(files.json);
    const ours = D.tokenizerFromJson(enc(files.json), enc(files.config));
    for (const text of texts) {
      for (const special of [false, true]) {
        const want = (await rust.encode(text, null, { addSpecialTokens: special })).getIds();
        assert.deepEqual([...ours.encode(text, { addSpecialTokens: special })], want, `${name}: ${JSON.stringify(text.slice(0, 60))} (special tokens ${special})`);
        compared++;
      }
    }
  }
  assert.ok(compared > 1000);
});
