// The configurations a PyTorch peer is tried in (issue 14, item 2): intra-op threads × BLAS
// threads × the environment's OpenBLAS kernel pins kept or both unset. No Python needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BlasKernels, blasKernelPins, configLabel, isOneThread, peerConfigs, peerEnv, threadCounts } from "../../bench/peers/mod.js";

const pinned = { PATH: "/usr/bin", OPENBLAS_CORETYPE: "Haswell", OPENBLAS_L2_SIZE: "1048576" };

test("peer configs - thread counts are 1, powers of two and the core count", () => {
  assert.deepEqual(threadCounts(1), [1]);
  assert.deepEqual(threadCounts(2), [1, 2]);
  assert.deepEqual(threadCounts(6), [1, 2, 4, 6]);
  assert.deepEqual(threadCounts(8), [1, 2, 4, 8]);
});

test("peer configs - without kernel pins in the environment there is one kernel choice: unset", () => {
  const configs = peerConfigs({ PATH: "/usr/bin" }, 2);
  assert.equal(configs.length, 4);
  assert.ok(configs.every((c) => c.blasKernels === BlasKernels.unset));
  assert.deepEqual(configs.map((c) => `${c.intraOpThreads}+${c.blasThreads}`), ["1+1", "1+2", "2+1", "2+2"]);
});

test("peer configs - kernel pins in the environment double the grid: kept, and both unset", () => {
  const configs = peerConfigs(pinned, 2);
  assert.equal(configs.length, 8);
  assert.equal(configs.filter((c) => c.blasKernels === BlasKernels.environment).length, 4);
  assert.equal(configs.filter((c) => c.blasKernels === BlasKernels.unset).length, 4);
  assert.equal(configs.filter(isOneThread).length, 2);
  // either variable alone is a pin too: they are kept or dropped together
  assert.deepEqual(blasKernelPins({ OPENBLAS_L2_SIZE: "2097152" }), { OPENBLAS_L2_SIZE: "2097152" });
  assert.equal(peerConfigs({ OPENBLAS_L2_SIZE: "2097152" }, 2).length, 8);
});

test("peer configs - the child environment sets the threads and keeps or drops both pins", () => {
  const kept = peerEnv({ intraOpThreads: 2, blasThreads: 1, blasKernels: BlasKernels.environment }, { ...pinned, OPENBLAS_NUM_THREADS: "7" });
  assert.equal(kept.TORCH_THREADS, "2");
  assert.equal(kept.OPENBLAS_NUM_THREADS, "1");
  assert.equal(kept.OPENBLAS_CORETYPE, "Haswell");
  assert.equal(kept.OPENBLAS_L2_SIZE, "1048576");
  assert.equal(kept.PATH, "/usr/bin");
  const unset = peerEnv({ intraOpThreads: 1, blasThreads: 2, blasKernels: BlasKernels.unset }, pinned);
  assert.equal(unset.TORCH_THREADS, "1");
  assert.equal(unset.OPENBLAS_NUM_THREADS, "2");
  assert.ok(!("OPENBLAS_CORETYPE" in unset) && !("OPENBLAS_L2_SIZE" in unset));
  assert.equal(pinned.OPENBLAS_CORETYPE, "Haswell", "the base environment is not changed");
  assert.match(configLabel({ intraOpThreads: 2, blasThreads: 1, blasKernels: BlasKernels.environment }, pinned), /intra-op 2 \+ BLAS 1, environment's OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=1048576/);
});
