// `troupe bench protocol`: the wire format's two costs, each against a peer measured in the
// same run on the same machine.
//   codec: encode + decode (+ schema check) of a 4 MiB f32 tensor message, vs Buffer.copy of
//          the same 4 MiB into a preallocated buffer (the floor: one copy).
//   call:  an actor call round trip (envelope, schema check, queue, handler, reply) to an actor
//          in its own process, vs a bare NATS request to a raw responder in that same process
//          on the same connection. Calls and raw requests alternate so noise hits both alike.
import { randomBytes } from "node:crypto";
import { Bench } from "tinybench";
import { openPeer, startSupervisor } from "../actors/mod.js";
import { Echo, rawEchoSubject } from "../actors/bench/echo.js";
import { openNats } from "../hosts/mod.js";
import {
  actorAddress,
  createCodec,
  createRegistry,
  createStamper,
  defineMessage,
  parseBody,
  t,
  wireTensor,
} from "../protocol/mod.js";

export interface ProtocolBenchOptions {
  natsUrl?: string;
  /** round trips of each kind (default 5000) */
  calls?: number;
  /** tinybench time per codec task (default 1000 ms) */
  codecTimeMs?: number;
}

export interface ProtocolBenchReport {
  tensor_codec_GBps: number;
  memcpy_GBps: number;
  ratio: number;
  call_p50_us: number;
  call_p99_us: number;
  nats_raw_p50_us: number;
  nats_raw_p99_us: number;
  call_over_raw_p50: number;
  /** encode into a fresh buffer each time (what a NATS publish uses: page faults included) */
  tensor_codec_fresh_GBps: number;
  /** the same message with the default NaN check of its tensor (a schema choice) */
  tensor_codec_nan_checked_GBps: number;
  tensor_bytes: number;
  calls: number;
}

const MiB = 1024 * 1024;

function gbps(bytes: number, ms: number): number {
  return Math.round((bytes / (ms / 1000) / 1e9) * 100) / 100;
}

export async function benchCodec(timeMs = 1000) {
  const n = MiB; // 1 Mi f32 = 4 MiB
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.sin(i);
  const Tensor = defineMessage("bench.tensor", t.object({ step: t.int(), x: t.tensor({ dtypes: ["f32"], allowNaN: true }) }));
  const Checked = defineMessage("bench.tensor.checked", t.object({ step: t.int(), x: t.tensor({ dtypes: ["f32"] }) }));
  const registry = createRegistry([Tensor, Checked]);
  const codec = createCodec();
  const stamper = createStamper("bench", "troupe.bench.bench.0");
  const body = { step: 1, x: wireTensor("f32", [1024, 1024], x) };
  const env = stamper.stamp(Tensor.kind, body);
  const checked = stamper.stamp(Checked.kind, body);
  const src = Buffer.from(x.buffer);
  const dst = Buffer.allocUnsafe(src.length);
  const roundTrip = (e: typeof env, fresh: boolean) => () => {
    const bytes = fresh ? codec.encode(e) : codec.encodeTransient(e);
    const back = codec.decode(bytes);
    parseBody(back, registry);
    if ((back.body as typeof body).x.data.byteLength !== src.length) throw new Error("bench: wrong tensor size");
  };
  const bench = new Bench({ time: timeMs, warmupTime: 200 });
  bench
    .add("memcpy", () => {
      src.copy(dst);
    })
    .add("codec", roundTrip(env, false))
    .add("codec-fresh", roundTrip(env, true))
    .add("codec-nan-checked", roundTrip(checked, false));
  await bench.run();
  const mean = (name: string) => bench.tasks.find((t) => t.name === name)!.result!.latency.mean;
  return {
    bytes: src.length,
    memcpy: gbps(src.length, mean("memcpy")),
    codec: gbps(src.length, mean("codec")),
    fresh: gbps(src.length, mean("codec-fresh")),
    nanChecked: gbps(src.length, mean("codec-nan-checked")),
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

export async function benchCalls(o: { natsUrl?: string; calls: number }) {
  await using session = await openNats({ url: o.natsUrl, name: "troupe-bench" });
  const { nc } = session;
  const run = `bench-${randomBytes(4).toString("hex")}`;
  const sup = startSupervisor({ run, natsUrl: session.url, nc, children: [{ role: "bench-echo", id: "0" }] });
  try {
    await sup.ready();
    const peer = openPeer({ nc, run, name: "bench" });
    const to = actorAddress(run, "bench-echo", "0");
    const raw = rawEchoSubject(run);
    const codec = createCodec();
    // the raw request carries as many bytes as the call's envelope does
    const rawPayload = codec.encode(createStamper(run, `troupe.${run}._client.bench`).stamp(Echo.kind, { x: 1 }));
    const call = async () => {
      const t0 = process.hrtime.bigint();
      const r = await peer.call(to, Echo, { x: 7 });
      if (r.x !== 7) throw new Error("bench: wrong echo");
      return Number(process.hrtime.bigint() - t0) / 1000;
    };
    const bare = async () => {
      const t0 = process.hrtime.bigint();
      const m = await nc.request(raw, rawPayload, { timeout: 5000 });
      if (m.data.length !== rawPayload.length) throw new Error("bench: wrong raw echo");
      return Number(process.hrtime.bigint() - t0) / 1000;
    };
    for (let i = 0; i < 500; i++) {
      await call();
      await bare();
    }
    const calls: number[] = [];
    const raws: number[] = [];
    for (let i = 0; i < o.calls; i++) {
      if (i % 2 === 0) {
        calls.push(await call());
        raws.push(await bare());
      } else {
        raws.push(await bare());
        calls.push(await call());
      }
    }
    calls.sort((a, b) => a - b);
    raws.sort((a, b) => a - b);
    return { callP50: quantile(calls, 0.5), callP99: quantile(calls, 0.99), rawP50: quantile(raws, 0.5), rawP99: quantile(raws, 0.99) };
  } finally {
    await sup.stop();
  }
}

export async function runProtocolBench(o: ProtocolBenchOptions = {}): Promise<ProtocolBenchReport> {
  const codec = await benchCodec(o.codecTimeMs ?? 1000);
  const calls = await benchCalls({ natsUrl: o.natsUrl, calls: o.calls ?? 5000 });
  const r1 = (v: number) => Math.round(v * 10) / 10;
  return {
    tensor_codec_GBps: codec.codec,
    memcpy_GBps: codec.memcpy,
    ratio: Math.round((codec.codec / codec.memcpy) * 100) / 100,
    call_p50_us: r1(calls.callP50),
    call_p99_us: r1(calls.callP99),
    nats_raw_p50_us: r1(calls.rawP50),
    nats_raw_p99_us: r1(calls.rawP99),
    call_over_raw_p50: Math.round((calls.callP50 / calls.rawP50) * 100) / 100,
    tensor_codec_fresh_GBps: codec.fresh,
    tensor_codec_nan_checked_GBps: codec.nanChecked,
    tensor_bytes: codec.bytes,
    calls: o.calls ?? 5000,
  };
}
