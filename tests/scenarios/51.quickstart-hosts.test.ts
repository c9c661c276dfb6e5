// scenarios/quickstart-hosts.yaml against scenarios/quickstart.yaml: the two-host demo must stay
// the quickstart's curriculum (issue 13), whatever either file gains later.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadScenario } from "../../scenarios/mod.js";
import { repoRoot } from "./paths.js";

test("scenario hosts - quickstart-hosts is the quickstart on h0/h1: the same curriculum, data and model, Thunder-Train batches per rank that add up to the quickstart's", () => {
  const hosts = loadScenario(join(repoRoot, "scenarios", "quickstart-hosts.yaml"));
  const plain = loadScenario(join(repoRoot, "scenarios", "quickstart.yaml"));
  assert.deepEqual(hosts.hosts.map((h) => h.name), ["h0", "h1"]);
  assert.equal(hosts.placement.strategy, "spread");
  assert.deepEqual([hosts.cast.transfer_encoder.on, hosts.cast.transfer_decoder.on], [["h0"], ["h1"]], "stage 5's packets cross hosts");
  const th = hosts.thunder!;
  assert.deepEqual([th.ranks, th.jobs], [2, ["base", "adapter"]]);
  assert.deepEqual(hosts.data, plain.data);
  // the jobs Thunder-Train covers: batch per rank × ranks = the quickstart's batch
  assert.equal(hosts.model.base!.pretrain!.batch * th.ranks, plain.model.base!.pretrain!.batch);
  assert.deepEqual({ ...hosts.model, base: { pretrain: { ...hosts.model.base!.pretrain!, batch: 0 } } }, { ...plain.model, base: { pretrain: { ...plain.model.base!.pretrain!, batch: 0 } } });
  assert.equal(hosts.curriculum.stages.length, plain.curriculum.stages.length);
  hosts.curriculum.stages.forEach((s, i) => {
    const p = plain.curriculum.stages[i]!;
    if (s.stage === 1) {
      assert.equal(s.batch * th.ranks, p.batch);
      assert.deepEqual({ ...s, batch: 0 }, { ...p, batch: 0 });
    } else assert.deepEqual(s, p, `stage ${s.stage}`);
  });
});
