import { test } from "node:test";
import assert from "node:assert/strict";
import { RestartIntensity, backoffDelay } from "../../actors/mod.js";

test("backoff - delays grow by the factor and stop at the maximum", () => {
  const p = { initialMs: 100, maxMs: 1000, factor: 2, resetAfterMs: 10_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(p, n)), [100, 200, 400, 800, 1000, 1000]);
});

test("backoff - restart intensity allows maxRestarts within the window, then refuses", () => {
  const r = new RestartIntensity({ maxRestarts: 3, withinMs: 1000 });
  assert.equal(r.allow(0), true);
  assert.equal(r.allow(100), true);
  assert.equal(r.allow(200), true);
  assert.equal(r.allow(300), false, "a fourth restart within 1 s");
  assert.equal(r.allow(1050), true, "the first restart left the window");
  assert.equal(r.count(), 3);
  assert.equal(r.allow(1060), false);
});
