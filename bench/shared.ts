// Where ../shared is: the fixtures and the PyTorch peer live beside the repository.
//   1. $TROUPE_SHARED when set;
//   2. the nearest ancestor of the repository with shared/<sub> (worktrees sit deeper);
//   3. the same search from the repository this one was cloned from, when its origin is a
//      local path (a fresh clone in a temporary directory still finds the project's ../shared).
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

/** <repo> (this file compiles to <repo>/dist/bench/shared.js). */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function searchUp(from: string, sub: string): string | null {
  for (let dir = dirname(from); ; dir = dirname(dir)) {
    const candidate = join(dir, "shared", sub);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

function originPath(): string | null {
  try {
    const url = execFileSync("git", ["-C", repoRoot, "config", "--get", "remote.origin.url"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    const path = url.startsWith("file://") ? fileURLToPath(url) : url;
    return isAbsolute(path) && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/** <shared>/<sub>, or <repo>/../shared/<sub> (which may not exist) when nothing is found. */
export function sharedPath(sub: string): string {
  if (process.env.TROUPE_SHARED) return join(process.env.TROUPE_SHARED, sub);
  const origin = originPath();
  return searchUp(repoRoot, sub) ?? (origin ? searchUp(origin, sub) : null) ?? join(repoRoot, "..", "shared", sub);
}
