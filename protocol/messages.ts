// Message kinds: a kind names a body schema and, for calls, a reply schema. A registry maps
// the kinds a receiver understands to their schemas, so validating a decoded envelope is one
// lookup and one parse. Together the kinds form a discriminated union on `kind`.
import { UnknownKindError } from "./errors.js";
import type { Envelope } from "./envelope.js";
import type { Infer, Schema } from "./schema.js";

export interface MessageDef<K extends string = string, B = unknown, R = unknown> {
  readonly kind: K;
  readonly body: Schema<B>;
  /** schema of the reply to a call; undefined for messages that are never called */
  readonly reply: Schema<R> | undefined;
}

export type BodyOf<M> = M extends MessageDef<string, infer B, unknown> ? B : never;
export type ReplyOf<M> = M extends MessageDef<string, unknown, infer R> ? R : never;
/** The discriminated union of envelopes for a list of message definitions. */
export type EnvelopeOf<Ms extends readonly MessageDef[]> = {
  [I in keyof Ms]: Ms[I] extends MessageDef<infer K, infer B, unknown> ? Envelope<B> & { kind: K } : never;
}[number];

export function defineMessage<const K extends string, BS extends Schema<unknown>, RS extends Schema<unknown> | undefined = undefined>(
  kind: K,
  body: BS,
  reply?: RS,
): MessageDef<K, Infer<BS>, RS extends Schema<unknown> ? Infer<RS> : void> {
  if (typeof kind !== "string" || kind.length === 0 || kind.length > 128) {
    throw new TypeError(`message kind must be a string of 1-128 characters, got ${JSON.stringify(kind)}`);
  }
  return Object.freeze({ kind, body, reply }) as unknown as MessageDef<K, Infer<BS>, RS extends Schema<unknown> ? Infer<RS> : void>;
}

export interface MessageRegistry {
  get(kind: string): MessageDef | undefined;
  has(kind: string): boolean;
  add(def: MessageDef): void;
  kinds(): string[];
}

export function createRegistry(defs: Iterable<MessageDef> = []): MessageRegistry {
  const map = new Map<string, MessageDef>();
  const registry: MessageRegistry = {
    get: (kind) => map.get(kind),
    has: (kind) => map.has(kind),
    add(def) {
      const prev = map.get(def.kind);
      if (prev && prev !== def) throw new TypeError(`message kind ${JSON.stringify(def.kind)} is defined twice`);
      map.set(def.kind, def);
    },
    kinds: () => [...map.keys()],
  };
  for (const d of defs) registry.add(d);
  return registry;
}

/** Validates an envelope's body against its kind's schema; throws a DecodeError subclass. */
export function parseBody(env: Envelope, registry: MessageRegistry): MessageDef {
  const def = registry.get(env.kind);
  if (!def) throw new UnknownKindError(env.kind);
  def.body.parse(env.body, env.kind);
  return def;
}
