import { test } from "node:test";
import assert from "node:assert/strict";
import { fromTyped, hasNaN, isAligned, isEncodeError, typedView, wireTensor } from "../../protocol/mod.js";

test("tensor - wireTensor refuses bytes that do not match dtype × shape", () => {
  assert.throws(() => wireTensor("f32", [2, 3], new Uint8Array(20)), (e) => isEncodeError(e) && /needs 24 bytes but carries 20/.test(e.message));
  assert.throws(() => wireTensor("q8_0", [1, 30], new Uint8Array(34)), /blocks of 32/);
  const t = wireTensor("q8_0", [1, 32], new Uint8Array(34));
  assert.deepEqual(t.shape, [1, 32]);
});

test("tensor - wireTensor and typedView share the caller's memory when aligned", () => {
  const f = new Float32Array([1, 2, 3, 4]);
  const t = fromTyped("f32", [4], f);
  assert.equal(t.data.buffer, f.buffer);
  const v = typedView(t);
  assert.ok(v instanceof Float32Array);
  assert.equal(v.buffer, f.buffer, "no copy");
  v[0] = 9;
  assert.equal(f[0], 9);
  assert.ok(isAligned(t));
});

test("tensor - typedView copies exactly once when the bytes are unaligned", () => {
  const raw = new Uint8Array(17);
  new Float32Array(raw.buffer, 0, 4).set([1, 2, 3, 4]);
  raw.copyWithin(1, 0, 16);
  const t = wireTensor("f32", [4], raw.subarray(1));
  assert.equal(isAligned(t), false);
  const v = typedView(t);
  assert.notEqual(v.buffer, raw.buffer);
  assert.deepEqual([...v], [1, 2, 3, 4]);
});

test("tensor - hasNaN finds NaN in f32 (aligned and not), f16, bf16 and block scales", () => {
  const f = new Float32Array(1001).fill(1.5);
  assert.equal(hasNaN(fromTyped("f32", [1001], f)), false);
  f[777] = NaN;
  assert.equal(hasNaN(fromTyped("f32", [1001], f)), true);
  const raw = new Uint8Array(4 * 1001 + 1);
  raw.set(new Uint8Array(f.buffer), 1);
  assert.equal(hasNaN(wireTensor("f32", [1001], raw.subarray(1))), true);
  f[777] = Infinity;
  f[3] = -Infinity;
  assert.equal(hasNaN(fromTyped("f32", [1001], f)), false, "infinities are not NaN");

  const h = new Uint16Array([0x3c00, 0x7c00, 0xfc00]); // 1, +inf, -inf
  assert.equal(hasNaN(fromTyped("f16", [3], h)), false);
  h[1] = 0x7e00;
  assert.equal(hasNaN(fromTyped("f16", [3], h)), true);
  const b = new Uint16Array([0x3f80, 0x7f80]); // 1, +inf
  assert.equal(hasNaN(fromTyped("bf16", [2], b)), false);
  b[1] = 0x7fc0;
  assert.equal(hasNaN(fromTyped("bf16", [2], b)), true);

  const q = new Uint8Array(34 * 2);
  assert.equal(hasNaN(wireTensor("q8_0", [64], q)), false);
  q[34] = 0x00;
  q[35] = 0x7e; // second block's f16 scale = NaN
  assert.equal(hasNaN(wireTensor("q8_0", [64], q)), true);
  const tq = new Uint8Array(66);
  tq[64] = 0x01;
  tq[65] = 0x7c; // scale at offset 64 = NaN
  assert.equal(hasNaN(wireTensor("tq", [256], tq)), true);
  assert.equal(hasNaN(wireTensor("i8", [66], tq)), false, "integer tensors never hold NaN");
});
