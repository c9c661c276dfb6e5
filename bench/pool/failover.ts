// `troupe chaos pool-failover`: a pool of 4 worker processes under closed-loop load; at one
// moment one worker is killed with SIGKILL (a lost host) and another gets SIGTERM (a spot
// interruption: it drains). Every row must still be answered — the killed worker's rows are
// retried on the others, the draining one finishes what it holds and takes nothing new — and
// latency is compared before and during the failure. Then the killed worker is started again
// on its port and must come back into rotation by health checks.
import { createPool } from "../../hosts/pools/mod.js";
import { startFleet } from "./fleet.js";
import { driveLoad, requestStream } from "./load.js";

export interface FailoverOptions {
  readonly workers?: number;
  readonly cores?: number;
  readonly clients?: number;
  /** Load before the faults (ms, default 5000). */
  readonly beforeMs?: number;
  /** Load after both faulted workers are out and the drained one has exited (ms, default 3000). */
  readonly settleMs?: number;
  /** Drain deadline the spot notice gives (default 30 000 ms). */
  readonly drainMs?: number;
  readonly log?: (line: string) => void;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export async function runPoolFailover(o: FailoverOptions = {}) {
  const workers = o.workers ?? 4;
  if (workers < 3) throw new Error("pool-failover needs at least 3 workers (one killed, one drained, one left)");
  const log = o.log ?? (() => undefined);
  const { quantile } = await import("../../hosts/pools/mod.js");
  const stream = requestStream(128, 3);
  const fleet = await startFleet({ workers, cores: o.cores ?? 2, drainMs: o.drainMs ?? 30_000 });
  const pool = createPool({ workers: fleet.addresses, healthIntervalMs: 200, deadlineMs: 120_000 });
  try {
    await pool.ready({ workers, timeoutMs: 60_000 });
    let stop = false;
    const load = driveLoad({ pool, stream, clients: o.clients ?? 64, until: () => stop });
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, o.beforeMs ?? 5000));
    const killed = fleet.local.worker(0);
    const drained = fleet.local.worker(1);
    const tFault = Date.now();
    log(`kill -9 ${killed.address} (pid ${killed.pid}); SIGTERM ${drained.address} (pid ${drained.pid})`);
    killed.kill("SIGKILL");
    drained.kill("SIGTERM");
    const drainExit = await drained.exited;
    const state = (a: string) => pool.metrics().workers.find((w) => w.address === a)?.state;
    while ((state(killed.address) !== "down" || state(drained.address) !== "down") && Date.now() - tFault < 60_000) await new Promise((r) => setTimeout(r, 50));
    const tOut = Date.now();
    log(`both out of rotation after ${tOut - tFault} ms (drained worker exited with ${drainExit.signal ?? `code ${drainExit.code}`}); load continues on ${workers - 2}`);
    await new Promise((r) => setTimeout(r, o.settleMs ?? 3000));
    const tDuringEnd = Date.now();
    // the lost host comes back (on its port): the pool must find it by health checks
    await fleet.local.restart(0);
    const tRestart = Date.now();
    while (state(killed.address) !== "ready" && Date.now() - tRestart < 60_000) await new Promise((r) => setTimeout(r, 50));
    const back = state(killed.address) === "ready";
    const rowsBefore = pool.metrics().workers.find((w) => w.address === killed.address)!.rows;
    await new Promise((r) => setTimeout(r, 2000));
    const rowsAfter = pool.metrics().workers.find((w) => w.address === killed.address)!.rows;
    stop = true;
    const res = await load;
    const m = pool.metrics();
    const before = pool.latencies(t0 + 1000, tFault);
    const during = pool.latencies(tFault, tDuringEnd);
    return {
      requests: res.answered + res.failed,
      answered: res.answered,
      failed: res.failed,
      retried: m.retried,
      deadline_exceeded: m.deadlineExceeded,
      p99_ms_before: r3(quantile(before, 0.99)),
      p99_ms_during: r3(quantile(during, 0.99)),
      p50_ms_before: r3(quantile(before, 0.5)),
      p50_ms_during: r3(quantile(during, 0.5)),
      out_of_rotation_ms: tOut - tFault,
      killed: { address: killed.address, signal: "SIGKILL" },
      drained: { address: drained.address, signal: "SIGTERM", exit: drainExit.signal ?? drainExit.code },
      returned: { address: killed.address, back_in_rotation: back, after_ms: back ? Date.now() - tRestart - 2000 : null, rows_in_2_s: rowsAfter - rowsBefore },
      workers: m.workers.map((w) => ({ address: w.address, rows: w.rows, failed_calls: w.failedCalls, state: w.state, out_of_rotation: w.outOfRotation, returned: w.returned })),
      errors: res.errors,
      setup: { workers, cores_per_worker: o.cores ?? 2, clients: o.clients ?? 64, stream: stream.source, windows: "before: from 1 s after the load started to the faults; during: from the faults to settle_ms after both faulted workers were out of rotation" },
    };
  } finally {
    await pool.close();
    await fleet.stop();
  }
}
