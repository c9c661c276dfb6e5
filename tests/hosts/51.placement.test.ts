// Placement: pins by name and tag, backends, spread and pack, keeping live placements, and the
// words a refusal uses.
import { test } from "node:test";
import assert from "node:assert/strict";
import { type ActorDemand, type PlacementHost, placeActors } from "../../hosts/mod.js";

const host = (name: string, o: Partial<PlacementHost> = {}): PlacementHost => ({ name, tags: [], backends: ["cpu"], cores: 2, load: 0, ...o });
const actor = (role: string, id = "0", o: Partial<ActorDemand> = {}): ActorDemand => ({ role, id, on: [], tags: [], backend: null, cores: 1, ...o });
const where = (r: ReturnType<typeof placeActors>) => Object.fromEntries(r.placed.map((p) => [`${p.role}/${p.id}`, p.host]));

test("placement - spread puts replicas of a role on different hosts and balances load", () => {
  const r = placeActors([actor("trainer", "0"), actor("trainer", "1"), actor("teacher"), actor("evaluator")], [host("a"), host("b")], { strategy: "spread" });
  assert.deepEqual(where(r), { "trainer/0": "a", "trainer/1": "b", "teacher/0": "a", "evaluator/0": "b" });
  assert.deepEqual(r.unplaced, []);
});

test("placement - pack fills the first host before the next, then the least oversubscribed", () => {
  const r = placeActors([actor("trainer"), actor("teacher"), actor("evaluator")], [host("a"), host("b", { cores: 1 })], { strategy: "pack" });
  assert.deepEqual(where(r), { "trainer/0": "a", "teacher/0": "a", "evaluator/0": "b" });
  const full = placeActors([actor("x", "0", { cores: 2 }), actor("y", "0", { cores: 2 }), actor("z")], [host("a"), host("b", { cores: 4 })], { strategy: "pack" });
  assert.deepEqual(where(full), { "x/0": "a", "y/0": "b", "z/0": "b" });
  const over = placeActors([actor("x", "0", { cores: 3 })], [host("a"), host("b", { load: 1 })], { strategy: "pack" });
  assert.deepEqual(where(over), { "x/0": "a" }, "3 of 2 cores (1.5) beats 4 of 2 (2.0)");
});

test("placement - pins by name, tag and backend, and says why a host is refused", () => {
  const hosts = [host("mac", { tags: ["mac", "thunderbolt"], backends: ["cpu", "mlx"] }), host("linux", { tags: ["linux"] })];
  const r = placeActors(
    [actor("trainer", "0", { backend: "mlx" }), actor("teacher", "0", { on: ["linux"] }), actor("oracle", "0", { tags: ["thunderbolt"] }), actor("evaluator", "0", { tags: ["gpu"] })],
    hosts,
    { strategy: "spread" },
  );
  assert.deepEqual(where(r), { "trainer/0": "mac", "teacher/0": "linux", "oracle/0": "mac" });
  assert.equal(r.unplaced.length, 1);
  assert.equal(r.unplaced[0]!.actor, "evaluator/0");
  assert.match(r.unplaced[0]!.why, /mac lacks tag gpu \(has mac, thunderbolt\); linux lacks tag gpu \(has linux\)/);
  const noMlx = placeActors([actor("trainer", "0", { backend: "neuron" })], hosts, { strategy: "spread" });
  assert.match(noMlx.unplaced[0]!.why, /mac offers cpu, mlx, not neuron/);
});

test("placement - a lost host's actors move, everyone else stays; a pin to the lost host cannot be honoured", () => {
  const actors = [actor("trainer"), actor("teacher"), actor("evaluator", "0", { on: ["b"] })];
  const first = placeActors(actors, [host("a"), host("b")], { strategy: "spread" });
  assert.deepEqual(where(first), { "trainer/0": "a", "teacher/0": "b", "evaluator/0": "b" });
  // b is lost: only a is left
  const again = placeActors(actors, [host("a")], { strategy: "spread", keep: first.placed, gone: ["b"] });
  assert.deepEqual(where(again), { "trainer/0": "a", "teacher/0": "a" });
  assert.deepEqual(again.unplaced.map((u) => u.actor), ["evaluator/0"]);
  assert.match(again.unplaced[0]!.why, /b is not up \(lost\)/);
  assert.equal(placeActors(actors, [], { strategy: "spread" }).unplaced[0]!.why, "no host is up");
});

test("placement - deterministic: the same inputs place the same way", () => {
  const actors = Array.from({ length: 7 }, (_, i) => actor(["a", "b", "c"][i % 3]!, String(i)));
  const hosts = [host("x", { cores: 3 }), host("y"), host("z", { cores: 1, load: 0.5 })];
  for (const strategy of ["spread", "pack"] as const) assert.deepEqual(placeActors(actors, hosts, { strategy }), placeActors(actors, hosts, { strategy }));
});
