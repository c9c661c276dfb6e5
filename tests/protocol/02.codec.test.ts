import { test } from "node:test";
import assert from "node:assert/strict";
import { Packr } from "msgpackr";
import {
  DTYPES,
  PROTOCOL_VERSION,
  byteLengthOf,
  createCodec,
  createStamper,
  isDecodeError,
  isWireTensor,
  typedView,
  wireTensor,
  type WireTensor,
} from "../../protocol/mod.js";

const codec = createCodec({ maxBytes: 1 << 20 });
const stamper = createStamper("run1", "troupe.run1.test.a");

function mulberry32(seed: number) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(dtype: (typeof DTYPES)[number]): WireTensor {
  const shape = dtype === "tq" ? [2, 256] : dtype.startsWith("q") ? [3, 64] : [3, 5];
  const n = byteLengthOf(dtype, shape) as number;
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i++) bytes[i] = (i * 37 + 11) & 0xff;
  if (dtype === "f32") new Float32Array(bytes.buffer).set(Array.from({ length: 15 }, (_, i) => i / 3));
  return wireTensor(dtype, shape, bytes);
}

test("codec - every dtype round-trips with its shape and bytes", () => {
  for (const dtype of DTYPES) {
    const t = sample(dtype);
    const env = codec.decode(codec.encode(stamper.stamp("x", { t, note: "hi" })));
    const got = (env.body as { t: WireTensor }).t;
    assert.ok(isWireTensor(got), dtype);
    assert.equal(got.dtype, dtype);
    assert.deepEqual(got.shape, t.shape);
    assert.deepEqual(got.data, t.data);
  }
});

test("codec - the envelope carries version, kind, run, sender, sequence, trace and time", () => {
  const e1 = stamper.stamp("k", 1);
  const e2 = stamper.stamp("k", 2, "trace-1");
  const d = codec.decode(codec.encode(e2));
  assert.equal(d.v, PROTOCOL_VERSION);
  assert.equal(d.kind, "k");
  assert.equal(d.run, "run1");
  assert.equal(d.from, "troupe.run1.test.a");
  assert.equal(d.seq, e1.seq + 1);
  assert.equal(d.trace, "trace-1");
  assert.equal(typeof d.ts, "number");
  assert.equal(d.body, 2);
});

test("codec - decoded tensor data is an aligned view into the message (no copy)", () => {
  for (let pre = 0; pre < 9; pre++) {
    const t = wireTensor("f32", [4], new Float32Array([1, 2, 3, 4]));
    const bytes = codec.encode(stamper.stamp("k", { pad: "x".repeat(pre), t }));
    const got = (codec.decode(bytes).body as { t: WireTensor }).t;
    assert.equal(got.data.buffer, bytes.buffer, "a view of the received bytes");
    assert.equal((got.data.byteOffset - bytes.byteOffset) % 8, 0, "8-aligned relative to the message start");
    assert.deepEqual([...typedView(got as WireTensor & { dtype: "f32" })], [1, 2, 3, 4]);
  }
});

test("codec - a wrong protocol version is a VERSION error that says how to fix it", () => {
  const bytes = new Packr({ useRecords: false }).pack({ ...stamper.stamp("k", 1), v: PROTOCOL_VERSION + 1 });
  assert.throws(() => codec.decode(bytes), (e) => isDecodeError(e) && e.code === "VERSION" && /same troupe version/.test(e.message));
});

function locateTensorHeader(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length - 4; i++) if (bytes[i] === 0x54 && bytes[i + 1] === 1 && bytes[i + 2] === 0 && bytes[i + 3] === 1) return i + 1;
  throw new Error("no tensor header");
}

test("codec - a shape that disagrees with the bytes is a SHAPE error", () => {
  const bytes = Uint8Array.from(codec.encode(stamper.stamp("k", { t: wireTensor("f32", [4], new Float32Array(4)) })));
  const h = locateTensorHeader(bytes);
  bytes[h + 4] = 5; // dims[0] = 5 → needs 20 bytes, carries 16
  assert.throws(() => codec.decode(bytes), (e) => isDecodeError(e) && e.code === "SHAPE" && /f32\[5\] needs 20 bytes but carries 16/.test(e.message));
  bytes[h + 4] = 4;
  bytes[h + 1] = 200; // unknown dtype code
  assert.throws(() => codec.decode(bytes), (e) => isDecodeError(e) && e.code === "DTYPE");
});

test("codec - oversize, empty, non-envelope and trailing bytes are refused with typed errors", () => {
  const small = createCodec({ maxBytes: 64 });
  assert.throws(() => small.decode(new Uint8Array(65)), (e) => isDecodeError(e) && e.code === "OVERSIZE" && /65 bytes exceeds the limit of 64/.test(e.message));
  assert.throws(() => codec.decode(new Uint8Array(0)), (e) => isDecodeError(e) && e.code === "MALFORMED");
  assert.throws(() => codec.decode(new Packr().pack([1, 2])), (e) => isDecodeError(e) && e.code === "MALFORMED");
  const good = codec.encode(stamper.stamp("k", 1));
  const trailing = new Uint8Array(good.length + 1);
  trailing.set(good);
  assert.throws(() => codec.decode(trailing), (e) => isDecodeError(e) && e.code === "MALFORMED");
});

test("codec - every truncation of a message is a DecodeError", () => {
  const bytes = codec.encode(stamper.stamp("k", { t: sample("f32"), q: sample("q4_0"), s: "text", n: [1, 2.5, -3] }));
  for (let cut = 0; cut < bytes.length; cut++) {
    assert.throws(() => codec.decode(bytes.subarray(0, cut)), (e) => isDecodeError(e), `cut at ${cut}`);
  }
});

test("codec - random bit flips decode or fail with a DecodeError, never anything else", () => {
  const rand = mulberry32(42);
  const base = codec.encode(stamper.stamp("k", { t: sample("f32"), b: sample("bf16"), s: "text", n: [1, 2.5, -3], o: { x: null } }));
  let rejected = 0;
  for (let i = 0; i < 3000; i++) {
    const m = Uint8Array.from(base);
    const flips = 1 + Math.floor(rand() * 4);
    for (let f = 0; f < flips; f++) m[Math.floor(rand() * m.length)]! ^= 1 << Math.floor(rand() * 8);
    try {
      codec.decode(m);
    } catch (e) {
      assert.ok(isDecodeError(e), `flip ${i}: ${(e as Error)?.name}: ${(e as Error)?.message}`);
      rejected++;
    }
  }
  assert.ok(rejected > 100, `most flips should break something (rejected ${rejected})`);
});

test("codec - encodeTransient reuses one buffer and decodes the same", () => {
  const t = sample("f32");
  const a = codec.encodeTransient(stamper.stamp("k", { t }));
  const aBuf = a.buffer;
  const aOff = a.byteOffset;
  const b = codec.encodeTransient(stamper.stamp("k", { t }));
  assert.equal(b.buffer, aBuf);
  assert.equal(b.byteOffset, aOff);
  assert.deepEqual((codec.decode(b).body as { t: WireTensor }).t.data, t.data);
});
