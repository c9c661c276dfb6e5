// `troupe demo`: the end-to-end scenario on an embedded NATS (or --nats URL): four actor
// processes under one supervisor, a durable queue between them, every result verified.
// It stands in for the curriculum run until the director exists.
import { randomBytes } from "node:crypto";
import { type Logger, componentLogger, deleteRunStreams, openNats } from "../../hosts/mod.js";
import { isCallTimeoutError, isNoResponderError } from "../errors.js";
import { openPeer, startSupervisor } from "../runtime/mod.js";
import { DemoStatus } from "./messages.js";
import "../roles.js";

export interface DemoOptions {
  natsUrl?: string;
  jobs?: number;
  timeoutMs?: number;
  log?: Logger;
}

export interface DemoReport {
  ok: boolean;
  run: string;
  actors: number;
  jobs: number;
  verified: number;
  duplicates: number;
  wrong: number;
  by_worker: Record<string, number>;
  restarts: number;
  elapsed_ms: number;
}

export async function runDemo(o: DemoOptions = {}): Promise<DemoReport> {
  const jobs = o.jobs ?? 200;
  const log = o.log ?? componentLogger("demo");
  const timeoutMs = o.timeoutMs ?? 120_000;
  const t0 = Date.now();
  await using session = await openNats({ url: o.natsUrl, name: "troupe-demo" });
  const run = `demo-${randomBytes(4).toString("hex")}`;
  const sup = startSupervisor({
    run,
    natsUrl: session.url,
    nc: session.nc,
    children: [
      { role: "demo-collector", id: "0" },
      { role: "demo-worker", id: "0" },
      { role: "demo-worker", id: "1" },
      { role: "demo-producer", id: "0", restart: "transient", config: { jobs } },
    ],
    onEvent: (e) => log.debug({ event: e.event, actor: `${e.role}/${e.id}`, pid: e.pid }, "supervision"),
  });
  try {
    const peer = openPeer({ nc: session.nc, run, name: "demo" });
    const end = Date.now() + timeoutMs;
    let status;
    for (;;) {
      try {
        status = await peer.choose("demo-collector", DemoStatus, {}, { timeoutMs: 2000 });
        if (status.expected === jobs && status.verified >= jobs) break;
      } catch (err) {
        if (!isNoResponderError(err) && !isCallTimeoutError(err)) throw err;
      }
      if (Date.now() > end) throw new Error(`demo did not finish within ${timeoutMs} ms (last status: ${JSON.stringify(status)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const restarts = sup.children().reduce((a, c) => a + c.restarts, 0);
    return {
      ok: status.verified === jobs && status.wrong === 0,
      run,
      actors: sup.children().length,
      jobs,
      verified: status.verified,
      duplicates: status.duplicates,
      wrong: status.wrong,
      by_worker: status.byWorker,
      restarts,
      elapsed_ms: Date.now() - t0,
    };
  } finally {
    await sup.stop();
    // on an external server, leave nothing of this run behind (an embedded one is removed whole)
    if (!session.server) await deleteRunStreams(session.nc, run).catch(() => undefined);
  }
}
