// `troupe bench protocol`: the wire format's two costs, each against a peer measured in the
// same run on the same machine.
//   codec: encode + decode + schema check of a 4 MiB f32 tensor message. The headline is the case
//          a sender meets: every encode into a fresh buffer (as a NATS publish needs: the
//          allocation and its page faults are paid) and the schema's default NaN check on
//          decode. Its peer is Buffer.copy of the same 4 MiB into a preallocated buffer (the floor:
//          one copy); a copy into a fresh buffer is the second peer. Reusing the encode buffer and
//          skipping the NaN check are reported beside it, never instead of it.
//   call:  an actor call round trip (envelope, schema check, queue, handler, reply) to an actor
//          in its own process, vs a bare NATS request to a raw responder in that same process
//          on the same connection. Calls and raw requests alternate so noise hits both alike.
import { randomBytes } from "node:crypto";
import { Bench } from "tinybench";
import { openPeer, startSupervisor } from "../actors/mod.js";
import { Echo, rawEchoSubject } from "../actors/bench/echo.js";
import { openNats } from "../hosts/mod.js";
import {
  DecodeErrorCode,
  actorAddress,
  createCodec,
  createRegistry,
  createStamper,
  defineMessage,
  isDecodeError,
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
  /** encode into a fresh buffer + decode + schema check with the NaN check (the honest case) */
  tensor_codec_GBps: number;
  /** Buffer.copy of the same bytes into a preallocated buffer */
  memcpy_GBps: number;
  /** tensor_codec_GBps / memcpy_GBps */
  ratio: number;
  /** Buffer.copy into a freshly allocated buffer each time (page faults included, like the codec) */
  memcpy_fresh_GBps: number;
  /** tensor_codec_GBps / memcpy_fresh_GBps */
  ratio_vs_fresh_copy: number;
  call_p50_us: number;
  call_p99_us: number;
  nats_raw_p50_us: number;
  nats_raw_p99_us: number;
  call_over_raw_p50: number;
  /** secondary: the codec without one or both costs of the headline case */
  codec_variants: {
    /** fresh buffer, tensor declared allowNaN (no NaN scan) */
    fresh_no_nan_check_GBps: number;
    /** encodeTransient (a reused buffer), NaN-checked */
    reused_buffer_GBps: number;
    /** reused buffer and no NaN check: the best case, the headline before issue 14 */
    reused_buffer_no_nan_check_GBps: number;
  };
  tensor_bytes: number;
  calls: number;
}

const MiB = 1024 * 1024;

function gbps(bytes: number, ms: number): number {
  return Math.round((bytes / (ms / 1000) / 1e9) * 100) / 100;
}

const Unchecked = defineMessage("bench.tensor", t.object({ step: t.int(), x: t.tensor({ dtypes: ["f32"], allowNaN: true }) }));
const Checked = defineMessage("bench.tensor.checked", t.object({ step: t.int(), x: t.tensor({ dtypes: ["f32"] }) }));
const registry = createRegistry([Unchecked, Checked]);

/** The 4 MiB tensor the codec bench sends (1 Mi f32 values). */
function benchTensor(): Float32Array {
  const x = new Float32Array(MiB);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i);
  return x;
}

/**
 * The decode error code (or null) for the bench's message kind, NaN-checked or not, holding the
 * bench tensor with a NaN in its last element (a scan has to reach the end to find it).
 */
export function nanRefusal(checked: boolean): string | null {
  const x = benchTensor();
  x[x.length - 1] = NaN;
  const codec = createCodec();
  const env = createStamper("bench", "troupe.bench.bench.0").stamp((checked ? Checked : Unchecked).kind, { step: 1, x: wireTensor("f32", [1024, 1024], x) });
  try {
    parseBody(codec.decode(codec.encode(env)), registry);
    return null;
  } catch (err) {
    return isDecodeError(err) ? err.code : null;
  }
}

export async function benchCodec(timeMs = 1000) {
  // the headline's NaN check must be real, or its rate would not include it
  const refused = nanRefusal(true);
  if (refused !== DecodeErrorCode.nan) throw new Error(`bench: the NaN-checked message kind accepted a NaN (${refused}); its rate would not include the check`);
  const x = benchTensor();
  const codec = createCodec();
  const stamper = createStamper("bench", "troupe.bench.bench.0");
  const body = { step: 1, x: wireTensor("f32", [1024, 1024], x) };
  const env = stamper.stamp(Unchecked.kind, body);
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
    .add("memcpy-fresh", () => {
      const fresh = Buffer.allocUnsafeSlow(src.length); // not from the pool: a new allocation, as an encode makes
      src.copy(fresh);
    })
    .add("codec-fresh-checked", roundTrip(checked, true))
    .add("codec-fresh", roundTrip(env, true))
    .add("codec-reused-checked", roundTrip(checked, false))
    .add("codec-reused", roundTrip(env, false));
  await bench.run();
  const rate = (name: string) => gbps(src.length, bench.tasks.find((t) => t.name === name)!.result!.latency.mean);
  return {
    bytes: src.length,
    memcpy: rate("memcpy"),
    memcpyFresh: rate("memcpy-fresh"),
    codec: rate("codec-fresh-checked"),
    freshNoNanCheck: rate("codec-fresh"),
    reused: rate("codec-reused-checked"),
    reusedNoNanCheck: rate("codec-reused"),
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
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    tensor_codec_GBps: codec.codec,
    memcpy_GBps: codec.memcpy,
    ratio: r2(codec.codec / codec.memcpy),
    memcpy_fresh_GBps: codec.memcpyFresh,
    ratio_vs_fresh_copy: r2(codec.codec / codec.memcpyFresh),
    call_p50_us: r1(calls.callP50),
    call_p99_us: r1(calls.callP99),
    nats_raw_p50_us: r1(calls.rawP50),
    nats_raw_p99_us: r1(calls.rawP99),
    call_over_raw_p50: r2(calls.callP50 / calls.rawP50),
    codec_variants: {
      fresh_no_nan_check_GBps: codec.freshNoNanCheck,
      reused_buffer_GBps: codec.reused,
      reused_buffer_no_nan_check_GBps: codec.reusedNoNanCheck,
    },
    tensor_bytes: codec.bytes,
    calls: o.calls ?? 5000,
  };
}
