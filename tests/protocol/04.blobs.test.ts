import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  type BlobStore,
  createCodec,
  createStamper,
  isDecodeError,
  isTensorRef,
  isWireTensor,
  offloadTensors,
  resolveTensorRefs,
  wireTensor,
  type WireTensor,
} from "../../protocol/mod.js";

// An in-process BlobStore: this file tests the protocol's ref handling; the Object Store
// implementation is tested against a real server in tests/hosts.
function memoryStore(): BlobStore & { map: Map<string, Uint8Array> } {
  const map = new Map<string, Uint8Array>();
  let n = 0;
  const digest = (d: Uint8Array) => "SHA-256=" + createHash("sha256").update(d).digest("base64url");
  return {
    map,
    async put(data) {
      const name = `b${n++}`;
      map.set(name, Uint8Array.from(data));
      return { store: "mem", name, digest: digest(data) };
    },
    async get(blob) {
      const d = map.get(blob.name);
      if (!d) throw new Error("missing");
      if (digest(d) !== blob.digest) throw new Error("digest mismatch");
      return d;
    },
  };
}

const codec = createCodec();
const stamper = createStamper("r", "troupe.r.a.1");
const big = wireTensor("f32", [64, 1024], new Float32Array(64 * 1024).fill(0.5)); // 256 KiB
const small = wireTensor("f32", [4], new Float32Array([1, 2, 3, 4]));

test("blobs - tensors above the threshold travel by reference and come back intact", async () => {
  const store = memoryStore();
  const body = { a: big, b: small, list: [big], meta: { k: 1 } };
  const out = (await offloadTensors(body, store, { thresholdBytes: 100_000 })) as typeof body;
  assert.notEqual(out, body, "a copy; the caller's body is untouched");
  assert.ok(isWireTensor(body.a));
  assert.ok(isTensorRef(out.a));
  assert.ok(isTensorRef(out.list[0]));
  assert.equal(out.b, small, "small tensors stay inline");
  assert.equal(out.meta, body.meta, "untouched branches are shared");
  const bytes = codec.encode(stamper.stamp("k", out));
  assert.ok(bytes.byteLength < 4096, `the message is small (${bytes.byteLength} bytes)`);
  const env = codec.decode(bytes);
  const back = (await resolveTensorRefs(env.body, store)) as { a: WireTensor; list: WireTensor[] };
  assert.ok(isWireTensor(back.a));
  assert.deepEqual(back.a.shape, [64, 1024]);
  assert.deepEqual(back.a.data, big.data);
  assert.deepEqual(back.list[0]!.data, big.data);
});

test("blobs - a message under the threshold but over the budget offloads its largest tensors", async () => {
  const store = memoryStore();
  const big2 = wireTensor("f32", [64, 1024], new Float32Array(64 * 1024));
  const out = (await offloadTensors({ a: big, b: big2, c: small }, store, { thresholdBytes: 1 << 20, budgetBytes: 300_000 })) as Record<string, unknown>;
  const refs = Object.values(out).filter(isTensorRef).length;
  assert.equal(refs, 1, "one 256 KiB tensor moved out, the rest fits the budget");
  assert.equal(out.c, small);
});

test("blobs - a body without large tensors is returned as is", async () => {
  const body = { c: small, s: "x" };
  assert.equal(await offloadTensors(body, undefined), body);
  assert.equal(await resolveTensorRefs(body, undefined), body);
});

test("blobs - a tampered or missing blob is a BLOB decode error", async () => {
  const store = memoryStore();
  const out = await offloadTensors({ a: big }, store, { thresholdBytes: 1 });
  const env = codec.decode(codec.encode(stamper.stamp("k", out)));
  store.map.get("b0")![5] ^= 1;
  await assert.rejects(resolveTensorRefs(env.body, store), (e) => isDecodeError(e) && e.code === "BLOB" && /digest mismatch/.test(e.message));
  store.map.delete("b0");
  await assert.rejects(resolveTensorRefs(env.body, store), (e) => isDecodeError(e) && e.code === "BLOB");
  await assert.rejects(resolveTensorRefs(env.body, undefined), (e) => isDecodeError(e) && /no blob store/.test(e.message));
});
