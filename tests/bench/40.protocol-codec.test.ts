// `bench protocol`'s codec figures (issue 14, item 6): the headline is a fresh buffer per encode
// and the NaN check on decode; the reused-buffer and unchecked rates are secondary. benchCodec
// refuses to time a NaN check that does not catch a NaN. Speed is not asserted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { benchCodec, nanRefusal } from "../../bench/mod.js";

test("bench protocol - the headline's message kind refuses a NaN in the tensor's last element; the unchecked kind lets it through", () => {
  assert.equal(nanRefusal(true), "NAN");
  assert.equal(nanRefusal(false), null);
});

test("bench protocol - the codec's headline and its variants are all measured, with their two peers", async () => {
  const c = await benchCodec(30);
  for (const k of ["memcpy", "memcpyFresh", "codec", "freshNoNanCheck", "reused", "reusedNoNanCheck"] as const) {
    assert.ok(c[k] > 0 && Number.isFinite(c[k]), `${k} = ${c[k]}`);
  }
  assert.equal(c.bytes, 4 * 1024 * 1024);
});
