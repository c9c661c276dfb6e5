// Declaring an actor: its role, typed handlers, lifecycle hooks. A module that default-exports
// defineActor(...) can be run by the supervisor in its own process.
//
//   export default defineActor({
//     role: "squarer",
//     config: t.object({ factor: t.int() }),
//     handlers: [on(Square, (body, ctx) => ({ n2: body.n * body.n * ctx.config.factor }))],
//     onStart: async (ctx) => { ... },   // subscriptions exist; messages wait until it returns
//     onStop: async (ctx) => { ... },    // after the mailbox drained
//   });
import type { NatsConnection } from "@nats-io/transport-node";
import type { Logger, Objects, RunState, WorkQueue, WorkQueueOptions } from "../../hosts/mod.js";
import type { BlobStore, BodyOf, Codec, Envelope, MessageDef, ReplyOf, Schema } from "../../protocol/mod.js";
import { checkToken } from "../../protocol/mod.js";
import { ActorDefinitionError } from "../errors.js";
import type { Peer } from "./peer.js";

export interface ActorContext<Config = unknown> extends Peer {
  readonly role: string;
  readonly id: string;
  readonly host: string;
  /** troupe.<run>.<role>.<id> */
  readonly address: string;
  readonly config: Config;
  /** pino child logger with {run, host, actor} */
  readonly log: Logger;
  /** the raw connection, for what the runtime does not wrap */
  readonly nc: NatsConnection;
  readonly codec: Codec;
  /** large-tensor store (the run's Object Store bucket, opened on first use) */
  readonly blobs: BlobStore;
  /** aborted when the actor starts stopping: long work should watch it */
  readonly signal: AbortSignal;
  /** a durable work queue of this run (see hosts/nats/workqueue.ts) */
  workQueue<M extends MessageDef>(def: M, opts?: Omit<WorkQueueOptions, "run">): Promise<WorkQueue<M>>;
  /** run state in KV with compare-and-set (bucket troupe_<run>_<bucket>) */
  runState<T>(bucket: string, schema?: Schema<T>): Promise<RunState<T>>;
  /** an Object Store bucket of this run (checkpoints, data sets) */
  objects(bucket: string): Promise<Objects>;
  /** asks the runtime to stop this actor gracefully (in a child process: exit code 0) */
  stop(reason?: string): void;
}

/** The context a handler gets: calls made through it continue the message's trace. */
export interface HandlerContext<Config = unknown> extends ActorContext<Config> {
  readonly envelope: Envelope;
}

export interface CallHandler<Config = unknown> {
  readonly type: "call";
  readonly def: MessageDef;
  handle(body: unknown, ctx: HandlerContext<Config>): unknown;
}
export interface StreamHandler<Config = unknown> {
  readonly type: "stream";
  readonly def: MessageDef;
  handle(body: unknown, ctx: HandlerContext<Config>): AsyncIterable<unknown>;
}
export type Handler<Config = unknown> = CallHandler<Config> | StreamHandler<Config>;

/** Handles one kind; the return value is the reply of a call (ignored for broadcasts). */
export function on<M extends MessageDef, Config = unknown>(
  def: M,
  handle: (body: BodyOf<M>, ctx: HandlerContext<Config>) => ReplyOf<M> | Promise<ReplyOf<M>>,
): Handler<Config> {
  return { type: "call", def, handle: handle as CallHandler<Config>["handle"] };
}

/** Handles one kind with a stream of replies (each validated by the kind's reply schema). */
export function onStream<M extends MessageDef, Config = unknown>(
  def: M,
  handle: (body: BodyOf<M>, ctx: HandlerContext<Config>) => AsyncIterable<ReplyOf<M>>,
): Handler<Config> {
  return { type: "stream", def, handle: handle as StreamHandler<Config>["handle"] };
}

export interface ActorDefinition<Config = unknown> {
  readonly role: string;
  readonly handlers: readonly Handler<NoInfer<Config>>[];
  /** validates the config the supervisor passes in; without it config is `unknown` */
  readonly config?: Schema<Config>;
  onStart?(ctx: ActorContext<Config>): void | Promise<void>;
  onStop?(ctx: ActorContext<Config>): void | Promise<void>;
  /** messages handled at once (default 1: one at a time, in arrival order) */
  readonly concurrency?: number;
  /** largest message accepted (default 8 MiB) */
  readonly maxMessageBytes?: number;
}

const DEFINITION = Symbol.for("troupe.actorDefinition");

export function defineActor<Config = unknown>(def: ActorDefinition<Config>): ActorDefinition<Config> {
  try {
    checkToken("role", def.role);
  } catch (err) {
    throw new ActorDefinitionError(`invalid actor role: ${(err as Error).message}`, { cause: err });
  }
  const kinds = new Set<string>();
  for (const h of def.handlers) {
    if (h.def.kind.startsWith("sys.")) throw new ActorDefinitionError(`${def.role}: kind ${h.def.kind} is reserved for the runtime`);
    if (kinds.has(h.def.kind)) throw new ActorDefinitionError(`${def.role}: two handlers for ${h.def.kind}`);
    kinds.add(h.def.kind);
  }
  if (def.concurrency !== undefined && (!Number.isInteger(def.concurrency) || def.concurrency < 1)) {
    throw new ActorDefinitionError(`${def.role}: concurrency must be a positive integer, got ${def.concurrency}`);
  }
  return Object.freeze({ ...def, [DEFINITION]: true });
}

export function isActorDefinition(value: unknown): value is ActorDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[DEFINITION] === true;
}
