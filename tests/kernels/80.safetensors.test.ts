// kernels - safetensors: round trips, the PyTorch-written fixtures, and malformed files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testNeeding } from "../harness/needs.js";
import { K, fixturesDir, sharedFixture, sharedMissing } from "./helpers.js";

test("safetensors - every dtype round-trips with metadata, through a file", () => {
  const rng = K.createRng(1);
  const f32 = K.randn([3, 5], rng);
  const tensors = new Map<string, K.Tensor>([
    ["a.f32", f32],
    ["b.i32", K.tensor([1, -2, 3], [3], "i32")],
    ["c.f16", K.toF16(f32)],
    ["d.bf16", K.toBF16(f32)],
    ["e.scalar", K.tensor([7], [])],
    ["f.empty", K.zeros([0, 4])],
  ]);
  const dir = mkdtempSync(join(tmpdir(), "troupe-st-"));
  try {
    const path = join(dir, "x.safetensors");
    K.writeSafetensors(path, tensors, { format: "troupe", note: "hi" });
    const bytes = readFileSync(path);
    const headerLen = Number(bytes.readBigUInt64LE(0));
    assert.equal((8 + headerLen) % 8, 0, "data starts 8-byte aligned");
    const back = K.readSafetensors(path);
    assert.deepEqual(back.metadata, { format: "troupe", note: "hi" });
    assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
    for (const [n, t] of tensors) {
      const u = back.tensors.get(n)!;
      assert.equal(u.dtype, t.dtype, n);
      assert.deepEqual([...u.shape], [...t.shape], n);
      assert.deepEqual([...u.data], [...t.data], n);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function roundTrips(path: string): void {
  const a = K.readSafetensors(path);
  assert.ok(a.metadata.config, "config metadata");
  const b = K.parseSafetensors(K.serializeSafetensors(a.tensors, a.metadata));
  assert.deepEqual(b.metadata, a.metadata);
  for (const [n, t] of a.tensors) assert.deepEqual([...b.tensors.get(n)!.data], [...t.data], n);
  assert.equal(a.tensors.get("input.idx")!.dtype, "i32");
}

test("safetensors - reads a PyTorch-written fixture; re-serialising gives the same tensors", () => {
  roundTrips(join(fixturesDir, "gpt_odd.safetensors"));
});

testNeeding("safetensors - the same for the shared PyTorch fixture", sharedMissing("gpt_reference.safetensors"), () => {
  roundTrips(sharedFixture("gpt_reference.safetensors")!);
});

test("safetensors - malformed input is a FormatError that says what is wrong", () => {
  const good = K.serializeSafetensors(new Map([["x", K.tensor([1, 2])]]));
  const fails = (bytes: Uint8Array, re: RegExp) =>
    assert.throws(() => K.parseSafetensors(bytes, "t.st"), (e: unknown) => K.isFormatError(e) && re.test((e as Error).message));
  fails(good.subarray(0, 4), /t.st: not a valid safetensors file: 4 bytes is too short/);
  fails(good.subarray(0, good.length - 4), /data_offsets \[0, 8\] that do not match its size or the 4-byte data section/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  fails(huge, /header size \d+ does not fit/);
  const json = (h: unknown) => {
    const text = new TextEncoder().encode(JSON.stringify(h));
    const out = new Uint8Array(8 + text.length + 8);
    new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
    out.set(text, 8);
    return out;
  };
  fails(json({ x: { dtype: "C64", shape: [1], data_offsets: [0, 8] } }), /unsupported dtype "C64"/);
  fails(json({ x: { dtype: "F32", shape: [-1], data_offsets: [0, 4] } }), /invalid shape/);
  fails(json({ __metadata__: { n: 3 } }), /metadata "n" is not a string/);
  const bad = good.slice();
  bad[8] = 0x7b + 1;
  fails(bad, /the header is not JSON/);
  assert.throws(() => K.readSafetensors("/nonexistent/x.safetensors"), /cannot read \/nonexistent\/x.safetensors/);
  assert.throws(() => K.serializeSafetensors(new Map([["v", K.transpose(K.zeros([2, 3]))]])), /is a strided view/);
});
