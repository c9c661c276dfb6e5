// What `bench kernels --json` prints about its peer (issue 14, item 2), with the real PyTorch
// peer: every configuration checked, the best and the one-thread-each one named. Its own file
// (it was the last test of 30.bench-json): the real peer's search is the longest part of the
// bench tests, and a file has the runner's 300 s; here the two halves also run side by side.
// Speed is not asserted here (benches measure it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { peerConfigs } from "../../bench/peers/mod.js";
import { torchSkip } from "./helpers.js";

const skip = torchSkip();
const main = fileURLToPath(new URL("../../cli/main.js", import.meta.url));

test("bench kernels --json - the real PyTorch peer: every configuration checked, the best and the 1 + 1 named", { skip }, () => {
  const out = spawnSync(process.execPath, [main, "bench", "kernels", "--json", "--seconds", "0.01", "--rounds", "1"], { encoding: "utf8", timeout: 300_000 });
  assert.equal(out.status, 0, out.stderr);
  const r = JSON.parse(out.stdout);
  assert.equal(r.peer_reason, null);
  assert.equal(r.peer_search.length, peerConfigs().length);
  for (const t of r.peer_search) {
    assert.equal(t.reason, null, t.config);
    assert.equal(t.gemm_check.ok, true);
    assert.match(t.blas_config, /OpenBLAS/);
  }
  const best = Math.max(...r.peer_search.map((t: { geomean_gflops: number }) => t.geomean_gflops));
  assert.equal(r.peer.geomean_gflops, best);
  assert.equal(r.peer_one_thread.intra_op_threads, 1);
  assert.equal(r.peer_one_thread.blas_threads, 1);
  assert.equal(typeof r.peer.blas_core, "string");
  for (const g of [...r.gemm.square, ...r.gemm.gpt]) {
    for (const k of ["gflops", "torch_gflops", "gflops_1t", "torch_gflops_1t", "torch_max_gflops"]) assert.ok(g[k] > 0, `${g.name} ${k} = ${g[k]}`);
    assert.ok(g.torch_max_gflops >= g.torch_gflops);
  }
  for (const k of ["ratio_vs_torch", "ratio_vs_torch_1t"]) assert.ok(r.summary[k] > 0, k);
});
