// The troupe pool worker: serves the AcceleratorPool service (protocol/pool/v1/pool.proto)
// with troupe's CPU kernels, emulating a compiled accelerator faithfully (see pool.proto's
// header): only the declared buckets run, a request is padded to the smallest one that fits,
// one request per core at a time, a "compile" at every model load during which Health says
// COMPILING, and drain on the spot notice. Bound on HOST:PORT (port 0: the OS picks; the
// bound port is reported). The process around it (cli `troupe pool worker`) turns SIGTERM
// into drain() and exits when `closed` resolves.
import { hostname } from "node:os";
import * as grpc from "@grpc/grpc-js";
import { POOL_PROTOCOL_VERSION, PoolReason } from "../../../protocol/mod.js";
import { PoolConfigError, PoolRejection } from "../../errors.js";
import { type Logger, componentLogger } from "../../logger.js";
import { checkBuckets, planExecutions } from "../buckets.js";
import {
  CHANNEL_OPTIONS, type Bucket, type DescribeReply, type DrainReply, type DrainRequest, type ForwardChunk, type ForwardRequest,
  type HealthReply, type LoadReply, type LoadRequest, type ModelInfo, type ServingState, poolService,
} from "../proto.js";
import { toStatus } from "../status.js";
import { type Cores, startCores } from "./cores.js";
import { runForward } from "./forward.js";
import { type ModelSource, loadModel } from "./load.js";
import { type ServedModel, checkForward } from "./validate.js";

export interface PoolWorkerOptions {
  readonly buckets: readonly Bucket[];
  /** Cores (one worker thread each; default 2, as an Inferentia2 chip). */
  readonly cores?: number;
  readonly host?: string;
  /** 0 (default): the OS picks a free port. */
  readonly port?: number;
  readonly name?: string;
  /** Emulated compiler time added to every model load (ms, default 0). */
  readonly compileMs?: number;
  /** Requests held at once, running and queued (default 2 per core). */
  readonly maxInFlight?: number;
  /** Rows in one request (default 1024). */
  readonly maxRows?: number;
  /** Default drain deadline (ms, default 120 000: an EC2 spot notice). */
  readonly drainMs?: number;
  /** The model to load at start; without it the worker waits for a Load call. */
  readonly model?: ModelSource;
  readonly log?: Logger;
  /** Wraps the service implementation before it is served (tests build broken workers with it). */
  readonly wrapService?: (impl: grpc.UntypedServiceImplementation) => grpc.UntypedServiceImplementation;
}

export interface PoolWorker {
  readonly address: string;
  readonly port: number;
  state(): ServingState;
  /** Resolves when the worker serves a model (after the compile). */
  ready(): Promise<void>;
  describe(): DescribeReply;
  /** Starts draining (as SIGTERM does); `closed` resolves when it is done. */
  drain(deadlineMs?: number, reason?: string): DrainReply;
  /** Resolves when the worker has shut down: undefined after a drain or close, the error after a fatal failure. */
  readonly closed: Promise<Error | undefined>;
  /** Stops at once (in-flight calls are cancelled). */
  close(): Promise<void>;
}

type Call<Req, Res> = grpc.ServerWritableStream<Req, Res>;

export async function startPoolWorker(o: PoolWorkerOptions): Promise<PoolWorker> {
  const buckets = checkBuckets(o.buckets);
  const coreCount = o.cores ?? 2;
  if (!Number.isInteger(coreCount) || coreCount < 1 || coreCount > 64) throw new PoolConfigError(`cores must be an integer in 1..64, got ${coreCount}`);
  const maxInFlight = o.maxInFlight ?? coreCount * 2;
  if (!Number.isInteger(maxInFlight) || maxInFlight < coreCount) throw new PoolConfigError(`max in flight must be an integer >= the cores (${coreCount}), got ${maxInFlight}`);
  const maxRows = o.maxRows ?? 1024;
  const drainDefault = o.drainMs ?? 120_000;
  const log = o.log ?? componentLogger("pool-worker");
  const t0 = performance.now();
  const clock = () => performance.now() - t0;

  let state: ServingState = "STARTING";
  let model: ServedModel | null = null;
  let inFlight = 0;
  let compileEndsAt = 0;
  let drainEndsAt = 0;
  let name = o.name ?? "";
  let finished = false;
  const watchers = new Set<Call<unknown, HealthReply>>();
  const idle: (() => void)[] = [];
  let resolveClosed!: (e: Error | undefined) => void;
  const closed = new Promise<Error | undefined>((r) => (resolveClosed = r));
  let readyWaiters: (() => void)[] = [];
  let loads: Promise<unknown> = Promise.resolve();

  const server = new grpc.Server(CHANNEL_OPTIONS);
  const cores: Cores = startCores(coreCount, (err) => void shutdown(err));

  const health = (): HealthReply => ({
    state,
    ready: state === "SERVING",
    modelId: model?.id ?? "",
    modelDigest: model?.digest ?? "",
    inFlight,
    busyCores: cores.busy(),
    compileRemainingMs: state === "COMPILING" ? Math.max(0, compileEndsAt - clock()) : 0,
    drainRemainingMs: state === "DRAINING" ? Math.max(0, drainEndsAt - clock()) : 0,
  });
  const announce = () => {
    const h = health();
    for (const w of watchers) if (!w.cancelled) w.write(h);
  };
  const setState = (s: ServingState) => {
    if (state === s) return;
    state = s;
    log.info({ worker: name, state: s, model: model?.id }, "pool worker state");
    if (s === "SERVING") for (const r of readyWaiters.splice(0)) r();
    announce();
  };
  const settle = () => {
    announce();
    if (inFlight === 0) for (const f of idle.splice(0)) f();
  };
  const whenIdle = () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => idle.push(r)));

  const modelInfo = (): ModelInfo | null =>
    model ? { id: model.id, digest: model.digest, arch: model.shape.arch, vocabSize: model.shape.vocabSize, nLayer: model.shape.nLayer, nEmbd: model.shape.nEmbd, maxSeqLen: model.shape.maxSeqLen } : null;

  const describe = (): DescribeReply => ({
    protocolVersion: POOL_PROTOCOL_VERSION,
    worker: name,
    backend: "troupe-cpu",
    model: modelInfo(),
    computeDtype: "f32",
    outputDtypes: ["f32"],
    buckets: buckets.map((b) => ({ ...b })),
    cores: coreCount,
    maxInFlight,
    maxRows,
  });

  /** Loads and compiles a model; in-flight requests finish on the old one first. */
  const load = (src: ModelSource): Promise<LoadReply> => {
    const p = loads.then(async (): Promise<LoadReply> => {
      if (state === "DRAINING") throw new PoolRejection(PoolReason.draining, "the worker is draining; it loads nothing more");
      const t = performance.now();
      const resolved = await loadModel(src);
      try {
        if (model && model.digest === resolved.digest) {
          model = { ...model, id: src.id ?? model.id };
          announce();
          return { model: modelInfo(), alreadyLoaded: true, compileMs: 0 };
        }
        const prev = state;
        setState("COMPILING");
        compileEndsAt = clock() + (o.compileMs ?? 0) + 1000;
        await whenIdle();
        try {
          const shape = await cores.load(resolved.path);
          checkBuckets(buckets, shape.maxSeqLen);
          await cores.compile(buckets);
          if (o.compileMs) await new Promise((r) => setTimeout(r, o.compileMs));
          model = { id: src.id ?? resolved.digest.slice(0, 16), digest: resolved.digest, shape };
        } catch (err) {
          if (state === "COMPILING") setState(model ? prev : "STARTING");
          if (err instanceof PoolRejection) throw err;
          throw new PoolRejection(PoolReason.loadFailed, `loading ${resolved.path} failed: ${(err as Error).message}`, {}, { cause: err });
        }
        if (state === "COMPILING") setState("SERVING");
        return { model: modelInfo(), alreadyLoaded: false, compileMs: performance.now() - t };
      } finally {
        resolved.cleanup();
      }
    });
    loads = p.catch(() => undefined);
    return p;
  };

  const forward = (call: Call<ForwardRequest, ForwardChunk>) => {
    void (async () => {
      let held = false;
      const ac = new AbortController();
      call.on("cancelled", () => ac.abort(new Error("cancelled by the caller")));
      let core;
      try {
        if (state === "DRAINING") throw new PoolRejection(PoolReason.draining, "the worker is draining (spot notice): it takes no new work", { drain_remaining_ms: Math.round(health().drainRemainingMs) });
        if (state !== "SERVING" || !model) {
          throw new PoolRejection(PoolReason.notReady, state === "COMPILING" ? "the worker is compiling its model" : "the worker has no model yet", { state, compile_remaining_ms: Math.round(health().compileRemainingMs) });
        }
        const served = model;
        const req = checkForward(call.request, served, { buckets, maxRows });
        const plans = planExecutions(buckets, req.lengths);
        if (!plans) throw new PoolRejection(PoolReason.sequenceTooLong, "a row is longer than every bucket");
        if (inFlight >= maxInFlight) throw new PoolRejection(PoolReason.overloaded, `the worker holds ${inFlight} requests, its limit (max_in_flight ${maxInFlight})`, { in_flight: inFlight, max_in_flight: maxInFlight });
        inFlight++;
        held = true;
        announce();
        const acceptedAt = clock();
        core = await cores.acquire(ac.signal);
        announce();
        await runForward(req, plans, core, { shape: served.shape, clock, acceptedAt, signal: ac.signal }, (c) => {
          if (!call.cancelled) call.write(c);
        });
        call.end();
      } catch (err) {
        if (!call.cancelled) call.emit("error", toStatus(err));
      } finally {
        core?.release();
        if (held) inFlight--;
        settle();
      }
    })();
  };

  const unary = <Req, Res>(fn: (req: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> => (call, cb) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then((r) => cb(null, r), (err: unknown) => cb(toStatus(err)));
  };

  let impl: grpc.UntypedServiceImplementation = {
    Describe: unary(() => describe()),
    Forward: forward,
    Health: unary(() => health()),
    Watch: (call: Call<unknown, HealthReply>) => {
      watchers.add(call);
      call.on("cancelled", () => watchers.delete(call));
      call.write(health());
      if (finished) call.end();
    },
    Drain: unary((req: DrainRequest) => drain(req.deadlineMs || drainDefault, req.reason)),
    Load: unary((req: LoadRequest) => {
      if (req.source === "path" && req.path) return load({ id: req.modelId || undefined, digest: req.digest || undefined, path: req.path });
      if (req.source === "objectStore" && req.objectStore) return load({ id: req.modelId || undefined, digest: req.digest || undefined, objectStore: req.objectStore });
      throw new PoolRejection(PoolReason.badSource, "Load needs a source: path or object_store");
    }),
  };
  if (o.wrapService) impl = o.wrapService(impl);
  server.addService(poolService().service, impl);

  const host = o.host ?? "127.0.0.1";
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${o.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(new PoolConfigError(`cannot listen on ${host}:${o.port ?? 0}: ${err.message}`, { cause: err })) : resolve(p))),
  );
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  name ||= `${hostname()}:${port}`;

  async function shutdown(err?: Error): Promise<void> {
    if (finished) return;
    finished = true;
    if (err) log.error({ worker: name, err: err.message }, "pool worker failed");
    for (const w of watchers) if (!w.cancelled) w.end();
    watchers.clear();
    await new Promise<void>((r) => {
      const force = setTimeout(() => {
        server.forceShutdown();
        r();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(force);
        r();
      });
    });
    await cores.close();
    resolveClosed(err);
  }

  function drain(deadlineMs: number, reason = "drain notice"): DrainReply {
    if (state !== "DRAINING") {
      log.info({ worker: name, reason, held: inFlight, deadlineMs }, "draining");
      drainEndsAt = clock() + deadlineMs;
      setState("DRAINING");
      const timer = setTimeout(() => {
        server.forceShutdown(); // what is still held is cancelled: the callers retry elsewhere
        void shutdown();
      }, deadlineMs);
      void whenIdle().then(() => {
        clearTimeout(timer);
        // let the Drain reply and the last chunks leave before the port closes
        setImmediate(() => void shutdown());
      });
    }
    return { held: inFlight, deadlineMs: Math.max(0, Math.round(drainEndsAt - clock())) };
  }

  const handle: PoolWorker = {
    address,
    port,
    state: () => state,
    ready: () =>
      state === "SERVING"
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            readyWaiters.push(resolve);
            void closed.then((err) => reject(err ?? new PoolConfigError("the worker closed before it served a model")));
          }),
    describe,
    drain: (ms, reason) => drain(ms ?? drainDefault, reason),
    closed,
    close: () => shutdown(),
  };
  if (o.model) {
    load(o.model).catch((err: unknown) => void shutdown(err instanceof Error ? err : new Error(String(err))));
  }
  void closed.then(() => (readyWaiters = []));
  return handle;
}
