import { test } from "node:test";
import assert from "node:assert/strict";
import { createCodec, createRegistry, createStamper, defineMessage, isDecodeError, parseBody, t, wireTensor } from "../../protocol/mod.js";

const Square = defineMessage(
  "demo.square",
  t.object({
    n: t.int({ min: 0 }),
    label: t.optional(t.string({ maxLength: 8 })),
    x: t.tensor({ dtypes: ["f32"], rank: 1 }),
    mode: t.oneOf(["fast", "exact"]),
  }),
  t.object({ n2: t.int() }),
);

const codec = createCodec();
const stamper = createStamper("r", "troupe.r.a.1");
const registry = createRegistry([Square]);
const x = wireTensor("f32", [2], new Float32Array([1, 2]));

function roundTrip(kind: string, body: unknown) {
  const env = codec.decode(codec.encode(stamper.stamp(kind, body)));
  return () => parseBody(env, registry);
}

test("schema - a valid body passes and is typed", () => {
  const ok = { n: 3, x, mode: "fast" as const };
  assert.equal(Square.body.parse(ok), ok);
  assert.equal(roundTrip("demo.square", ok)().kind, "demo.square");
});

test("schema - a body that does not match names the path", () => {
  const bad = (body: unknown, re: RegExp, code = "SCHEMA") =>
    assert.throws(roundTrip("demo.square", body), (e) => isDecodeError(e) && e.code === code && re.test(e.message), String(re));
  bad({ n: -1, x, mode: "fast" }, /demo\.square\.n: -1 is outside/);
  bad({ n: 1.5, x, mode: "fast" }, /expected an integer/);
  bad({ n: 1, x, mode: "slow" }, /demo\.square\.mode: expected one of fast, exact/);
  bad({ n: 1, x, mode: "fast", label: "far too long" }, /string length 12/);
  bad({ n: 1, x: "not a tensor", mode: "fast" }, /expected f32 tensor, got string/);
  bad({ n: 1, x: wireTensor("i32", [2], new Int32Array(2)), mode: "fast" }, /dtype i32 is not allowed/, "DTYPE");
  bad({ n: 1, x: wireTensor("f32", [1, 2], new Float32Array(2)), mode: "fast" }, /expected rank 1/);
});

test("schema - NaN in a tensor or number is refused unless allowed", () => {
  const nanX = wireTensor("f32", [2], new Float32Array([1, NaN]));
  assert.throws(roundTrip("demo.square", { n: 1, x: nanX, mode: "fast" }), (e) => isDecodeError(e) && e.code === "NAN" && /demo\.square\.x contains NaN/.test(e.message));
  assert.throws(() => t.number().parse(NaN), (e) => isDecodeError(e) && e.code === "NAN");
  assert.ok(Number.isNaN(t.number({ allowNaN: true }).parse(NaN)));
  assert.equal(t.tensor({ allowNaN: true }).parse(nanX), nanX);
});

test("schema - an unknown kind is an UNKNOWN_KIND error", () => {
  assert.throws(roundTrip("demo.cube", {}), (e) => isDecodeError(e) && e.code === "UNKNOWN_KIND" && /demo\.cube/.test(e.message));
});

test("schema - discriminated unions pick the variant by tag", () => {
  const U = t.union("type", {
    a: t.object({ type: t.literal("a"), x: t.int() }),
    b: t.object({ type: t.literal("b"), y: t.string() }),
  });
  assert.deepEqual(U.parse({ type: "b", y: "s" }), { type: "b", y: "s" });
  assert.throws(() => U.parse({ type: "b", y: 1 }), /body\.y: expected string/);
  assert.throws(() => U.parse({ type: "c" }), /expected one of a, b/);
  assert.throws(() => U.parse({ type: "__proto__" }), /expected one of a, b/);
});

test("schema - a kind cannot be defined twice in one registry", () => {
  const other = defineMessage("demo.square", t.unknown());
  assert.throws(() => createRegistry([Square, other]), /defined twice/);
});
