import { test } from "node:test";
import assert from "node:assert/strict";
import {
  byteTokenizer,
  chatTemplate,
  DOMAIN_NAMES,
  generatePack,
  isDataConfigError,
  SEMANTIC_LABELS,
  toJsonl,
  type PromptRecord,
} from "../../data/mod.js";

// An independent checker for each domain: recomputes the answer from the prompt.
function balanced(s: string): boolean {
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const st: string[] = [];
  for (const c of s) {
    if ("([{".includes(c)) st.push(c);
    else if (st.pop() !== pairs[c]) return false;
  }
  return st.length === 0;
}
function answer(r: PromptRecord): string {
  const p = r.prompt;
  let m: RegExpMatchArray | null;
  if ((m = p.match(/^(\d+)([+-])(\d+)=$/))) return String(m[2] === "+" ? +m[1]! + +m[3]! : +m[1]! - +m[3]!);
  if ((m = p.match(/^reverse (\w+)$/))) return [...m[1]!].reverse().join("");
  if ((m = p.match(/^sort (\w+)$/))) return [...m[1]!].sort().join("");
  if ((m = p.match(/^count (\w) in (\w+)$/))) return String(m[2]!.split(m[1]!).length - 1);
  if ((m = p.match(/^balanced ([()[\]{}]+)$/))) return balanced(m[1]!) ? "yes" : "no";
  if ((m = p.match(/^copy (\w+)$/))) return m[1]!;
  throw new Error(`unrecognized prompt ${p}`);
}

const pack = generatePack({ seed: 7 });

test("data - pack answers are correct for every domain and difficulty", () => {
  for (const r of [...pack.train, ...pack.heldOut]) assert.equal(r.response, answer(r), r.prompt);
  assert.equal(pack.train.length, DOMAIN_NAMES.length * 2 * 300);
  assert.equal(pack.heldOut.length, DOMAIN_NAMES.length * 2 * 50);
});

test("data - pack train and held-out never share a prompt, and prompts are unique", () => {
  const train = new Set(pack.train.map((r) => r.prompt));
  const held = new Set(pack.heldOut.map((r) => r.prompt));
  assert.equal(train.size, pack.train.length);
  assert.equal(held.size, pack.heldOut.length);
  for (const p of held) assert.ok(!train.has(p), `held-out prompt ${p} is also in train`);
  assert.ok(pack.train.every((r) => r.metadata.split === "train"));
  assert.ok(pack.heldOut.every((r) => r.metadata.split === "heldout"));
});

test("data - the pack is deterministic from its seed", () => {
  assert.equal(toJsonl(generatePack({ seed: 7 }).train), toJsonl(pack.train));
  assert.notEqual(toJsonl(generatePack({ seed: 8 }).train), toJsonl(pack.train));
});

test("data - a domain's records do not depend on the other selections or on the train size", () => {
  const only = generatePack({ seed: 7, domains: ["reversal"] });
  const fromAll = (rs: PromptRecord[]) => rs.filter((r) => r.metadata.domain === "reversal");
  assert.equal(toJsonl(only.train), toJsonl(fromAll(pack.train)));
  assert.equal(toJsonl(only.heldOut), toJsonl(fromAll(pack.heldOut)));
  const bigger = generatePack({ seed: 7, domains: ["reversal"], trainPerCell: 500 });
  assert.equal(toJsonl(bigger.heldOut), toJsonl(only.heldOut));
});

test("data - every pack example fits a 64-token block with the chat template", () => {
  const tpl = chatTemplate({ tokenizer: byteTokenizer() });
  let longest = 0;
  for (const r of [...pack.train, ...pack.heldOut]) longest = Math.max(longest, tpl.encodeExample(r.prompt, r.response).ids.length);
  assert.ok(longest <= 64, `longest example has ${longest} tokens`);
});

test("data - pack metadata: domain, difficulty, known labels, and easy shorter than hard", () => {
  for (const domain of DOMAIN_NAMES) {
    for (const difficulty of ["easy", "hard"] as const) {
      const cell = pack.train.filter((r) => r.metadata.domain === domain && r.metadata.difficulty === difficulty);
      assert.equal(cell.length, 300, `${domain}/${difficulty}`);
    }
    const mean = (d: string) => {
      const rs = pack.train.filter((r) => r.metadata.domain === domain && r.metadata.difficulty === d);
      return rs.reduce((n, r) => n + r.prompt.length + r.response.length, 0) / rs.length;
    };
    assert.ok(mean("easy") < mean("hard"), `${domain}: easy should be shorter`);
  }
  for (const r of pack.train) {
    assert.ok(r.metadata.labels!.length > 0);
    for (const l of r.metadata.labels!) assert.ok((SEMANTIC_LABELS as readonly string[]).includes(l), l);
  }
  // item-dependent labels: carries and balanced strings are labelled exactly when they occur
  for (const r of pack.train.filter((x) => x.metadata.domain === "brackets")) {
    assert.equal(r.metadata.labels!.includes("balanced"), r.response === "yes");
  }
  const easyAdd = pack.train.filter((x) => x.metadata.domain === "arithmetic" && x.metadata.difficulty === "easy");
  for (const r of easyAdd) {
    const [a, b] = r.prompt.slice(0, -1).split("+").map(Number);
    assert.equal(r.metadata.labels!.includes("carry"), (a! % 10) + b! >= 10, r.prompt);
  }
  const yes = pack.train.filter((x) => x.metadata.domain === "brackets" && x.response === "yes").length / 600;
  assert.ok(yes > 0.3 && yes < 0.7, `balanced share ${yes}`);
});

test("data - pack selection: include, exclude, difficulty; bad options name the key", () => {
  const p = generatePack({ exclude: ["arithmetic", "brackets"], difficulties: ["easy"], trainPerCell: 10, heldOutPerCell: 2 });
  assert.deepEqual(p.options.domains, ["reversal", "sorting", "counting", "copying"]);
  assert.ok(p.train.every((r) => r.metadata.difficulty === "easy" && !["arithmetic", "brackets"].includes(r.metadata.domain)));
  assert.equal(p.train.length, 40);
  assert.equal(p.cells.length, 4);
  assert.throws(() => generatePack({ domains: ["poetry"] }), (e: unknown) => isDataConfigError(e) && e.key === "pack.domains");
  assert.throws(() => generatePack({ difficulties: ["medium" as "easy"] }), (e: unknown) => isDataConfigError(e) && e.key === "pack.difficulties");
  assert.throws(() => generatePack({ trainPerCell: -1 }), (e: unknown) => isDataConfigError(e) && e.key === "pack.trainPerCell");
  assert.throws(() => generatePack({ domains: ["copying"], exclude: ["copying"] }), isDataConfigError);
});

test("data - asking for more prompts than a cell holds is a clear error, not a silent shortfall", () => {
  // easy arithmetic has 100 × 10 = 1000 distinct prompts
  assert.throws(
    () => generatePack({ domains: ["arithmetic"], difficulties: ["easy"], trainPerCell: 1000, heldOutPerCell: 50 }),
    (e: unknown) => isDataConfigError(e) && /arithmetic\/easy yields only \d+ distinct prompts/.test(e.message),
  );
});
