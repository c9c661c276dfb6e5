// Every file in tests/fixtures/scenarios/bad/ must fail validation with the problems its
// `# expect: LINE PATH: MESSAGE` header lines name (line and path exact, message a prefix).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { isScenarioError, loadScenario, type ScenarioIssue } from "../../scenarios/mod.js";
import { fixtures, repoRoot } from "./paths.js";

interface Expectation {
  line: number;
  path: string;
  message: string;
}

function expectations(file: string): Expectation[] {
  return readFileSync(file, "utf8")
    .split("\n")
    .map((l) => /^# expect: (\d+) ([^:]*): (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ line: Number(m[1]), path: m[2]!.trim(), message: m[3]! }));
}

const dir = join(fixtures, "bad");
const files = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

test("scenario errors - the bad fixtures exist and each says what it expects", () => {
  assert.ok(files.length >= 15, `only ${files.length} bad fixtures`);
  for (const f of files) assert.ok(expectations(join(dir, f)).length > 0, `${f} has no # expect: line`);
});

for (const f of files) {
  test(`scenario errors - ${f} is refused at the line and key it names`, () => {
    const file = relative(repoRoot, join(dir, f));
    let issues: readonly ScenarioIssue[] = [];
    assert.throws(
      () => loadScenario(file),
      (e) => {
        assert.ok(isScenarioError(e), String(e));
        issues = e.issues;
        return true;
      },
    );
    for (const want of expectations(join(dir, f))) {
      const hit = issues.find((i) => i.line === want.line && i.path === want.path && i.message.startsWith(want.message));
      assert.ok(hit, `expected ${file}:${want.line} ${want.path}: ${want.message}\ngot:\n${issues.map((i) => `  ${i.file}:${i.line} ${i.path}: ${i.message}`).join("\n")}`);
      assert.equal(hit.file, file, "messages name the file as the user gave it");
    }
  });
}
