// troupe run with Thunder-Train (scenarios/thunder.yaml): two trainer ranks, each its own
// process, pretrain the base and train stage 1's adapter data-parallel over links; the
// curriculum passes as on one trainer. guards #13
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openJobStates } from "../../actors/cast/mod.js";
import { finished } from "../../hosts/mod.js";
import { startNats, uniqueName } from "../harness/mod.js";

const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));
const root = fileURLToPath(new URL("../../../", import.meta.url));

test("run - thunder.yaml: the base and stage 1 train data-parallel on 2 trainer ranks and the stages pass", async () => {
  await using nats = await startNats();
  const out = mkdtempSync(join(tmpdir(), "troupe-thunder-run-"));
  try {
    const id = uniqueName("thunder");
    const r = await finished(spawn(process.execPath, [main, "run", join(root, "scenarios", "thunder.yaml"), "--json", "--nats", nats.url, "--run-id", id, "--out-dir", out], { stdio: ["ignore", "pipe", "pipe"] }));
    assert.equal(r.code, 0, r.stderr.slice(-3000));
    const s = r.json as { outcome: string; stages: { stage: number; passed: boolean }[] };
    assert.equal(s.outcome, "done");
    assert.deepEqual(s.stages.map((x) => [x.stage, x.passed]), [[0, true], [1, true]]);
    const nc = await nats.connect();
    const jobs = await openJobStates(nc, id);
    const adapter = (await jobs.get("s1-a1"))?.value;
    assert.equal(adapter?.state, "done");
    const dp = adapter?.result?.dataParallel;
    assert.deepEqual(dp && { world: dp.world, outcome: dp.outcome, lost: dp.lost, generations: dp.generations }, { world: 2, outcome: "done", lost: [], generations: 1 }, "stage 1 trained on both ranks");
    assert.equal(dp?.address, "127.0.0.1", "no hosts: the ranks' links listen on loopback");
    assert.ok((dp?.sync?.steps ?? 0) > 0 && (dp?.sync?.buckets ?? 0) >= dp!.sync!.steps, `every step reduced its buckets: ${JSON.stringify(dp?.sync)}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
