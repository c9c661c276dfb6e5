// Runs a PyTorch peer script with /usr/bin/python3 (or $TROUPE_PYTHON) when torch is importable,
// and parses the one JSON line it prints. Returns null (with the reason) when there is no peer.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

export interface PeerResult<T> {
  readonly value: T | null;
  readonly reason: string | null;
}

export function python(): string {
  return process.env.TROUPE_PYTHON ?? "/usr/bin/python3";
}

export function runPeer<T>(script: string, args: readonly string[], timeoutMs = 600_000): PeerResult<T> {
  const py = python();
  if (!existsSync(py)) return { value: null, reason: `${py} not found` };
  if (!existsSync(script)) return { value: null, reason: `peer script ${script} not found` };
  const probe = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
  if (probe.status !== 0) return { value: null, reason: `${py} has no torch` };
  const r = spawnSync(py, [script, ...args], { encoding: "utf8", timeout: timeoutMs, env: { ...process.env } });
  if (r.status !== 0) return { value: null, reason: `peer failed (${r.status}): ${r.stderr.slice(-400)}` };
  const line = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
  if (!line) return { value: null, reason: "peer printed no JSON" };
  return { value: JSON.parse(line) as T, reason: null };
}
