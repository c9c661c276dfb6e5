// `troupe pool conformance --target HOST:PORT`: runs every check against one worker and
// reports one line per check. A check that cannot run because an earlier one found no usable
// worker is reported as failed too ("skipped: …"), never silently left out. Drain ends the
// worker, so it runs last (and only when asked: it is on by default, `--no-drain` leaves it out).
import { checkAddress, workerClient } from "../client.js";
import { sortBuckets } from "../buckets.js";
import { type Ctx, Failure, describe, exactBuckets, health, outputs, padding, smallestBucket, streaming } from "./checks.js";
import { ERROR_CASES, cores, drain, errorCase, overload } from "./behaviour.js";

export interface ConformanceOptions {
  readonly target: string;
  /** Tolerance of the numeric checks (default 1e-4: f32 workers; bf16 ones need more). */
  readonly atol?: number;
  /** Run the drain check, which ends the worker (default true). */
  readonly drain?: boolean;
  readonly drainDeadlineMs?: number;
  /** How long to wait for the worker to serve its model (default 120 s). */
  readonly readyTimeoutMs?: number;
  /** Called with each result as it is known. */
  readonly onCheck?: (r: CheckResult) => void;
}

export interface CheckResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
}

export interface ConformanceReport {
  readonly target: string;
  readonly passed: boolean;
  readonly checks: readonly CheckResult[];
  readonly failed: number;
}

type Check = readonly [name: string, run: (c: Ctx) => Promise<string>];

export async function runConformance(o: ConformanceOptions): Promise<ConformanceReport> {
  const target = checkAddress(o.target);
  const client = workerClient(target);
  const results: CheckResult[] = [];
  const record = (name: string, ok: boolean, detail: string, ms: number) => {
    const r = { name, ok, detail, ms: Math.round(ms) };
    results.push(r);
    o.onCheck?.(r);
  };
  try {
    const t0 = performance.now();
    let ctx: Ctx | null = null;
    try {
      const until = Date.now() + (o.readyTimeoutMs ?? 120_000);
      let h = await client.health();
      while (h.state !== "SERVING" && Date.now() < until) {
        if (h.state === "DRAINING") throw new Failure("the worker is draining; start a fresh one");
        await new Promise((r) => setTimeout(r, 200));
        h = await client.health();
      }
      if (h.state !== "SERVING") throw new Failure(`the worker is ${h.state} after ${o.readyTimeoutMs ?? 120_000} ms; it never served a model`);
      const info = await client.describe();
      if (!info.model) throw new Failure("Describe names no model although Health says SERVING");
      ctx = { client, info, model: info.model, buckets: sortBuckets(info.buckets), atol: o.atol ?? 1e-4, readyTimeoutMs: o.readyTimeoutMs ?? 120_000, executions: [] };
      record("connect", true, `${target} serves ${info.model.id} after ${Math.round(performance.now() - t0)} ms`, performance.now() - t0);
    } catch (err) {
      record("connect", false, (err as Error).message, performance.now() - t0);
    }
    const checks: Check[] = [
      ["describe", describe],
      ["health", health],
      ["buckets.exact", exactBuckets],
      ["buckets.smallest-fit", smallestBucket],
      ["padding.masked", padding],
      ["outputs", outputs],
      ["streaming", streaming],
      ...ERROR_CASES.map((k) => [`errors.${k.reason.toLowerCase().replace(/_/g, "-")}${k.name.includes("output dtype") ? "-output" : ""}`, (c: Ctx) => errorCase(c, k)] as const),
      ["overload", overload],
      ["cores.one-request-each", cores],
      ...(o.drain === false ? [] : [["drain", (c: Ctx) => drain(c, o.drainDeadlineMs ?? 30_000)] as const]),
    ];
    for (const [name, run] of checks) {
      const t = performance.now();
      if (!ctx) {
        record(name, false, "skipped: no worker to check (see connect)", 0);
        continue;
      }
      try {
        record(name, true, await run(ctx), performance.now() - t);
      } catch (err) {
        const msg = err instanceof Failure ? err.message : `${(err as Error).name}: ${(err as Error).message}`;
        record(name, false, msg, performance.now() - t);
      }
    }
  } finally {
    client.close();
  }
  const failed = results.filter((r) => !r.ok).length;
  return { target, passed: failed === 0, checks: results, failed };
}
