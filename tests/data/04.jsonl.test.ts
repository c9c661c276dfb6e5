import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generatePack, isCorpusError, isDataRecordError, loadJsonl, parseJsonl, toJsonl, toJsonRecord } from "../../data/mod.js";

const LINES = [
  /* 1 */ `{"prompt":"2+2=","response":"4","metadata":{"domain":"arithmetic","difficulty":"easy"}}`,
  /* 2 */ `{"prompt":"oops",`,
  /* 3 */ `{"prompt":"no response here"}`,
  /* 4 */ `{"prompt":"x","response":42}`,
  /* 5 */ ``,
  /* 6 */ `{"prompt":"y","response":"z","metadata":{"difficulty":"medium"}}`,
  /* 7 */ `["prompt","response"]`,
  /* 8 */ `{"prompt":"plain","response":"ok","metadata":{"domain":"chat","source":"user","labels":["letter"]}}`,
  /* 9 */ `{"prompt":"   ","response":"blank prompt"}`,
  /* 10 */ `{"prompt":"p","response":"r","metadata":"not an object"}`,
  /* 11 */ `{"prompt":"p2","response":""}`,
];
const TEXT = LINES.join("\n") + "\n";

test("data - bad JSONL records are skipped, counted by reason, first ones reported with line numbers", () => {
  const r = parseJsonl(TEXT);
  assert.equal(r.lines, 11);
  assert.equal(r.blank, 1);
  assert.deepEqual(r.records.map((x) => x.line), [1, 8, 11]); // empty responses are a lane rule
  assert.equal(r.skipped.count, 7);
  assert.deepEqual(r.skipped.byReason, {
    "invalid JSON": 1,
    "missing response": 1,
    "response is not a string": 1,
    "bad metadata.difficulty": 1,
    "not an object": 1,
    "empty prompt": 1,
    "metadata is not an object": 1,
  });
  assert.deepEqual(r.skipped.first.map((e) => e.line), [2, 3, 4, 6, 7]);
  assert.equal(r.skipped.first[3]!.detail, 'expected "easy" or "hard", got "medium"');
  // defaults and pass-through metadata
  assert.equal(r.records[2]!.metadata.domain, "unspecified");
  assert.equal(r.records[1]!.metadata.source, "user");
  assert.deepEqual(r.records[1]!.metadata.labels, ["letter"]);
});

test("data - strict loading throws a DataRecordError naming the first bad line", () => {
  assert.throws(
    () => parseJsonl(TEXT, { strict: true }),
    (err: unknown) => isDataRecordError(err) && err.line === 2 && /invalid JSON/.test(err.message),
  );
});

test("data - loadJsonl streams a file (CRLF, BOM) with the same result as parseJsonl", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-data-"));
  try {
    const file = join(dir, "users.jsonl");
    await writeFile(file, "\uFEFF" + LINES.join("\r\n") + "\r\n");
    const r = await loadJsonl(file);
    const mem = parseJsonl(TEXT);
    assert.deepEqual(r.records, mem.records);
    assert.deepEqual(r.skipped.byReason, mem.skipped.byReason);
    assert.equal(r.skipped.first[0]!.file, file);
    assert.equal(r.lines, 11);
    await assert.rejects(loadJsonl(join(dir, "missing.jsonl")), isCorpusError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("data - the pack exported to JSONL loads back unchanged", () => {
  const pack = generatePack({ domains: ["counting", "brackets"], trainPerCell: 20, heldOutPerCell: 5 });
  const all = [...pack.train, ...pack.heldOut];
  const text = toJsonl(all);
  assert.equal(text.split("\n").length, all.length + 1);
  const back = parseJsonl(text);
  assert.equal(back.skipped.count, 0);
  assert.deepEqual(back.records.map(toJsonRecord), all.map(toJsonRecord));
  assert.ok(!text.includes('"line"'));
});
