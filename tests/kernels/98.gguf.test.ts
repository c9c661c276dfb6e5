// gguf - the GGUF v3 writer and reader (guards #12): a round trip of every metadata type and
// tensor type, the file read by Hugging Face's @huggingface/gguf with the same names, shapes
// (ggml order) and types, alignment, and corrupt files refused with what is wrong.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { gguf } from "@huggingface/gguf";
import { K } from "./helpers.js";

function sample(): { meta: [string, K.GgufKV][]; tensors: K.GgufTensor[]; values: Map<string, Float32Array> } {
  const rng = K.createRng(9);
  const values = new Map<string, Float32Array>();
  const w = K.randn([3, 64], rng).f32().slice();
  const e = K.randn([5, 32], rng).f32().slice();
  const b = K.randn([7], rng).f32().slice();
  const h = K.randn([2, 3, 4], rng).f32().slice();
  values.set("w", w).set("e", e).set("b", b).set("h", h);
  const tensors: K.GgufTensor[] = [
    { name: "blk.0.w", shape: [3, 64], type: "q8_0", data: K.quantizeBlocks(w, "q8_0") },
    { name: "blk.0.e", shape: [5, 32], type: "q4_0", data: K.quantizeBlocks(e, "q4_0") },
    { name: "b", shape: [7], type: "f32", data: new Uint8Array(b.buffer.slice(0)) },
    { name: "h16", shape: [2, 3, 4], type: "f16", data: new Uint8Array((K.toF16(K.tensor(h, [24])).data as Uint16Array).buffer.slice(0)) },
  ];
  const meta: [string, K.GgufKV][] = [
    ["general.architecture", K.kv.string("gpt2")],
    ["general.name", K.kv.string("tiny ünïcode")],
    ["x.u32", K.kv.u32(4000000000)],
    ["x.i32", K.kv.i32(-5)],
    ["x.f32", K.kv.f32(0.5)],
    ["x.bool", K.kv.bool(true)],
    ["x.u64", K.kv.u64(2n ** 40n)],
    ["x.strings", K.kv.array("string", ["a", "Ġb", ""])],
    ["x.ints", K.kv.array("i32", [1, -2, 3])],
    ["x.floats", K.kv.array("f32", [0.25, -1])],
  ];
  return { meta, tensors, values };
}

test("gguf - write then read gives back the metadata, shapes, types and values", () => {
  const { meta, tensors, values } = sample();
  const bytes = K.serializeGguf(meta, tensors);
  const f = K.parseGguf(bytes);
  assert.equal(f.version, 3);
  assert.equal(f.alignment, 32);
  assert.deepEqual([...f.metadata.keys()], meta.map(([k]) => k));
  assert.equal(f.metadata.get("general.name")!.value, "tiny ünïcode");
  assert.equal(f.metadata.get("x.u64")!.value, 2n ** 40n);
  assert.deepEqual(f.metadata.get("x.strings")!.value, ["a", "Ġb", ""]);
  assert.deepEqual(f.tensors.map((t) => [t.name, t.type, [...t.shape]]), tensors.map((t) => [t.name, t.type, [...t.shape]]));
  for (const t of f.tensors) assert.equal((t.data.byteOffset - f.tensors[0]!.data.byteOffset) % 32, 0, `${t.name} aligned`);
  assert.deepEqual(K.ggufToF32(f.tensors[2]!), values.get("b"));
  assert.deepEqual(K.ggufToF32(f.tensors[0]!), K.roundTripBlocks(values.get("w")!, "q8_0"));
  assert.deepEqual(K.ggufToF32(f.tensors[1]!), K.roundTripBlocks(values.get("e")!, "q4_0"));
  const h = K.ggufToF32(f.tensors[3]!);
  for (let i = 0; i < h.length; i++) assert.ok(Math.abs(h[i]! - values.get("h")![i]!) <= Math.abs(values.get("h")![i]!) * 2 ** -11 + 1e-7);
  // another alignment is written as general.alignment and honoured
  const f64 = K.parseGguf(K.serializeGguf(meta, tensors, 64));
  assert.equal(f64.alignment, 64);
  assert.deepEqual(K.ggufToF32(f64.tensors[2]!), values.get("b"));
});

test("gguf - @huggingface/gguf reads the file: names, ggml-order shapes, types, metadata", async () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-gguf-"));
  try {
    const { meta, tensors } = sample();
    const path = join(dir, "t.gguf");
    K.writeGguf(path, meta, tensors);
    const out = await gguf(path, { allowLocalFile: true });
    assert.equal(out.metadata.version, 3);
    assert.equal(out.metadata["general.architecture"], "gpt2");
    assert.equal(out.metadata["x.i32" as never], -5);
    assert.deepEqual(out.metadata["x.strings" as never], ["a", "Ġb", ""]);
    assert.deepEqual(out.tensorInfos.map((t) => t.name), tensors.map((t) => t.name));
    assert.deepEqual(out.tensorInfos.map((t) => t.shape.map(Number)), tensors.map((t) => [...t.shape].reverse()));
    assert.deepEqual(out.tensorInfos.map((t) => t.dtype), [8, 2, 0, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("gguf - corrupt files are FormatErrors that say what is wrong", () => {
  const { meta, tensors } = sample();
  const bytes = K.serializeGguf(meta, tensors);
  const isFormat = (re: RegExp) => (e: unknown) => K.isFormatError(e) && re.test((e as Error).message);
  assert.throws(() => K.parseGguf(bytes.subarray(0, bytes.length - 40), "t.gguf"), isFormat(/t\.gguf: .*"h16".*runs past the end.*truncated/));
  const magic = bytes.slice();
  magic[0] = 0x47 ^ 1;
  assert.throws(() => K.parseGguf(magic), isFormat(/magic is not "GGUF"/));
  const version = bytes.slice();
  version[4] = 4;
  assert.throws(() => K.parseGguf(version), isFormat(/format version 4; this troupe reads GGUF versions 2 and 3/));
  const type = K.serializeGguf([], [{ name: "q", shape: [32], type: "q8_0", data: new Uint8Array(34) }]);
  const at = type.indexOf(8, 24 + 8 + 1 + 4 + 8); // the ggml type code of "q" after its name, rank and dim
  type[at] = 12; // Q4_K
  assert.throws(() => K.parseGguf(type), isFormat(/ggml type 12; this reader supports F32, F16, Q8_0 and Q4_0/));
  assert.throws(() => K.parseGguf(bytes.subarray(0, 30)), isFormat(/truncated in metadata/));
  assert.throws(() => K.serializeGguf([], [{ name: "x", shape: [33], type: "q4_0", data: new Uint8Array(18) }]), /multiple of 32/);
  assert.throws(() => K.serializeGguf([], [{ name: "x", shape: [4], type: "f32", data: new Uint8Array(15) }]), /needs 16 bytes, got 15/);
});
