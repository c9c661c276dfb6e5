// The main job: troupe run scenarios/quickstart.yaml, as `npm run demo` runs it (about a
// minute of training on 2 cores, so only with TROUPE_SLOW=1; the tiny scenario covers the
// same path in every npm test).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));
const slow = process.env.TROUPE_SLOW === "1";

test("quickstart - stages 0 and 1 pass on the real cast and the report says so", { skip: !slow && "slow: set TROUPE_SLOW=1" }, () => {
  const out = mkdtempSync(join(tmpdir(), "troupe-qs-"));
  try {
    const r = spawnSync(process.execPath, [main, "run", "scenarios/quickstart.yaml", "--json", "--out-dir", out], { cwd: root, encoding: "utf8", timeout: 900_000 });
    assert.equal(r.status, 0, r.stderr.slice(-3000));
    const s = JSON.parse(r.stdout);
    assert.equal(s.outcome, "done");
    assert.deepEqual(s.stages.filter((x: { stage: number }) => x.stage <= 1).map((x: { passed: boolean }) => x.passed), [true, true]);
    // guards #14: both gates measure against the trivial answer, with intervals
    const [s0, s1] = [0, 1].map((n) => s.stages.find((x: { stage: number }) => x.stage === n));
    assert.ok(s0.evidence.gain_ci[0] > 0 && s0.metric >= 0.3, `the base beats the trivial answer on its domains: ${JSON.stringify(s0.evidence)}`);
    assert.ok(s0.checks.every((c: { ok: boolean }) => c.ok));
    assert.deepEqual(s1.evidence.references.map((r: { name: string }) => r.name), ["base", "constant", "train_majority"]);
    assert.ok(s1.evidence.gain_ci[0] > 0, `the adapter's gain is above 0 at 95 %: ${JSON.stringify(s1.evidence.gain_ci)}`);
    const report = JSON.parse(readFileSync(s.report.json, "utf8"));
    const d = report.stages.find((x: { stage: number }) => x.stage === 1).attempt_reports.at(-1).details;
    assert.ok(d.base.byDomain.reversal.exactMatch <= 0.1, "the base never saw reversal (a palindrome copied may pass)");
    assert.ok(d.adapted.exactMatch < 1, "the held-out cut is harder than the training: not at the ceiling");
    assert.deepEqual(Object.keys(d.adapted.byLength), ["6", "7", "8"], "held-out strings of 6-8 letters");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
