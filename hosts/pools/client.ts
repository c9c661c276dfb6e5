// A typed client for one pool worker (HOST:PORT): each call of the service as a promise (or a
// subscription for Watch); every failure comes back as a PoolCallError carrying the status
// code, the ErrorInfo reason and metadata the worker sent, and the worker's address.
import * as grpc from "@grpc/grpc-js";
import { PoolConfigError } from "../errors.js";
import {
  CHANNEL_OPTIONS, type DescribeReply, type DrainReply, type DrainRequest, type ForwardChunk, type ForwardRequest, type HealthReply,
  type LoadReply, type LoadRequest, poolService,
} from "./proto.js";
import { callError } from "./status.js";

export interface WorkerClient {
  readonly address: string;
  describe(timeoutMs?: number): Promise<DescribeReply>;
  health(timeoutMs?: number): Promise<HealthReply>;
  /** The whole reply; `onChunk` sees each chunk as it arrives (rows already answered survive a failure). */
  forward(req: ForwardRequest, o?: { deadline?: number; onChunk?: (c: ForwardChunk) => void }): Promise<ForwardChunk[]>;
  /** Health now and at every change; `onEnd` once the stream stops (null: the worker ended it). */
  watch(onHealth: (h: HealthReply) => void, onEnd: (err: Error | null) => void): { cancel(): void };
  drain(req: Partial<DrainRequest>, timeoutMs?: number): Promise<DrainReply>;
  load(req: LoadRequest, timeoutMs?: number): Promise<LoadReply>;
  close(): void;
}

/** Checks HOST:PORT (IPv6 hosts in brackets). */
export function checkAddress(address: string): string {
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(address) || Number(address.slice(address.lastIndexOf(":") + 1)) > 65535) {
    throw new PoolConfigError(`worker address ${JSON.stringify(address)} is not HOST:PORT`);
  }
  return address;
}

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;
type Stream<Req, Res> = (req: Req, md: grpc.Metadata, o: grpc.CallOptions) => grpc.ClientReadableStream<Res>;

export function workerClient(address: string): WorkerClient {
  const { Client } = poolService();
  const raw = new Client(checkAddress(address), grpc.credentials.createInsecure(), {
    ...CHANNEL_OPTIONS,
    // a worker that comes back is found within a second or two
    "grpc.initial_reconnect_backoff_ms": 200,
    "grpc.max_reconnect_backoff_ms": 2000,
  }) as unknown as Record<string, unknown>;
  const method = <F>(name: string) => (raw[name] as F & { bind(t: unknown): F }).bind(raw);

  const unary = <Req, Res>(name: string, req: Req, timeoutMs: number): Promise<Res> =>
    new Promise((resolve, reject) => {
      method<Unary<Req, Res>>(name)(req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(callError(err, address)) : resolve(res!)));
    });

  return {
    address,
    describe: (timeoutMs = 10_000) => unary("Describe", {}, timeoutMs),
    health: (timeoutMs = 5_000) => unary("Health", {}, timeoutMs),
    drain: (req, timeoutMs = 10_000) => unary("Drain", { deadlineMs: 0, reason: "", ...req }, timeoutMs),
    load: (req, timeoutMs = 600_000) => unary("Load", req, timeoutMs),
    forward(req, o = {}) {
      return new Promise((resolve, reject) => {
        const chunks: ForwardChunk[] = [];
        const call = method<Stream<ForwardRequest, ForwardChunk>>("Forward")(req, new grpc.Metadata(), o.deadline ? { deadline: o.deadline } : {});
        call.on("data", (c: ForwardChunk) => {
          chunks.push(c);
          o.onChunk?.(c);
        });
        call.on("error", (err) => reject(callError(err, address)));
        call.on("end", () => resolve(chunks));
      });
    },
    watch(onHealth, onEnd) {
      const call = method<Stream<object, HealthReply>>("Watch")({}, new grpc.Metadata(), {});
      let ended = false;
      const end = (err: Error | null) => {
        if (ended) return;
        ended = true;
        onEnd(err);
      };
      call.on("data", onHealth);
      call.on("error", (err) => end(callError(err, address)));
      call.on("end", () => end(null));
      return {
        cancel() {
          ended = true;
          call.cancel();
        },
      };
    },
    close: () => (raw as unknown as grpc.Client).close(),
  };
}
