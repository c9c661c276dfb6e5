import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildLanes,
  byteTokenizer,
  chatTemplate,
  createSftBatcher,
  generatePack,
  isDataConfigError,
  loadData,
  parseJsonl,
  resolveDataConfig,
  SEMANTIC_LABELS,
  toJsonl,
} from "../../data/mod.js";

const tpl = chatTemplate({ tokenizer: byteTokenizer() });

function configError(raw: unknown, key: string) {
  assert.throws(() => resolveDataConfig(raw), (e: unknown) => isDataConfigError(e) && e.key === key, `expected an error on ${key}`);
}

test("data - the lanes config fills defaults, stays plain JSON, and errors name the key", () => {
  const c = resolveDataConfig({});
  assert.equal(c.block, 64);
  assert.equal(c.source.kind, "pack");
  assert.equal(c.lanes.sft.maxTokens, 64);
  assert.equal(c.lanes.sft.overflow, "skip");
  assert.equal(c.lanes.routing.balance, true);
  assert.deepEqual(c.lanes.semantic.vocabulary, [...SEMANTIC_LABELS]);
  assert.deepEqual(JSON.parse(JSON.stringify(c)), c);
  assert.deepEqual(resolveDataConfig(JSON.parse(JSON.stringify(c))), c);
  assert.equal(resolveDataConfig({ lanes: { transfer: false } }).lanes.transfer.enabled, false);

  configError({ block: -3 }, "data.block");
  configError({ lanes: { sft: { maxTokens: 300 } } }, "data.lanes.sft.maxTokens");
  configError({ lanes: { sft: { overflow: "drop" } } }, "data.lanes.sft.overflow");
  configError({ lanes: { sfx: {} } }, "data.lanes.sfx");
  configError({ lanes: { routing: { balance: "yes" } } }, "data.lanes.routing.balance");
  configError({ lanes: { semantic: { vocabulary: ["a", "a"] } } }, "data.lanes.semantic.vocabulary");
  configError({ lanes: { sft: { difficulties: ["medium"] } } }, "data.lanes.sft.difficulties");
  configError({ source: { kind: "csv" } }, "data.source.kind");
  configError({ source: { kind: "jsonl" } }, "data.source.train");
  configError({ source: { kind: "pack", domains: ["poetry"] } }, "data.source.domains");
  configError({ source: { kind: "pack", trainPerCel: 3 } }, "data.source.trainPerCel");
  configError({ corpus: { path: "" } }, "data.corpus.path");
  configError([], "data");
});

// One record per rule; `line` is the JSONL line number the reports must quote.
const RECORDS = parseJsonl(
  [
    `{"prompt":"e1","response":"a","metadata":{"domain":"d1","difficulty":"easy","labels":["letter"]}}`,
    `{"prompt":"e2","response":"b","metadata":{"domain":"d1","difficulty":"easy","labels":["letter","mystery"]}}`,
    `{"prompt":"e3","response":"c","metadata":{"domain":"d2","difficulty":"easy","labels":["digit"]}}`,
    `{"prompt":"h1","response":"d","metadata":{"domain":"d1","difficulty":"hard","labels":["order"]}}`,
    `{"prompt":"empty","response":"  ","metadata":{"domain":"d1","difficulty":"hard","labels":["order"]}}`,
    `{"prompt":"${"long ".repeat(20)}","response":"ok","metadata":{"domain":"d1","difficulty":"hard","labels":["count"]}}`,
    `{"prompt":"eot \\u0003 inside","response":"x","metadata":{"domain":"d1","difficulty":"easy","labels":["count"]}}`,
    `{"prompt":"nodiff","response":"y","metadata":{"domain":"d1","labels":["mystery"]}}`,
  ].join("\n"),
).records;

test("data - each lane applies its own rules and reports skips with line numbers", () => {
  const config = resolveDataConfig({});
  const lanes = buildLanes({ train: RECORDS, heldOut: [] }, config, tpl);

  const sft = lanes.sft.report;
  assert.deepEqual(lanes.sft.train.map((i) => i.prompt), ["e1", "e2", "e3", "h1", "nodiff"]);
  assert.deepEqual(sft.skipped.byReason, { "empty response": 1, "too long": 1, "contains end marker": 1 });
  assert.deepEqual(sft.skipped.first.map((e) => e.line), [5, 6, 7]);
  assert.equal(sft.skipped.first[1]!.detail, "110 tokens > 64");

  // routing: needs a difficulty, then balances easy/hard (3 easy, 1 hard → 1 + 1)
  const routing = lanes.routing;
  assert.equal(routing.report.skipped.byReason["missing difficulty"], 1);
  assert.deepEqual(routing.report.filtered, { "balance easy/hard": 2 });
  assert.deepEqual(routing.train.map((i) => i.difficulty).sort(), ["easy", "hard"]);

  // semantic: needs a known label; unknown labels are dropped and counted
  const sem = lanes.semantic;
  assert.deepEqual(sem.train.map((i) => i.prompt), ["e1", "e2", "e3", "h1"]);
  assert.equal(sem.report.skipped.byReason["no known label"], 1);
  assert.deepEqual(sem.report.unknownLabels, { mystery: 1 }); // from kept records ("nodiff" is skipped)
  const e2 = sem.train[1]!;
  assert.deepEqual([...e2.labels!].flatMap((v, i) => (v ? [sem.vocabulary[i]] : [])), ["letter"]);

  // transfer: empty responses are fine unless requireResponse
  assert.ok(lanes.transfer.train.some((i) => i.prompt === "empty"));
  const strict = buildLanes({ train: RECORDS, heldOut: [] }, resolveDataConfig({ lanes: { transfer: { requireResponse: true } } }), tpl);
  assert.ok(!strict.transfer.train.some((i) => i.prompt === "empty"));
});

test("data - lane selection filters domains and difficulties, truncation and limits are counted", () => {
  const config = resolveDataConfig({
    lanes: {
      sft: { overflow: "truncate", exclude: ["d2"] },
      routing: { balance: false, difficulties: ["hard"] },
      semantic: { domains: ["d2"] },
      transfer: { limit: 2 },
    },
  });
  const lanes = buildLanes({ train: RECORDS, heldOut: [] }, config, tpl);
  assert.equal(lanes.sft.report.filtered["domain excluded"], 1);
  assert.equal(lanes.sft.report.truncated, 1);
  assert.ok(lanes.sft.train.every((i) => i.ids.length <= 64));
  assert.deepEqual(lanes.routing.train.map((i) => i.prompt), ["h1"]); // "long" is too long: only SFT truncates
  assert.equal(lanes.routing.report.filtered["difficulty not selected"], 5);
  assert.deepEqual(lanes.semantic.train.map((i) => i.prompt), ["e3"]);
  assert.equal(lanes.semantic.report.filtered["domain not selected"], 7);
  assert.equal(lanes.transfer.train.length, 2);
  assert.equal(lanes.transfer.report.filtered["over limit"], 4);
});

test("data - loadData builds lanes from the pack; lane items feed the SFT batcher", async () => {
  const ds = await loadData({ source: { kind: "pack", domains: ["copying", "sorting"], trainPerCell: 30, heldOutPerCell: 10 } });
  assert.equal(ds.lanes.sft.train.length, 120);
  assert.equal(ds.lanes.sft.heldOut.length, 40);
  assert.equal(ds.lanes.routing.train.filter((i) => i.difficulty === "easy").length, 60);
  assert.equal(ds.lanes.semantic.train.length, 120);
  const b = createSftBatcher(ds.lanes.sft.train, { batch: 8, block: ds.config.block, seed: 1, pad: ds.tokenizer.eot }).next();
  assert.equal(b.idx.length, 8 * 64);
  assert.ok(b.tokens > 8);
});

test("data - user JSONL goes through the same path: splits by metadata.split or hash, overlap removed", async () => {
  const dir = await mkdtemp(join(tmpdir(), "troupe-lanes-"));
  try {
    // The pack exported to JSONL yields exactly the pack's lanes.
    const pack = generatePack({ domains: ["counting"], trainPerCell: 40, heldOutPerCell: 10 });
    const exported = join(dir, "pack.jsonl");
    await writeFile(exported, toJsonl([...pack.train, ...pack.heldOut]));
    const fromFile = await loadData({ source: { kind: "jsonl", train: exported } });
    const fromPack = await loadData({ source: { kind: "pack", domains: ["counting"], trainPerCell: 40, heldOutPerCell: 10 } });
    const prompts = (xs: { prompt: string }[]) => xs.map((x) => x.prompt);
    assert.deepEqual(prompts(fromFile.lanes.sft.train), prompts(fromPack.lanes.sft.train));
    assert.deepEqual(prompts(fromFile.lanes.sft.heldOut), prompts(fromPack.lanes.sft.heldOut));

    // Without split metadata: a stable hash split; a duplicated prompt never straddles it.
    const lines = Array.from({ length: 400 }, (_, i) => JSON.stringify({ prompt: `q${i}`, response: `a${i}` }));
    lines.push(JSON.stringify({ prompt: "q7", response: "again" }), "{bad");
    const users = join(dir, "users.jsonl");
    await writeFile(users, lines.join("\n"));
    const ds = await loadData({ source: { kind: "jsonl", train: users, heldOutFraction: 0.2 } });
    const held = ds.records.heldOut.length;
    assert.ok(held > 40 && held < 120, `held-out ${held} of 401`);
    const heldSet = new Set(ds.records.heldOut.map((r) => r.prompt));
    assert.ok(ds.records.train.every((r) => !heldSet.has(r.prompt)));
    assert.equal(ds.source.skipped.byReason["invalid JSON"], 1);
    assert.equal(ds.source.skipped.first[0]!.line, 402);

    // With a separate held-out file: training copies of held-out prompts are skipped and counted.
    const heldFile = join(dir, "held.jsonl");
    await writeFile(heldFile, lines.slice(0, 5).join("\n"));
    const ds2 = await loadData({ source: { kind: "jsonl", train: users, heldOut: heldFile } });
    assert.equal(ds2.records.heldOut.length, 5);
    assert.equal(ds2.source.skipped.byReason["prompt also in held-out"], 5);
    assert.equal(ds2.records.train.length, 396);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("data - a lane can cut by the expected answer's length (a held-out cut of longer strings); the rest is counted as filtered", async () => {
  const source = { kind: "pack", domains: ["reversal"], trainPerCell: 40, heldOutPerCell: 30 };
  const lengths = (xs: { response: string }[]) => [...new Set(xs.map((x) => x.response.length))].sort();
  const all = await loadData({ source, lanes: { routing: false, semantic: false, transfer: false } });
  assert.deepEqual(lengths(all.lanes.sft.heldOut), [3, 4, 6, 7, 8]);
  const long = await loadData({ source, lanes: { sft: { responseLength: { min: 7 } }, routing: false, semantic: false, transfer: false } });
  assert.deepEqual(lengths(long.lanes.sft.heldOut), [7, 8]);
  assert.deepEqual(lengths(long.lanes.sft.train), [7, 8]);
  const cut = long.lanes.sft.report.filtered["response length not selected"];
  assert.equal(cut, all.lanes.sft.train.length + all.lanes.sft.heldOut.length - long.lanes.sft.train.length - long.lanes.sft.heldOut.length, "every record cut is counted");
  const short = await loadData({ source, lanes: { sft: { responseLength: { min: 3, max: 4 } }, routing: false, semantic: false, transfer: false } });
  assert.deepEqual(lengths(short.lanes.sft.train), [3, 4]);
  configError({ lanes: { sft: { responseLength: { min: 5, max: 4 } } } }, "data.lanes.sft.responseLength");
  configError({ lanes: { sft: { responseLength: { most: 4 } } } }, "data.lanes.sft.responseLength.most");
  configError({ lanes: { sft: { responseLength: 4 } } }, "data.lanes.sft.responseLength");
});
