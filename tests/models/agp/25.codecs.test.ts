// models - hidden-state codecs and packets: blockwise int8/int4 in the GGML q8_0/q4_0 layouts,
// the f16 conversion against the kernels', every packet check failing on the input it guards
// (and counted by the receiver), raw-f32 bit-exact through a resume, the learned codec bound
// to its adapter, and the fidelity measure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { K, M, TINY, batch, bitwiseEqual, tinyGpt } from "../helpers.js";
import * as P from "../../../protocol/mod.js";

const rng = K.createRng(21);
const state = (n: number, std = 2) => Float32Array.from({ length: n }, () => rng.normal(0, std));

test("quant - int8 (q8_0) and int4 (q4_0): layout sizes, error bounds, padding of a partial block", () => {
  const R = 3;
  const C = 64;
  const x = state(R * C);
  const q8 = M.quantizeInt8(x, R, C);
  const q4 = M.quantizeInt4(x, R, C);
  assert.equal(q8.byteLength, P.byteLengthOf("q8_0", [R, C]));
  assert.equal(q4.byteLength, P.byteLengthOf("q4_0", [R, C]));
  const y8 = M.dequantizeInt8(q8, R, C);
  const y4 = M.dequantizeInt4(q4, R, C);
  for (let r = 0; r < R; r++) {
    for (let b = 0; b < 2; b++) {
      const block = x.subarray(r * C + 32 * b, r * C + 32 * b + 32);
      const amax = Math.max(...block.map(Math.abs));
      for (let i = 0; i < 32; i++) {
        const at = r * C + 32 * b + i;
        assert.ok(Math.abs(y8[at]! - x[at]!) <= (amax / 127) * 0.5 + amax * 1e-3, `int8 error at ${at}`);
        assert.ok(Math.abs(y4[at]! - x[at]!) <= (amax / 8) * 1.001, `int4 error at ${at}`);
      }
    }
  }
  // 0..31 in one block: d = 31/127, q = round(i·127/31)
  const ramp = Float32Array.from({ length: 32 }, (_, i) => i);
  const q = M.quantizeInt8(ramp, 1, 32);
  assert.equal(M.fromHalfBits(q[0]! | (q[1]! << 8)), M.fromHalfBits(M.toHalfBits(31 / 127)));
  assert.deepEqual([...q.subarray(2, 6)], [0, 4, 8, 12]);
  // 40 channels: two blocks a row, the second padded
  const odd = state(2 * 40);
  assert.equal(M.quantizeInt8(odd, 2, 40).byteLength, 2 * 2 * 34);
  assert.ok(M.dequantizeInt8(M.quantizeInt8(odd, 2, 40), 2, 40).every((v, i) => Math.abs(v - odd[i]!) < 0.1));
});

test("quant - toHalfBits rounds exactly as the kernels' f16 conversion (normal, subnormal, overflow)", () => {
  const xs = Float32Array.from([0, -0, 1, -2.5, 65504, 65520, 1e6, 6e-8, 3e-5, 1 / 3, ...state(500, 100), ...state(200, 1e-5)]);
  const native = new Uint16Array(K.toF16(K.tensor(xs)).data as Uint16Array);
  xs.forEach((x, i) => assert.equal(M.toHalfBits(x), native[i], `f16 bits of ${x}`));
});

function shape(B: number, T: number, C: number, layer = 1): M.StateShape {
  return { B, T, C, layer };
}

test("packets - every codec round-trips; raw-f32 bit for bit; sizes per token as documented", () => {
  const [B, T, C] = [2, 5, 64];
  const x = state(B * T * C);
  const want = { "raw-f32": 256, f16: 128, bf16: 128, int8: 68, int4: 36 } as const;
  for (const name of ["raw-f32", "f16", "bf16", "int8", "int4"] as const) {
    const codec = M.createCodec(name);
    const packet = codec.encode(x, shape(B, T, C, 2));
    assert.equal(codec.bytesPerToken(C), want[name]);
    assert.equal(packet.byteLength, M.PACKET_HEADER_BYTES + want[name] * B * T);
    const d = M.decodePacket(packet);
    assert.deepEqual({ ...d.header, adapterId: null }, { version: 1, codec: name, layer: 2, B, T, C, param: name === "int8" || name === "int4" ? 32 : 0, payloadBytes: want[name] * B * T, adapterId: null });
    const tol = { "raw-f32": 0, f16: 4e-3, bf16: 3e-2, int8: 0.05, int4: 0.9 }[name];
    assert.ok(d.state.every((v, i) => Math.abs(v - x[i]!) <= tol * Math.max(1, Math.abs(x[i]!))), name);
  }
  assert.ok(bitwiseEqual(M.decodePacket(M.createCodec("raw-f32").encode(x, shape(B, T, C))).state, x));
  assert.equal(M.resolveCodecName("q8_0"), "int8");
  assert.throws(() => M.createCodec("zip"), (e) => M.isModelConfigError(e) && /unknown codec "zip"/.test(e.message));
  assert.throws(() => M.createCodec("int8").encode(Float32Array.of(1, NaN), shape(1, 1, 2)), (e) => M.isPacketError(e) && e.reason === "nonfinite");
});

test("packets - each bad packet is refused with its reason, counted, and never thrown by the receiver", () => {
  const x = state(2 * 3 * 32);
  const good = M.createCodec("f16").encode(x, shape(2, 3, 32));
  const cases: [string, Uint8Array][] = [];
  const mut = (f: (b: Uint8Array, v: DataView) => void) => {
    const b = good.slice();
    f(b, new DataView(b.buffer));
    return b;
  };
  cases.push(["magic", mut((b) => (b[0] = 0x58))]);
  cases.push(["version", mut((_b, v) => v.setUint16(4, 2, true))]);
  cases.push(["codec", mut((b) => (b[6] = 99))]);
  cases.push(["length", good.subarray(0, good.byteLength - 1)]);
  cases.push(["length", good.subarray(0, 10)]);
  cases.push(["shape", mut((_b, v) => v.setUint32(12, 0, true))]);
  cases.push(["checksum", mut((b) => (b[M.PACKET_HEADER_BYTES + 5]! ^= 0x10))]);
  const nanState = Float32Array.from(x);
  const rawGood = M.createCodec("raw-f32").encode(nanState, shape(2, 3, 32));
  const payload = rawGood.slice(M.PACKET_HEADER_BYTES);
  new DataView(payload.buffer).setFloat32(8, NaN, true);
  cases.push(["nonfinite", M.writePacket({ codec: "raw-f32", layer: 1, B: 2, T: 3, C: 32, param: 0, adapterId: null }, payload)]);
  const halfPayload = good.slice(M.PACKET_HEADER_BYTES);
  halfPayload[1] = 0x7c; // +Inf in the first f16
  halfPayload[0] = 0;
  cases.push(["nonfinite", M.writePacket({ codec: "f16", layer: 1, B: 2, T: 3, C: 32, param: 0, adapterId: null }, halfPayload)]);
  cases.push(["length", M.writePacket({ codec: "int8", layer: 1, B: 2, T: 3, C: 32, param: 32, adapterId: null }, new Uint8Array(10))]);
  const counters = M.createPacketCounters();
  for (const [reason, bytes] of cases) {
    const r = M.receivePacket(bytes, counters);
    assert.equal(r.ok, false, reason);
    if (!r.ok) assert.equal(r.error.reason, reason, `${reason}: ${r.error.message}`);
  }
  assert.ok(M.receivePacket(good, counters).ok);
  assert.equal(counters.received, cases.length + 1);
  assert.equal(counters.decoded, 1);
  assert.equal(counters.rejected, cases.length);
  assert.equal(Object.values(counters.rejectedByReason).reduce((a, b) => a + b, 0), cases.length);
  assert.equal(counters.rejectedByReason.length, 3);
  assert.equal(M.receivePacket(undefined as never, counters).ok, false, "not even bytes");
});

test("packets - the learned codec: its latent on the wire, decodable only with the same adapter", () => {
  const C = 32;
  const adapter = M.createHead({ kind: "transfer", layer: 1, channels: C, context: 0, latent: 12, bits: 8, hidden: 16 }, 1) as unknown as M.TransferAdapter;
  const other = M.createHead({ kind: "transfer", layer: 1, channels: C, context: 0, latent: 12, bits: 8, hidden: 16 }, 2) as unknown as M.TransferAdapter;
  const x = state(4 * C);
  const codec = M.createCodec("learned", { adapter });
  const packet = codec.encode(x, shape(1, 4, C));
  assert.equal(packet.byteLength - M.PACKET_HEADER_BYTES, 4 * (12 + 4));
  const d = M.decodePacket(packet, { adapters: [other, adapter] });
  const direct = K.noGrad(() => {
    const { z, rms } = adapter.encode(K.tensor(x, [4, C]), null);
    return adapter.decode(z, rms).f32();
  });
  const scale = Math.max(...direct.map(Math.abs));
  assert.ok(d.state.every((v, i) => Math.abs(v - direct[i]!) < 0.02 * scale), "the wire's int8 latent decodes close to the float one");
  assert.throws(() => M.decodePacket(packet, { adapters: [other] }), (e) => M.isPacketError(e) && e.reason === "adapter");
  assert.throws(() => codec.encode(x, shape(1, 4, C, 2)), (e) => M.isModelConfigError(e) && /trained at index 1/.test(e.message));
  assert.throws(() => M.createCodec("learned"), (e) => M.isModelConfigError(e) && /needs a trained transfer adapter/.test(e.message));
});

test("fidelity - raw-f32 resumes with KL 0 and top-1 1; quantized codecs cost KL in order of their bits", () => {
  const model = tinyGpt(8, { nLayer: 3, nEmbd: 32, nHead: 2 });
  const { idx } = batch(2, 8, TINY.vocabSize, 10);
  const mask = new Float32Array(16).fill(1);
  const rows = M.measureFidelity(model, [{ idx, mask }], { layers: [1, 2], codecs: ["raw-f32", "f16", "int8", "int4"] });
  const at = (codec: string, layer: number) => rows.find((r) => r.codec === codec && r.layer === layer)!;
  for (const l of [1, 2]) {
    assert.equal(at("raw-f32", l).kl_mean, 0);
    assert.equal(at("raw-f32", l).top1, 1);
    assert.ok(at("f16", l).kl_mean < at("int8", l).kl_mean && at("int8", l).kl_mean < at("int4", l).kl_mean, `layer ${l}: ${JSON.stringify(rows)}`);
    assert.equal(at("int4", l).payload_bytes_per_token, 18);
    assert.equal(at("int4", l).tokens, 16);
  }
  assert.throws(() => M.measureFidelity(model, [{ idx, mask }], { layers: [1], codecs: ["learned"] }), (e) => M.isModelConfigError(e) && /learned codec at index 1/.test(e.message));
});
