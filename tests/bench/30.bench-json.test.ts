// What `bench train` and `bench kernels` print about their peer (issue 14, item 2): the best
// configuration with its name and OpenBLAS core, the search table, and the one-thread-each
// comparison next to the all-threads one. Speed is not asserted here (benches measure it).
// `bench kernels --json` with the real PyTorch peer is in 31.bench-kernels-peer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runLlamaTrainBench, runTrainBench } from "../../bench/kernels/mod.js";
import { peerConfigs } from "../../bench/peers/mod.js";
import { fakePeer, torchSkip } from "./helpers.js";

const skip = torchSkip();

test("bench train - the peer is its best configuration over every round, the one-thread peer its best 1 + 1", { skip }, () => {
  // the fake peer reports 5000 tokens/s at intra-op 2 + BLAS 1, 2000 at 1 + 1, 10 elsewhere
  process.env.FAKE_PEER_TABLE = JSON.stringify({ "2/1/unset": 5000, "2/1/environment": 5000, "1/1/unset": 2000, "1/1/environment": 2000 });
  const r = runTrainBench({
    config: { vocab: 32, block: 16, d: 16, heads: 2, layers: 1, batch: 2 },
    steps: 2, runs: 2, memorySteps: 20, rounds: 2, peerScript: fakePeer,
  });
  assert.equal(r.peer_search!.length, peerConfigs().length);
  assert.ok(r.peer_search!.every((t) => t.reason === null && t.gemm_check!.ok && typeof t.blas_core === "string"));
  assert.ok(r.peer_search!.every((t) => t.rounds.length === 2), "every configuration ran in both rounds");
  assert.equal(r.peer!.intra_op_threads, 2);
  assert.equal(r.peer!.blas_threads, 1);
  assert.equal(r.peer!.torch_tokens_per_s, 5000);
  assert.equal(r.peer!.torch_runs.length, 4, "2 runs in each of 2 rounds");
  assert.equal(r.ratio, Math.round((r.tokens_per_s / 5000) * 100) / 100);
  assert.equal(r.one_thread.torch!.intra_op_threads, 1);
  assert.equal(r.one_thread.torch!.blas_threads, 1);
  assert.equal(r.one_thread.torch_tokens_per_s, 2000);
  assert.equal(r.one_thread.torch_runs!.length, 4);
  assert.equal(r.one_thread.troupe_runs.length, 4);
  assert.ok(r.one_thread.troupe_tokens_per_s > 0);
  assert.equal(r.one_thread.ratio, Math.round((r.one_thread.troupe_tokens_per_s / 2000) * 100) / 100);
  assert.equal(r.runs.length, 4);
  assert.ok(Number.isFinite(r.final_loss));
});

test("bench train --arch llama - the same search: every configuration checked, the best median is the peer", { skip }, () => {
  process.env.FAKE_PEER_TABLE = JSON.stringify({ "1/2/unset": 700, "1/2/environment": 700 });
  const r = runLlamaTrainBench({
    config: { vocab: 32, hidden: 16, intermediate: 32, heads: 2, kv_heads: 1, layers: 1, seq: 8, batch: 2 },
    steps: 1, runs: 1, rounds: 1, peerScript: fakePeer,
  });
  assert.equal(r.peer_search!.length, peerConfigs().length);
  assert.ok(r.peer_search!.every((t) => t.reason === null && t.gemm_check!.ok));
  assert.equal(r.peer!.intra_op_threads, 1);
  assert.equal(r.peer!.blas_threads, 2);
  assert.equal(r.peer!.torch_tokens_per_s, 700);
  assert.equal(r.ratio, Math.round((r.tokens_per_s / 700) * 100) / 100);
});

test("bench train - without a peer the figures are troupe's alone and the reason is given", () => {
  const r = runTrainBench({ config: { vocab: 32, block: 16, d: 16, heads: 2, layers: 1, batch: 2 }, steps: 1, runs: 1, memorySteps: 14, rounds: 1, peerScript: false });
  assert.equal(r.peer, null);
  assert.equal(r.ratio, null);
  assert.equal(r.peer_reason, "disabled");
  assert.equal(r.one_thread.torch_tokens_per_s, null);
  assert.ok(r.one_thread.troupe_tokens_per_s > 0);
});
