// The ring all-reduce on loopback links, several ranks in one process: sums, identical bits on
// every rank, compression, back-to-back collectives, a lost rank and a bad frame.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  type EndpointRegistry,
  type LinkEndpoint,
  type Ring,
  GroupError,
  connectRing,
  createRing,
  openEndpointRegistry,
} from "../../hosts/mod.js";
import { natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();

/** An in-process registry: the ring logic without NATS (one test below uses the real one). */
function memoryRegistry(): Pick<EndpointRegistry, "publish" | "lookup"> {
  const m = new Map<string, LinkEndpoint>();
  const waiters: (() => void)[] = [];
  return {
    async publish(e) {
      const v = { ...e, pid: process.pid, at: Date.now() };
      m.set(e.name, v);
      for (const w of waiters.splice(0)) w();
      return v;
    },
    async lookup(name, o = {}) {
      for (;;) {
        const v = m.get(name);
        if (v && (!o.accept || o.accept(v))) return v;
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

async function ring(world: number, o: { segmentBytes?: number; registry?: Pick<EndpointRegistry, "publish" | "lookup">; deadAfterMs?: number } = {}) {
  const registry = o.registry ?? memoryRegistry();
  const run = uniqueName("r");
  const group = uniqueName("g");
  const links = await Promise.all(Array.from({ length: world }, (_, rank) => connectRing({ run, group, generation: 1, rank, world, registry, heartbeatMs: 50, deadAfterMs: o.deadAfterMs ?? 2000 })));
  const rings = links.map((l, rank) => createRing({ rank, world, toRight: l.toRight, fromLeft: l.fromLeft, segmentBytes: o.segmentBytes ?? 4096 }));
  return { rings, links, close: () => rings.forEach((r) => r.abort("test over")) };
}

function data(world: number, n: number, seed: number): Float32Array[] {
  return Array.from({ length: world }, (_, r) => {
    const f = new Float32Array(n);
    let x = (seed * 7919 + r * 104729) >>> 0;
    for (let i = 0; i < n; i++) {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      f[i] = (x / 2 ** 32 - 0.5) * 4;
    }
    return f;
  });
}

function sum(bufs: Float32Array[]): Float64Array {
  const out = new Float64Array(bufs[0]!.length);
  for (const b of bufs) for (let i = 0; i < b.length; i++) out[i]! += b[i]!;
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function allReduce(rings: Ring[], bufs: Float32Array[], comp?: "f16" | "bf16") {
  await Promise.all(rings.map((r, i) => r.allReduce(bufs[i]!, comp)));
}

for (const world of [2, 3, 4]) {
  test(`ring - ${world} ranks sum in place and end with identical bits (sizes 0 to many segments)`, async () => {
    const { rings, close } = await ring(world);
    try {
      for (const n of [0, 1, world - 1, 1000, 4097, 50_001]) {
        const bufs = data(world, n, n);
        const want = sum(bufs);
        await allReduce(rings, bufs);
        assert.ok(maxDiff(bufs[0]!, want) < 1e-5, `n=${n}: sum within f32 rounding (${maxDiff(bufs[0]!, want)})`);
        for (let r = 1; r < world; r++) assert.deepEqual(bufs[r], bufs[0], `n=${n}: rank ${r} has rank 0's bits`);
      }
      assert.equal(rings[0]!.stats.collectives, 6);
      assert.equal(rings[0]!.stats.protocolErrors, 0);
    } finally {
      close();
    }
  });
}

test("ring - f16 and bf16 compression: every rank applies the same bits, within half precision of the sum", async () => {
  const { rings, close } = await ring(3);
  try {
    for (const comp of ["f16", "bf16"] as const) {
      const bufs = data(3, 20_000, 5);
      const want = sum(bufs);
      await allReduce(rings, bufs, comp);
      for (let r = 1; r < 3; r++) assert.deepEqual(bufs[r], bufs[0], `${comp}: rank ${r} has rank 0's bits`);
      const tol = comp === "f16" ? 0.02 : 0.15; // |sum| ≤ 6: a few half-precision steps
      const err = maxDiff(bufs[0]!, want);
      assert.ok(err < tol && err > 0, `${comp}: max error ${err} (rounded, but within ${tol})`);
    }
  } finally {
    close();
  }
});

test("ring - back-to-back collectives where ranks start at different times (frames of a later collective wait)", async () => {
  const { rings, close } = await ring(3);
  try {
    const runs = rings.map(async (r, rank) => {
      const outs: Float32Array[] = [];
      for (let c = 0; c < 8; c++) {
        if (rank === 1) await new Promise((res) => setTimeout(res, 5)); // rank 1 lags every time
        const b = data(3, 9000, c)[rank]!;
        await r.allReduce(b);
        outs.push(b);
      }
      return outs;
    });
    const [o0, o1, o2] = await Promise.all(runs);
    for (let c = 0; c < 8; c++) {
      assert.deepEqual(o1![c], o0![c]);
      assert.deepEqual(o2![c], o0![c]);
      assert.ok(maxDiff(o0![c]!, sum(data(3, 9000, c))) < 1e-5);
    }
  } finally {
    close();
  }
});

test("ring - a neighbour that finishes and closes before this rank's writes are confirmed leaves this rank's collective complete, not failed", async () => {
  const registry = memoryRegistry();
  const run = uniqueName("r");
  const group = uniqueName("g");
  const links = await Promise.all([0, 1].map((rank) => connectRing({ run, group, generation: 1, rank, world: 2, registry, heartbeatMs: 50, deadAfterMs: 2000 })));
  // rank 1's writes are confirmed late (a slow write callback): flushed() settles only when the link ends
  const slow = links[1]!.toRight;
  const late = Object.assign(Object.create(slow) as typeof slow, {
    flushed: () => slow.closed.then(() => Promise.reject(new Error("the link ended before the write callback"))),
  });
  const rings = [
    createRing({ rank: 0, world: 2, toRight: links[0]!.toRight, fromLeft: links[0]!.fromLeft, segmentBytes: 4096 }),
    createRing({ rank: 1, world: 2, toRight: late, fromLeft: links[1]!.fromLeft, segmentBytes: 4096 }),
  ];
  try {
    const bufs = data(2, 10_000, 3);
    const want = sum(bufs);
    const second = rings[1]!.allReduce(bufs[1]!);
    await rings[0]!.allReduce(bufs[0]!);
    await rings[0]!.close("rank 0 is done"); // politely, as a finished rank does
    await second; // every frame had arrived: the result stands
    assert.ok(maxDiff(bufs[1]!, want) < 1e-5);
    assert.deepEqual(bufs[1], bufs[0]);
    // the next collective on the broken ring fails
    await assert.rejects(rings[1]!.allReduce(new Float32Array(10)), GroupError);
  } finally {
    rings.forEach((r) => r.abort("test over"));
  }
});

test("ring - a rank that goes away fails the collective on every rank with GroupError naming it", async () => {
  const { rings, links, close } = await ring(4, { deadAfterMs: 500 });
  try {
    const bufs = data(4, 200_000, 1);
    const pending = rings.map((r, i) => (i === 2 ? null : r.allReduce(bufs[i]!)));
    // rank 2 vanishes without a word: its sockets are destroyed
    (links[2]!.toRight as unknown as { socket: { destroy(): void } }).socket.destroy();
    (links[2]!.fromLeft as unknown as { socket: { destroy(): void } }).socket.destroy();
    const t0 = performance.now();
    const settled = await Promise.allSettled(pending.filter((p) => p !== null));
    for (const s of settled) assert.ok(s.status === "rejected" && s.reason instanceof GroupError, `every other rank fails: ${JSON.stringify(s)}`);
    assert.ok(performance.now() - t0 < 2000, "every rank knew within the bound");
    const neighbours = [1, 3].map((i) => rings[i]!.error as GroupError);
    for (const e of neighbours) assert.deepEqual(e.lost, [2], `a neighbour names rank 2: ${e.message}`);
    assert.ok(rings[0]!.error instanceof GroupError, "rank 0, not adjacent, heard through the ring");
    await assert.rejects(rings[0]!.allReduce(new Float32Array(10)), GroupError);
  } finally {
    close();
  }
});

test("ring - a frame that breaks the protocol fails the ring and is counted", async () => {
  const { rings, links, close } = await ring(2);
  try {
    const p0 = rings[0]!.allReduce(new Float32Array(5000));
    // rank 1 sends a segment for a chunk rank 0 does not expect at that step
    await links[1]!.toRight.send("thunder.seg", { c: 0, ph: 1, s: 0, ch: 1, k: 0, dt: "f32", n: 2 }, new Uint8Array(8));
    await assert.rejects(p0, (e) => e instanceof GroupError && /expected chunk|segment/.test(e.message));
    assert.equal(rings[0]!.stats.protocolErrors, 1);
  } finally {
    close();
  }
});

test("ring - forms through the NATS endpoint registry; a later generation never dials a stale endpoint", async () => {
  const run = uniqueName("r");
  const registry = await openEndpointRegistry(env.nc, run);
  const group = uniqueName("g");
  const links = await Promise.all([0, 1].map((rank) => connectRing({ run, group, generation: 1, rank, world: 2, registry })));
  const rings = links.map((l, rank) => createRing({ rank, world: 2, toRight: l.toRight, fromLeft: l.fromLeft }));
  try {
    const bufs = data(2, 3000, 2);
    const want = sum(bufs);
    await allReduce(rings, bufs);
    assert.ok(maxDiff(bufs[1]!, want) < 1e-5);
    // generation 2 of rank 0 finds only rank 1's generation-1 entry: it waits, then says so
    await assert.rejects(
      connectRing({ run, group, generation: 2, rank: 0, world: 2, registry, timeoutMs: 400 }),
      (e) => e instanceof GroupError && /only a stale entry/.test(e.message),
    );
  } finally {
    rings.forEach((r) => r.abort("test over"));
  }
});
