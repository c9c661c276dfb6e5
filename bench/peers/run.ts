// Runs a PyTorch peer script with /usr/bin/python3 (or $TROUPE_PYTHON) when torch is importable,
// and parses what it prints. Never throws for a missing or failing peer: the reason comes back
// instead, so a bench still reports troupe's own figures (with the peer as null, and why).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../shared.js";

export interface PeerResult<T> {
  readonly value: T | null;
  readonly reason: string | null;
}

/** The interpreter the peers run with (Debian's, which has PyTorch). */
export function python(): string {
  return process.env.TROUPE_PYTHON ?? "/usr/bin/python3";
}

/** A script of ours in <repo>/bench/peers/ (torch_gemm.py, torch_peer.py). */
export function peerScript(name: string): string {
  return join(repoRoot, "bench", "peers", name);
}

const torchProbe = new Map<string, string | null>();

/** null when `python()` imports torch, else why not (probed once per interpreter). */
export function torchMissing(): string | null {
  const py = python();
  if (!torchProbe.has(py)) {
    if (!existsSync(py)) torchProbe.set(py, `${py} not found`);
    else {
      const probe = spawnSync(py, ["-c", "import torch"], { encoding: "utf8" });
      torchProbe.set(py, probe.status === 0 ? null : `${py} has no torch (apt-get install -y python3-torch)`);
    }
  }
  return torchProbe.get(py)!;
}

export interface RunScriptOptions {
  /** The child's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** The JSON lines (lines starting with "{") a script printed, parsed; throws on a bad line. */
export function jsonLines(stdout: string): unknown[] {
  return stdout.split("\n").map((l) => l.trim()).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as unknown);
}

/** Runs `python() script ...args`; value: every JSON line it printed, in order. */
export function runScript(script: string, args: readonly string[], options: RunScriptOptions = {}): PeerResult<unknown[]> {
  const missing = torchMissing();
  if (missing) return { value: null, reason: missing };
  if (!existsSync(script)) return { value: null, reason: `peer script ${script} not found` };
  const r = spawnSync(python(), [script, ...args], {
    encoding: "utf8",
    timeout: options.timeoutMs ?? 600_000,
    env: options.env ?? process.env,
    maxBuffer: 64 << 20,
  });
  if (r.error) return { value: null, reason: `peer did not run: ${r.error.message}` };
  if (r.status !== 0) return { value: null, reason: `peer failed (${r.status ?? r.signal}): ${r.stderr.trim().slice(-400)}` };
  try {
    const lines = jsonLines(r.stdout);
    return lines.length ? { value: lines, reason: null } : { value: null, reason: "peer printed no JSON" };
  } catch (err) {
    return { value: null, reason: `peer printed bad JSON: ${(err as Error).message}` };
  }
}

/** Runs a peer script that prints one JSON line, and returns that line. */
export function runPeer<T>(script: string, args: readonly string[], options: RunScriptOptions = {}): PeerResult<T> {
  const r = runScript(script, args, options);
  return r.value ? { value: r.value[r.value.length - 1] as T, reason: null } : { value: null, reason: r.reason };
}
