// `troupe pool conformance --target HOST:PORT --json` against the troupe worker (passes) and
// against three deliberately broken workers (each fails, on the checks that concern its bug,
// with a message saying what was wrong). Acceptance of issue 11.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type PoolWorker, type PoolWorkerOptions, spawnPoolWorker, startPoolWorker } from "../../hosts/pools/mod.js";
import { allInvalid, ignoresDrain, leftPadding, testCheckpoint } from "./fixtures/pool.js";

const CLI = join(fileURLToPath(new URL("../../", import.meta.url)), "cli", "main.js");
const BUCKETS = [{ batch: 1, seqLen: 16 }, { batch: 4, seqLen: 16 }, { batch: 4, seqLen: 32 }, { batch: 2, seqLen: 64 }];

interface Report {
  target: string;
  passed: boolean;
  failed: number;
  checks: { name: string; ok: boolean; detail: string }[];
}

/** Runs the CLI in a child process (asynchronously: the worker under test may live in this one). */
async function conformance(target: string, ...extra: string[]): Promise<{ code: number | null; report: Report; lines: string[] }> {
  const args = [CLI, "pool", "conformance", "--target", target, "--json", ...extra];
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, args, { encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }));
  });
  assert.ok(r.stdout.trim(), `no JSON on stdout; stderr: ${r.stderr}`);
  return { code: r.code, report: JSON.parse(r.stdout) as Report, lines: r.stderr.split("\n").filter((l) => /^(ok  |FAIL) /.test(l)) };
}

const failedNames = (r: Report) => r.checks.filter((c) => !c.ok).map((c) => c.name).sort();

async function withWorker(path: string, wrap: PoolWorkerOptions["wrapService"], fn: (w: PoolWorker) => Promise<void>): Promise<void> {
  const w = await startPoolWorker({ buckets: BUCKETS, cores: 2, model: { path }, ...(wrap ? { wrapService: wrap } : {}) });
  try {
    await w.ready();
    await fn(w);
  } finally {
    await w.close();
  }
}

test("pool conformance - the troupe worker process passes every check, one line per check, then drains and exits", async () => {
  using ck = await testCheckpoint();
  const w = await spawnPoolWorker({ buckets: BUCKETS, cores: 2, model: { path: ck.path } });
  try {
    await w.ready;
    const { code, report, lines } = await conformance(w.address);
    assert.equal(code, 0, JSON.stringify(report.checks.filter((c) => !c.ok)));
    assert.equal(report.passed, true);
    assert.equal(report.failed, 0);
    assert.equal(lines.length, report.checks.length, "one line per check");
    for (const name of ["padding.masked", "buckets.smallest-fit", "streaming", "overload", "cores.one-request-each", "drain", "errors.sequence-too-long", "errors.model-not-found", "errors.wrong-dtype"]) {
      assert.ok(report.checks.some((c) => c.name === name && c.ok), `${name} ran and passed`);
    }
    // the drain check ended the process, as a spot notice does
    const exit = await w.exited;
    assert.equal(exit.code, 0);
  } finally {
    w.kill("SIGKILL");
  }
});

test("pool conformance - a worker that pads on the left fails the padding check, saying which row differs by how much", async () => {
  using ck = await testCheckpoint();
  await withWorker(ck.path, leftPadding, async (w) => {
    const { code, report } = await conformance(w.address, "--no-drain");
    assert.equal(code, 1);
    assert.equal(report.passed, false);
    const pad = report.checks.find((c) => c.name === "padding.masked")!;
    assert.equal(pad.ok, false);
    assert.match(pad.detail, /row \d+ \(length \d+, reference row \d+\): logits differ from the unpadded reference by \S+ > 0\.0001/);
    // it also drops the lengths, so a zero length goes unnoticed
    assert.deepEqual(failedNames(report), ["buckets.smallest-fit", "errors.bad-lengths", "outputs", "padding.masked"]);
  });
});

test("pool conformance - a worker that answers every refusal with INVALID_ARGUMENT fails exactly the checks whose code differs", async () => {
  using ck = await testCheckpoint();
  await withWorker(ck.path, allInvalid, async (w) => {
    const { code, report } = await conformance(w.address, "--no-drain");
    assert.equal(code, 1);
    assert.deepEqual(failedNames(report), ["errors.model-not-found", "errors.sequence-too-long", "errors.too-many-rows", "overload"]);
    const long = report.checks.find((c) => c.name === "errors.sequence-too-long")!;
    assert.match(long.detail, /expected OUT_OF_RANGE SEQUENCE_TOO_LONG, got INVALID_ARGUMENT SEQUENCE_TOO_LONG/);
    // the checks whose right answer is INVALID_ARGUMENT still pass: the report is per check
    assert.ok(report.checks.find((c) => c.name === "errors.bad-lengths")!.ok);
  });
});

test("pool conformance - a worker that ignores the drain notice fails the drain check and nothing else", async () => {
  using ck = await testCheckpoint();
  await withWorker(ck.path, ignoresDrain, async (w) => {
    const { code, report } = await conformance(w.address);
    assert.equal(code, 1);
    assert.deepEqual(failedNames(report), ["drain"]);
    assert.match(report.checks.find((c) => c.name === "drain")!.detail, /a request sent after Drain got OK, expected UNAVAILABLE DRAINING/);
    assert.equal(w.state(), "SERVING");
  });
});

test("pool conformance - nothing listening: every check is reported failed, none left out", async () => {
  const w = await startPoolWorker({ buckets: BUCKETS, cores: 1 });
  const address = w.address;
  await w.close();
  const { code, report } = await conformance(address, "--ready-timeout-ms", "0");
  assert.equal(code, 1);
  assert.equal(report.checks[0]!.name, "connect");
  assert.ok(report.checks.length > 15);
  assert.ok(report.checks.every((c) => !c.ok));
  assert.match(report.checks[1]!.detail, /^skipped: no worker to check/);
});
