import { test } from "node:test";
import assert from "node:assert/strict";
import { DTYPES, byteLengthOf, dtypeInfo } from "../../protocol/mod.js";

test("dtype - plain dtypes need numel × element size bytes", () => {
  assert.equal(byteLengthOf("f32", [2, 3]), 24);
  assert.equal(byteLengthOf("f16", [2, 3]), 12);
  assert.equal(byteLengthOf("bf16", [5]), 10);
  assert.equal(byteLengthOf("i8", [7]), 7);
  assert.equal(byteLengthOf("u8", [7, 1]), 7);
  assert.equal(byteLengthOf("i32", [3]), 12);
  assert.equal(byteLengthOf("f32", []), 4, "a scalar has one element");
  assert.equal(byteLengthOf("f32", [0, 8]), 0);
});

test("dtype - block formats follow the GGML block sizes along the last dimension", () => {
  assert.equal(byteLengthOf("q8_0", [2, 64]), 2 * 2 * 34);
  assert.equal(byteLengthOf("q4_0", [3, 32]), 3 * 18);
  assert.equal(byteLengthOf("tq", [2, 512]), 2 * 2 * 66);
  assert.match(String(byteLengthOf("q8_0", [2, 33])), /blocks of 32/);
  assert.match(String(byteLengthOf("tq", [256, 100])), /blocks of 256/);
});

test("dtype - invalid shapes are explained, not thrown", () => {
  assert.match(String(byteLengthOf("f32", [-1])), /not a non-negative integer/);
  assert.match(String(byteLengthOf("f32", [1.5])), /not a non-negative integer/);
  assert.match(String(byteLengthOf("f32", [1, 1, 1, 1, 1, 1, 1, 1, 1])), /rank 9/);
  assert.match(String(byteLengthOf("f32", [0xffffffff, 0xffffffff, 0xffffff])), /too many elements/);
});

test("dtype - every dtype has a distinct wire code", () => {
  const codes = DTYPES.map((d) => dtypeInfo(d).code);
  assert.equal(new Set(codes).size, DTYPES.length);
  assert.deepEqual([...DTYPES].sort(), ["bf16", "f16", "f32", "i32", "i8", "q4_0", "q8_0", "tq", "u8"]);
  assert.throws(() => dtypeInfo("f64" as never), /unknown dtype "f64"/);
});
