// report.json and report.html on disk: atomic writes, a JSON round trip, refusing other formats.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  buildReport,
  isReportFormatError,
  isReportInputError,
  isReportWriteError,
  jsonSafe,
  parseReport,
  readReport,
  REPORT_FORMAT,
  writeReport,
} from "../../report/mod.js";
import { configDigest } from "../../actors/cast/mod.js";
import { sampleRun } from "./sample.js";

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "troupe-report-"));
}

test("report - writeReport writes report.json and report.html, and the JSON round-trips", async () => {
  const dir = await tempDir();
  try {
    const { report } = await sampleRun();
    const paths = await writeReport(join(dir, "runs", report.run_id), report);
    assert.equal(paths.json, join(dir, "runs", report.run_id, "report.json"));
    const back = await readReport(paths.json);
    assert.deepEqual(back, report);
    assert.equal(back.format, REPORT_FORMAT);
    assert.match(await readFile(paths.html, "utf8"), /^<!doctype html>/);
    assert.deepEqual((await readdir(join(dir, "runs", report.run_id))).sort(), ["report.html", "report.json"], "no temp files left");
    // Overwriting an existing report is atomic too and leaves nothing behind.
    await writeReport(join(dir, "runs", report.run_id), { ...report, notes: ["second"] });
    assert.deepEqual((await readReport(paths.json)).notes, ["second"]);
    assert.deepEqual((await readdir(join(dir, "runs", report.run_id))).sort(), ["report.html", "report.json"]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("report - a failed write is a ReportWriteError and leaves no temp file", async () => {
  const dir = await tempDir();
  try {
    const { report } = await sampleRun();
    await writeFile(join(dir, "blocker"), "a file where the directory should be");
    await assert.rejects(writeReport(join(dir, "blocker"), report), isReportWriteError);
    await assert.rejects(writeReport(join(dir, "blocker", "sub"), report), isReportWriteError);
    // report.json exists as a directory: the rename fails after the temp file was written.
    const target = join(dir, "out");
    await writeReport(target, report);
    await rm(join(target, "report.json"));
    await (await import("node:fs/promises")).mkdir(join(target, "report.json", "x"), { recursive: true });
    await assert.rejects(writeReport(target, report), (err: unknown) => isReportWriteError(err) && /report\.json/.test((err as Error).message));
    assert.deepEqual((await readdir(target)).filter((n) => n.endsWith(".tmp")), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("report - parseReport refuses what is not a troupe-report/1", () => {
  assert.throws(() => parseReport("{not json"), isReportFormatError);
  assert.throws(() => parseReport(`{"run_id":"x","stages":[]}`), /"format" is missing/);
  assert.throws(() => parseReport(`{"format":"troupe-report/2","run_id":"x","stages":[]}`), /troupe-report\/2; this troupe reads troupe-report\/1/);
  assert.throws(() => parseReport(`{"format":"troupe-report/1","stages":[]}`), /run_id/);
  assert.equal(parseReport(`{"format":"troupe-report/1","run_id":"x","stages":[]}`).run_id, "x");
});

test("report - buildReport needs a context or a summary, and makes every number JSON-safe", async () => {
  assert.throws(() => buildReport({}), isReportInputError);
  const { summary, context } = await sampleRun();
  const r = buildReport({ summary: { ...summary, wall_s: Number.NaN }, transfer: [{ codec: "q8_0", bits_per_value: 8.5, bytes: 1, cosine: Number.POSITIVE_INFINITY, mse: null, kl: 0 }] });
  assert.equal(r.wall_s, null);
  assert.equal(r.transfer[0]!.cosine, null);
  assert.deepEqual(r.stages[0]!.attempt_reports, [], "a summary alone has no attempt records");
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  const full = buildReport({ context });
  assert.equal(full.stages[1]!.attempt_reports.length, 2);
  assert.equal(full.stages[1]!.gate.direction, "higher");
  assert.deepEqual(full.stages[1]!.attempt_reports[1]!.changes, { lrScale: 0.5, stepsScale: 1.5, seed: 1235 });
  assert.deepEqual(jsonSafe({ a: [1, Number.NaN, undefined], b: undefined, c: () => 1 }), { a: [1, null, null] });
});

test("report - configDigest ignores key order and changes with any value", () => {
  const a = configDigest({ x: 1, y: { b: [1, 2], a: "s" } });
  assert.match(a, /^sha256:[0-9a-f]{16}$/);
  assert.equal(configDigest({ y: { a: "s", b: [1, 2] }, x: 1 }), a);
  assert.notEqual(configDigest({ x: 1, y: { b: [2, 1], a: "s" } }), a);
});
