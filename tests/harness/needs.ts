// Tests that need something a machine may lack (the shared PyTorch fixtures and data in
// ../shared, a python with torch): on a developer's machine they are skipped with the reason
// printed; when CI is set they fail with that reason, so CI can never pass by skipping them.
// guards #14 (item 7: no silent skips in CI)
import { type TestContext, test } from "node:test";

/** True when the CI variable is set to anything but "", "0" or "false". */
export function inCI(): boolean {
  const v = (process.env.CI ?? "").trim().toLowerCase();
  return v !== "" && v !== "0" && v !== "false";
}

function report(reason: string): void {
  process.stderr.write(`[skip] ${reason}\n`);
}

/**
 * test(name, fn) when nothing is missing. When `missing` says what is missing: a skipped test
 * with that reason, or under CI a failing one ("CI is set: ... is required").
 */
export function testNeeding(name: string, missing: string | null, fn: (t: TestContext) => void | Promise<void>): void {
  if (missing === null) {
    test(name, fn);
  } else if (inCI()) {
    test(name, () => {
      throw new Error(`CI is set, so a missing prerequisite fails instead of skipping: ${missing}`);
    });
  } else {
    report(missing);
    test(name, { skip: missing }, fn);
  }
}

/**
 * For a `{ skip }` option: the reason (printed) when something is missing, false when not; under
 * CI a missing prerequisite throws, which fails the test file. Prefer testNeeding, which fails
 * only the test.
 */
export function skipUnlessCI(missing: string | null): string | false {
  if (missing === null) return false;
  if (inCI()) throw new Error(`CI is set, so a missing prerequisite fails instead of skipping: ${missing}`);
  report(missing);
  return missing;
}
