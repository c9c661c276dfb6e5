import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import { createHash } from "node:crypto";
import { NATIVE_SHA256_CHECKED, installNativeSha256, isObjectIntegrityError, nativeSha256Fits, objClientVersion, objectBlobStore, openObjects } from "../../hosts/mod.js";
import { createCodec, createStamper, isWireTensor, offloadTensors, resolveTensorRefs, wireTensor, type WireTensor } from "../../protocol/mod.js";
import { natsForFile, uniqueName } from "../harness/mod.js";

const env = natsForFile();

test("objects - a multi-chunk object round-trips with its SHA-256, hashed natively", async () => {
  assert.equal(installNativeSha256(), true);
  const o = await openObjects(env.nc, { run: uniqueName("r"), bucket: "ckpt" });
  const data = randomBytes(3 * 1024 * 1024 + 17);
  const s = await o.put("step-1", data);
  assert.equal(s.size, data.length);
  assert.match(s.digest, /^SHA-256=/);
  assert.equal(Buffer.from(s.digest.slice(8), "base64url").toString("hex"), createHash("sha256").update(data).digest("hex"), "the digest the client recorded is SHA-256 of the bytes");
  assert.deepEqual(Buffer.from(await o.get("step-1")), data);
  assert.deepEqual((await o.list()).map((x) => x.name), ["step-1"]);
});

test("objects - corrupted stored bytes are an integrity error, not data", async () => {
  const o = await openObjects(env.nc, { run: uniqueName("r"), bucket: "ckpt" });
  await o.put("small", new TextEncoder().encode("the original bytes"));
  const nuid = (await o.store.info("small"))!.nuid;
  const jsm = await jetstreamManager(env.nc);
  const stream = `OBJ_${o.bucket}`;
  const chunkSubject = `$O.${o.bucket}.C.${nuid}`;
  const chunk = await jsm.streams.getMessage(stream, { last_by_subj: chunkSubject });
  await jsm.streams.deleteMessage(stream, chunk!.seq);
  await jsm.jetstream().publish(chunkSubject, new TextEncoder().encode("the tampered bytes"));
  await assert.rejects(o.get("small"), (e) => isObjectIntegrityError(e) && /corrupt/.test(e.message));
  await assert.rejects(o.get("small", { digest: "SHA-256=AAAA" }), (e) => isObjectIntegrityError(e) && /expected SHA-256=AAAA/.test(e.message));
});

test("objects - a large tensor travels by Object Store reference, transparently", async () => {
  const o = await openObjects(env.nc, { run: uniqueName("r"), bucket: "blobs" });
  const blobs = objectBlobStore(o);
  const x = wireTensor("f32", [512, 1024], Float32Array.from({ length: 512 * 1024 }, (_, i) => i % 97));
  const codec = createCodec();
  const body = await offloadTensors({ x }, blobs, { thresholdBytes: 1024 * 1024 });
  const bytes = codec.encode(createStamper("r", "troupe.r.a.1").stamp("k", body));
  assert.ok(bytes.byteLength < 1024);
  const back = (await resolveTensorRefs(codec.decode(bytes).body, blobs)) as { x: WireTensor };
  assert.ok(isWireTensor(back.x));
  assert.deepEqual(back.x.data, x.data);
});

// guards #10: the SHA-256 swap reaches into @nats-io/obj from outside; an upgrade of the client
// must be re-checked before the swap is trusted with it.
test("objects - the native SHA-256 swap is applied only to @nats-io/obj versions it was checked against", () => {
  const v = objClientVersion();
  assert.ok(v, "the installed @nats-io/obj has a version");
  assert.ok(nativeSha256Fits(v!), `@nats-io/obj ${v} is installed but the swap was checked against ${NATIVE_SHA256_CHECKED.join(", ")} only: re-check installNativeSha256 (hosts/nats/objects.ts) against it and add the version`);
  assert.equal(nativeSha256Fits("3.4.0"), false);
  assert.equal(nativeSha256Fits("4.0.0"), false);
});
