import { test } from "node:test";
import assert from "node:assert/strict";
import { actorAddress, groupSubject, isAddressError, parseAddress, workStreamName } from "../../protocol/mod.js";

test("subjects - an actor address is troupe.<run>.<role>.<id> and parses back", () => {
  const a = actorAddress("run-1", "trainer", "0");
  assert.equal(a, "troupe.run-1.trainer.0");
  assert.deepEqual(parseAddress(a), { run: "run-1", role: "trainer", id: "0" });
  assert.equal(groupSubject("run-1", "oracle"), "troupe.run-1.oracle._any");
  assert.equal(workStreamName("run-1", "label"), "TROUPE_run-1_WQ_label");
});

test("subjects - tokens NATS would route wrongly are refused with an AddressError", () => {
  for (const bad of ["a.b", "a*", ">", "", "a b", "x".repeat(65)]) {
    assert.throws(() => actorAddress("r", bad, "1"), (e) => isAddressError(e), JSON.stringify(bad));
  }
  assert.throws(() => actorAddress("r", "_hb", "1"), /reserved/);
  assert.throws(() => parseAddress("troupe.r.role"), /not an actor address/);
});
