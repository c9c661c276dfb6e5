// The director's lifecycle on the real cast (every role its own process, a real nats-server):
// a SIGTERM mid-stage restarts it and the run still finishes; a director that stops for good
// without a summary, with nobody else running the run, ends the run with a report at once
// (guards #16 item 5: a SIGTERM was taken as the end of the run, and the owner waited for the
// run timeout — forever without one).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CastRun, startCastRun } from "../../actors/cast/mod.js";
import type { PersistedDirectorSnapshot } from "../../actors/director/mod.js";
import { phaseOf } from "../../actors/director/mod.js";
import { writeRunReport } from "../../report/mod.js";
import { type Supervisor, startSupervisor } from "../../actors/runtime/mod.js";
import { type RunPlan, loadScenario } from "../../scenarios/mod.js";
import { check, natsForFile } from "../harness/mod.js";
import { repoRoot } from "../scenarios/paths.js";

const env = natsForFile({ shareBases: true });
const out = mkdtempSync(join(tmpdir(), "troupe-lifecycle-"));
process.on("exit", () => rmSync(out, { recursive: true, force: true }));

function tinyPlan(): RunPlan {
  const p = loadScenario(join(repoRoot, "scenarios", "tiny.yaml"));
  return { ...p, run: { ...p.run, outDir: out } };
}

/** Calls `act` once, at the first stored snapshot of stage 1 training past step 30. */
function inStage1Training(act: (run: CastRun) => void) {
  let done = false;
  return (s: PersistedDirectorSnapshot, _rev: number, run: CastRun) => {
    const p = phaseOf(s.value);
    if (done || p?.stage !== 1 || p.phase !== "training" || (s.context.progress?.step ?? 0) < 30) return;
    done = true;
    act(run);
  };
}

test("director lifecycle - SIGTERM to the director mid-stage: restarted within 10 s, resumed, the run done (#16 item 5)", async () => {
  let give: string | null = null;
  const sigterm = { at: 0, pid: 0 };
  const run = await startCastRun({
    plan: tinyPlan(),
    natsUrl: env.nats.url,
    stop: () => give,
    onSnapshot: inStage1Training((r) => {
      sigterm.pid = r.supervisor.pidOf("director", "0")!;
      sigterm.at = Date.now();
      process.kill(sigterm.pid, "SIGTERM");
    }),
  });
  try {
    await check(() => sigterm.at > 0, { timeoutMs: 240_000, intervalMs: 100, what: "stage 1 training" });
    const pid = await check(() => {
      const now = run.supervisor.pidOf("director", "0");
      return now !== undefined && now !== sigterm.pid && now;
    }, { timeoutMs: 10_000, intervalMs: 50, what: "a new director process within 10 s of the SIGTERM" });
    assert.notEqual(pid, sigterm.pid);
  } catch (err) {
    give = "the test failed";
    await run.done;
    throw err;
  }
  const result = await run.done;
  assert.equal(result.summary?.outcome, "done", result.failure ?? "");
  assert.ok(result.summary!.resumes >= 1, "the restarted director resumed the run from its snapshot");
  assert.equal(result.cast.find((c) => c.role === "director")!.restarts, 1);
});

test("director lifecycle - a director gone for good without a summary, nobody else renewing the lease: the run ends with a report, not a silent wait (#16 item 5)", async () => {
  let rival: Supervisor | null = null;
  let give: string | null = null;
  const run = await startCastRun({
    plan: tinyPlan(),
    natsUrl: env.nats.url,
    leaseStaleMs: 2000,
    writeReport: writeRunReport,
    stop: () => give,
    // a second director takes the run over; ours is displaced and stops for good (exit 0)
    onSnapshot: inStage1Training((r) => {
      rival = startSupervisor({ run: r.runId, natsUrl: env.nats.url, host: "rival", children: [{ role: "director", id: "1", restart: "transient" }] });
    }),
  });
  let left = 0;
  try {
    await check(() => run.supervisor.children().find((c) => c.role === "director")?.state === "stopped", { timeoutMs: 240_000, intervalMs: 100, what: "our director displaced" });
    // then the director that took over goes away without finishing the run
    await (rival as Supervisor | null)!.stop();
    left = Date.now();
  } catch (err) {
    give = "the test failed";
    await (rival as Supervisor | null)?.stop();
    await run.done;
    throw err;
  }
  const result = await run.done;
  assert.equal(result.summary, null);
  assert.match(result.failure ?? "", /the director stopped \(exit code 0\) without finishing the run; .*director\.1, which took the run over, stopped renewing its lease/);
  assert.ok(result.report?.json, "a report was written");
  assert.ok(Date.now() - left < 2000 + 10_000, `the run ended ${Date.now() - left} ms after the last director left`);
  assert.equal(result.ok, false);
});
