// The BPE trainer and the tokenizer.json reader: merges learned with incremental pair counts
// equal a naive recount's, the files round-trip, and every unsupported feature or broken file
// is a typed error naming it. guards #15 (item 4)
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import * as D from "../../data/mod.js";
import { enc, gpt2Style, llama2Style, sampleCorpus } from "./tokenizer-fixtures.js";

/** The textbook trainer: recount every pair of every word after each merge. */
function naiveMerges(text: string, merges: number): [string, string][] {
  const idOfByte = new Map(D.BYTE_ORDER.map((b, i) => [b, i]));
  const tokens = D.BYTE_ORDER.map((b) => D.BYTE_TO_CHAR[b]!);
  const counts = new Map<string, number>();
  for (const m of text.matchAll(D.GPT2_SPLIT)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  const words = [...counts].map(([w, c]) => ({ s: Array.from(new TextEncoder().encode(w), (b) => idOfByte.get(b)!), c }));
  const out: [string, string][] = [];
  const idOf = new Map(tokens.map((t, i) => [t, i]));
  for (let m = 0; m < merges; m++) {
    const pairs = new Map<number, number>();
    for (const { s, c } of words) for (let i = 0; i + 1 < s.length; i++) pairs.set(s[i]! * 0x200000 + s[i + 1]!, (pairs.get(s[i]! * 0x200000 + s[i + 1]!) ?? 0) + c);
    let best = -1;
    let bestC = 0;
    for (const [k, c] of pairs) if (c > bestC || (c === bestC && k < best)) [best, bestC] = [k, c];
    if (bestC < 2) break;
    const a = Math.floor(best / 0x200000);
    const b = best % 0x200000;
    const joined = tokens[a]! + tokens[b]!;
    let z = idOf.get(joined);
    if (z === undefined) {
      z = tokens.length;
      tokens.push(joined);
      idOf.set(joined, z);
    }
    out.push([tokens[a]!, tokens[b]!]);
    for (const w of words) {
      const s: number[] = [];
      for (let i = 0; i < w.s.length; i++) {
        if (i + 1 < w.s.length && w.s[i] === a && w.s[i + 1] === b) {
          s.push(z);
          i++;
        } else s.push(w.s[i]!);
      }
      w.s = s;
    }
  }
  return out;
}

test("bpe - incremental pair counts learn exactly the merges of a full recount", () => {
  const text = sampleCorpus();
  const t = D.trainBpe(text, { vocabSize: 256 + 120 + 1 });
  assert.equal(t.stats.merges, 120);
  assert.deepEqual(t.merges, naiveMerges(text, 120));
});

test("bpe - merges by count, ties to the smaller pair; minFrequency stops early; ids are bytes, merges, specials", () => {
  const t = D.trainBpe("ab ab ab cd", { vocabSize: 300, minFrequency: 1 });
  assert.deepEqual(t.merges.slice(0, 3), [["a", "b"], ["Ġ", "ab"], ["c", "d"]]);
  const strict = D.trainBpe("ab ab ab cd", { vocabSize: 300 });
  assert.deepEqual(strict.merges, [["a", "b"], ["Ġ", "ab"]]);
  assert.equal(strict.stats.stoppedEarly, true);
  const tok = D.tokenizerOfTrained(strict);
  assert.equal(tok.vocabSize, 256 + 2 + 1);
  assert.equal(tok.eot, 258);
  assert.equal(tok.idToToken(0), "!");
  assert.equal(tok.idToToken(D.BYTE_ORDER.indexOf(0x20)), "Ġ");
  assert.deepEqual([...tok.encode("ab ab")], [256, 257]);
  assert.throws(() => D.trainBpe("x", { vocabSize: 200 }), (e: unknown) => D.isDataConfigError(e) && /vocab/.test((e as Error).message));
});

test("bpe - training is deterministic and every token is distinct", () => {
  const a = gpt2Style();
  const b = gpt2Style();
  assert.equal(a.json, b.json);
  const vocab = JSON.parse(a.json).model.vocab as Record<string, number>;
  assert.equal(new Set(Object.values(vocab)).size, Object.keys(vocab).length);
});

test("bpe - a tokenizer directory round-trips, and its spec names the file's SHA-256", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-tok-"));
  try {
    const made = D.tokenizerOfTrained(D.trainBpe(sampleCorpus(), { vocabSize: 500 }));
    await D.writeTokenizerDir(dir, made.files);
    const loaded = await D.loadTokenizer(dir);
    const text = sampleCorpus();
    assert.deepEqual([...loaded.encode(text)], [...made.encode(text)]);
    assert.equal(loaded.decode(loaded.encode(text)), text);
    const spec = loaded.spec as Exclude<D.TokenizerSpec, "bytes">;
    assert.equal(spec.sha256, createHash("sha256").update(readFileSync(join(dir, "tokenizer.json"))).digest("hex"));
    assert.equal(spec.eot, loaded.eot);
    assert.equal(JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")).eos_token, "<|endoftext|>");
    await assert.rejects(D.loadTokenizer(join(dir, "nope")), (e: unknown) => D.isTokenizerError(e) && /has no tokenizer.json/.test((e as Error).message));
    writeFileSync(join(dir, "tokenizer.json"), readFileSync(join(dir, "tokenizer.json")).subarray(0, 500));
    await assert.rejects(D.loadTokenizer(dir), (e: unknown) => D.isTokenizerError(e) && /not valid JSON .*truncated/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function edited(files: { json: string; config: string }, edit: (j: any) => void): Uint8Array {
  const j = JSON.parse(files.json);
  edit(j);
  return enc(j);
}

test("bpe - unsupported tokenizer.json features are refused with an error naming the feature", () => {
  const g = gpt2Style();
  const sp = llama2Style();
  const cases: [Uint8Array, string][] = [
    [edited(g, (j) => (j.model.type = "WordPiece")), "model.type=WordPiece"],
    [edited(g, (j) => (j.model.type = "Unigram")), "model.type=Unigram"],
    [edited(g, (j) => (j.model.dropout = 0.1)), "model.dropout=0.1"],
    [edited(g, (j) => (j.model.continuing_subword_prefix = "##")), 'model.continuing_subword_prefix="##"'],
    [edited(g, (j) => (j.normalizer = { type: "BertNormalizer" })), "normalizer.type=BertNormalizer"],
    [edited(g, (j) => (j.pre_tokenizer = { type: "Whitespace" })), "pre_tokenizer.type=Whitespace"],
    [edited(g, (j) => (j.pre_tokenizer = { type: "Split", pattern: { Regex: "\\s+" }, behavior: "Contiguous", invert: false })), "pre_tokenizer.Split.behavior=Contiguous"],
    [edited(g, (j) => (j.pre_tokenizer = { type: "Split", pattern: { Regex: "(?>a|ab)c" }, behavior: "Isolated", invert: false })), "regex the group (?>a…"],
    [edited(g, (j) => (j.pre_tokenizer = { type: "Split", pattern: { Regex: "\\p{L}++" }, behavior: "Isolated", invert: false })), "regex a possessive quantifier"],
    [edited(g, (j) => (j.pre_tokenizer = { type: "Split", pattern: { Regex: "\\Gx" }, behavior: "Isolated", invert: false })), "regex \\G"],
    [edited(g, (j) => (j.pre_tokenizer = { type: "Split", pattern: { Regex: "[[:alpha:]]" }, behavior: "Isolated", invert: false })), "regex a POSIX bracket [:…:]"],
    [edited(g, (j) => (j.added_tokens[0].single_word = true)), "added_tokens[0].single_word=true"],
    [edited(g, (j) => (j.decoder = { type: "WordPiece" })), "decoder.type=WordPiece"],
    [edited(sp, (j) => {
      j.normalizer = null;
      j.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true };
      j.model.vocab["▁▁"] = Object.keys(j.model.vocab).length;
    }), "pre_tokenizer.Metaspace.split=true"],
  ];
  for (const [json, feature] of cases) {
    assert.throws(() => D.tokenizerFromJson(json), (e: unknown) => D.isUnsupportedTokenizerError(e) && e.feature === feature && e.message.includes(feature), feature);
  }
  // split: true is fine when no token has ▁ inside (then splitting cannot change the ids)
  D.tokenizerFromJson(edited(sp, (j) => {
    j.normalizer = null;
    j.pre_tokenizer = { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true };
  }));
});

test("bpe - broken tokenizer files are TokenizerErrors that say what is wrong", () => {
  const g = gpt2Style();
  const cases: [Uint8Array, Uint8Array | null, RegExp][] = [
    [enc("{"), null, /not valid JSON/],
    [enc("[1]"), null, /not a JSON object/],
    [edited(g, (j) => delete j.model), null, /has no "model"/],
    [edited(g, (j) => j.model.merges.push(["zz_missing", "y"])), null, /merges\[\d+\].*"zz_missing" is not in the vocabulary/],
    [edited(g, (j) => (j.model.merges[0] = "no-space-here")), null, /merges\[0\]: expected "a b"/],
    [edited(g, (j) => (j.added_tokens = [])), null, /no end-of-text token/],
    [enc(g.json), enc({ eos_token: "<nope>" }), /eos_token "<nope>" is not in the vocabulary/],
    [edited(g, (j) => (j.model.unk_token = "<unk>")), null, /unk_token "<unk>" is not in the vocabulary/],
  ];
  for (const [json, config, re] of cases) assert.throws(() => D.tokenizerFromJson(json, config), (e: unknown) => D.isTokenizerError(e) && re.test((e as Error).message), String(re));
});

test("bpe - Oniguruma patterns translate with Oniguruma's meaning of \\s, ., (?i:) and \\x{…}", () => {
  const re = (p: string) => new RegExp(`^(?:${D.translateOniguruma(p)})$`, "u");
  assert.ok(re("\\s").test("\u0085"), "\\s includes NEL");
  assert.ok(!re("\\s").test("\ufeff"), "\\s excludes the BOM (JavaScript's includes it)");
  assert.ok(!re(".").test("\n") && re(".").test("\r"));
  assert.ok(re("(?i:'s|'re)").test("'RE") && re("(?i:'s|'re)").test("'s"));
  assert.ok(re("(?i:[a-c])").test("B") && !re("(?i:[^a])").test("A"));
  assert.ok(re("\\x{1F3AD}").test("🎭"));
  assert.ok(re("\\p{Han}+").test("中文"), "a bare script name is a script property");
  assert.ok(re("a{,2}").test("aa") && !re("a{,2}").test("aaa"));
});
