// Shared by the bench tests: where the fake peers live, and whether PyTorch is there to run them.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { torchMissing } from "../../bench/peers/mod.js";

/** <repo> (tests compile to <repo>/dist/tests/bench). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const fixtures = join(repoRoot, "tests", "bench", "fixtures");
export const fakePeer = join(fixtures, "fake_peer.py");

/**
 * A node:test skip reason when /usr/bin/python3 (or $TROUPE_PYTHON) has no torch, printed; with
 * CI set there is no skip, so a CI machine without the peer fails instead of passing silently.
 */
export function torchSkip(): string | false {
  const missing = torchMissing();
  if (!missing || process.env.CI) return false;
  process.stderr.write(`[skip] ${missing}\n`);
  return missing;
}
