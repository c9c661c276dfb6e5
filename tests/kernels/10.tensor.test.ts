// kernels - tensors, the seeded generator and workspaces.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K } from "./helpers.js";

test("tensor - factories make contiguous tensors of the given shape and dtype", () => {
  const t = K.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  assert.deepEqual([...t.shape], [2, 3]);
  assert.equal(t.dtype, "f32");
  assert.equal(t.size, 6);
  assert.ok(t.isContiguous);
  assert.deepEqual(t.toArray(), [1, 2, 3, 4, 5, 6]);
  assert.equal(K.zeros([0, 3]).size, 0);
  assert.deepEqual(K.arange(4).toArray(), [0, 1, 2, 3]);
  assert.equal(K.arange(4).dtype, "i32");
  assert.equal(K.ones([2]).toArray().join(), "1,1");
  assert.equal(K.full([1], 7).item(), 7);
});

test("tensor - bad shapes, dtypes and values are typed errors", () => {
  assert.throws(() => K.tensor([1, 2, 3], [2, 2]), (e: unknown) => K.isShapeError(e) && (e as Error).message === "tensor: 3 values do not fill shape [2,2] (4 elements)");
  assert.throws(() => K.zeros([2, -3]), /Expected "shape" to be an array of non-negative integers, got \[2,-3\]/);
  assert.throws(() => K.zeros([2], "f64" as K.DType), (e: unknown) => K.isDTypeError(e));
  assert.throws(() => K.tensor([1, 2]).item(), /item\(\) needs a one-element tensor, got shape \[2\]/);
  assert.throws(() => K.tensor([1], [1], "i32").f32(), /expected an f32 tensor, got i32 \[1\]/);
  assert.throws(() => K.arange(-1), /Expected "n" to be a non-negative integer, got -1/);
});

test("tensor - transpose is a strided view; contiguous copies it", () => {
  const t = K.tensor([1, 2, 3, 4, 5, 6], [2, 3]);
  const v = K.transpose(t);
  assert.equal(v.isContiguous, false);
  assert.deepEqual([...v.shape], [3, 2]);
  assert.deepEqual(v.toArray(), [1, 4, 2, 5, 3, 6]);
  const c = K.contiguous(v);
  assert.ok(c.isContiguous);
  assert.deepEqual(c.toArray(), [1, 4, 2, 5, 3, 6]);
  assert.deepEqual(K.contiguous(K.narrow(t, 1, 1, 2)).toArray(), [2, 3, 5, 6]);
  assert.deepEqual(K.narrow(t, 0, 1, 1).toArray(), [4, 5, 6]);
  assert.deepEqual([...K.reshape(t, [3, -1]).shape], [3, 2]);
  assert.throws(() => K.reshape(t, [4, -1]), /cannot reshape "x" \[2,3\] \(6 elements\) to \[4,-1\]/);
});

test("rng - seeded streams repeat, and a saved state resumes the exact stream", () => {
  const a = K.createRng(42);
  const b = K.createRng(42);
  const xs = Array.from({ length: 5 }, () => a.normal());
  assert.deepEqual(Array.from({ length: 5 }, () => b.normal()), xs);
  const saved = a.state();
  const next = [a.next(), a.normal(), a.int(10)];
  const c = K.createRng(0);
  c.setState(JSON.parse(JSON.stringify(saved)) as K.RngState);
  assert.deepEqual([c.next(), c.normal(), c.int(10)], next);
  assert.notDeepEqual(K.createRng(43).next(), K.createRng(42).next());
  assert.throws(() => c.setState({ s: [1, 2, 3], spare: null } as unknown as K.RngState), /Expected a state from rng.state\(\)/);
});

test("rng - normal samples have the right moments", () => {
  const rng = K.createRng(1);
  const n = 20000;
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const v = rng.normal(1, 2);
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  const std = Math.sqrt(s2 / n - mean * mean);
  assert.ok(Math.abs(mean - 1) < 0.05, `mean ${mean}`);
  assert.ok(Math.abs(std - 2) < 0.05, `std ${std}`);
});

test("workspace - a repeated step reuses the same tensors and memory", () => {
  const rng = K.createRng(3);
  const w = K.randn([16, 8], rng);
  w.requiresGrad = true;
  const x = K.randn([4, 8], rng);
  const ws = K.workspace();
  const step = () => ws.run(() => {
    const y = K.gelu(K.linear(x, w));
    const loss = K.sum(y);
    K.backward(loss);
    return { y, value: loss.item() };
  });
  const first = step();
  const bytes = ws.bytes;
  const firstData = first.y.data;
  const second = step();
  assert.equal(second.y, first.y, "the same tensor object is recycled");
  assert.equal(second.y.data, firstData, "the same memory is recycled");
  assert.equal(ws.bytes, bytes);
  assert.equal(second.value, first.value);
  assert.ok(ws.allocations > 0);
  assert.throws(() => ws.run(() => ws.run(() => 1)), /a workspace cannot run inside itself/);
  assert.throws(() => ws.run(() => Promise.resolve(1)), /needs a synchronous function/);
});

test("workspace - backward gives each intermediate gradient back once its node has run: later allocations reuse it, a step holds far fewer buffers than it allocates, gradients equal those made outside a workspace", async () => {
  const { recycledAllocations } = await import("../../kernels/tensor/arena.js");
  const rng = K.createRng(5);
  const x = K.randn([4, 16], rng);
  const ws = K.workspace();
  const w = Array.from({ length: 8 }, () => K.randn([16, 16], rng, 0.3));
  for (const t of [x, ...w]) t.requiresGrad = true;
  const step = () => {
    for (const t of [x, ...w]) t.grad = null;
    let h = x;
    // residual adds hand their gradient to one input (donateGrad): that buffer must survive
    // the add's node and be given back only after the tanh's
    for (const wi of w) h = K.add(K.tanh(K.linear(h, wi)), h);
    const loss = K.sum(K.mul(h, h));
    K.backward(loss);
    return [x, ...w].map((t) => t.grad!.f32().slice());
  };
  const want = step();
  let bytes = 0;
  for (let run = 0; run < 3; run++) {
    const got = ws.run(step);
    got.forEach((g, i) => assert.deepEqual(g, want[i], `run ${run}: gradient ${i}`));
    if (run === 0) bytes = ws.bytes;
    else assert.equal(ws.bytes, bytes, "steady state: no new buffers");
    // at least one buffer per layer comes back (14 of 44 here: a gradient an input took over by
    // donation, as the adds and the in-place tanh do, is not given back); without recycling: 0
    assert.ok(recycledAllocations(ws) >= w.length, `recycled ${recycledAllocations(ws)} of ${ws.allocations}`);
  }
  assert.ok(bytes < ws.allocations * 4 * 16 * 4, `${bytes} bytes held for ${ws.allocations} allocations of up to ${4 * 16 * 4} bytes`);
  // outside a run nothing is recycled
  const before = recycledAllocations(ws);
  step();
  assert.equal(recycledAllocations(ws), before);
});

test("workspace - tensors made outside a run are not recycled", () => {
  const ws = K.workspace();
  const x = K.tensor([1, 2, 3]);
  const out = K.exp(x);
  ws.run(() => K.exp(x));
  ws.run(() => K.exp(x));
  assert.deepEqual(out.toArray().map((v) => +v.toFixed(4)), [2.7183, 7.3891, 20.0855]);
});
