// Message kinds of the runtime itself: replies, streams, heartbeats, supervision, and the
// requests every actor answers (ping, stats). Application kinds are defined next to the
// actors that use them, with defineMessage().
import { defineMessage } from "./messages.js";
import { SchemaError } from "./errors.js";
import { type Infer, type Schema, t } from "./schema.js";

export const RemoteErrorInfo = t.object({
  name: t.string({ maxLength: 128 }),
  code: t.string({ maxLength: 64 }),
  message: t.string({ maxLength: 8192 }),
});
export type RemoteErrorInfo = Infer<typeof RemoteErrorInfo>;

export type ReplyBody = { ok: true; value: unknown } | { ok: false; error: RemoteErrorInfo };

const ReplyBodySchema: Schema<ReplyBody> = {
  describe: "reply",
  parse(v, path = "body") {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new SchemaError(path, "expected an object");
    const o = v as Record<string, unknown>;
    if (o.ok === true) return o as ReplyBody;
    if (o.ok === false) {
      RemoteErrorInfo.parse(o.error, `${path}.error`);
      return o as ReplyBody;
    }
    throw new SchemaError(`${path}.ok`, "expected true or false");
  },
};

/** The reply to a call: a value, or the error the handler (or the receiver's decoder) raised. */
export const Reply = defineMessage("sys.reply", ReplyBodySchema);

/** One item of a streamed reply, in order; `i` counts from 0. */
export const StreamItem = defineMessage("sys.stream.item", t.object({ i: t.int({ min: 0 }), value: t.unknown() }));
/** The end of a streamed reply: how many items were sent. */
export const StreamEnd = defineMessage("sys.stream.end", t.object({ count: t.int({ min: 0 }) }));
/** A streamed reply that failed after `count` items. */
export const StreamError = defineMessage("sys.stream.error", t.object({ count: t.int({ min: 0 }), error: RemoteErrorInfo }));

export const PingReply = t.object({
  role: t.string(),
  id: t.string(),
  host: t.string(),
  pid: t.int(),
  uptimeMs: t.number(),
});
export const Ping = defineMessage("sys.ping", t.unknown(), PingReply);

export const MailboxStats = t.object({
  received: t.int({ min: 0 }),
  handled: t.int({ min: 0 }),
  rejected: t.int({ min: 0 }),
  rejectedByCode: t.record(t.int({ min: 0 })),
  handlerErrors: t.int({ min: 0 }),
  inflight: t.int({ min: 0 }),
  queued: t.int({ min: 0 }),
});
export type MailboxStats = Infer<typeof MailboxStats>;
export const Stats = defineMessage("sys.stats", t.unknown(), MailboxStats);

export const Heartbeat = defineMessage(
  "sys.heartbeat",
  t.object({
    role: t.string(),
    id: t.string(),
    host: t.string(),
    pid: t.int(),
    uptimeMs: t.number(),
    rssBytes: t.number(),
    stats: MailboxStats,
  }),
);
export type HeartbeatBody = Infer<typeof Heartbeat.body>;

export const SupervisionEventType = [
  "started", // a child process is up and its actor is ready
  "exited", // a child process ended (normally or not)
  "restarting", // a restart is scheduled after delayMs
  "escalated", // restart intensity exceeded: the supervisor gives up and tells its owner
  "stopped", // the supervisor stopped a child on request
] as const;
export type SupervisionEventType = (typeof SupervisionEventType)[number];

export const SupervisionEvent = defineMessage(
  "sys.supervision",
  t.object({
    event: t.oneOf(SupervisionEventType),
    host: t.string(),
    role: t.string(),
    id: t.string(),
    pid: t.optional(t.int()),
    /** process exit code, or null when killed by a signal */
    code: t.optional(t.int()),
    signal: t.optional(t.string()),
    /** restarts of this child so far */
    restarts: t.int({ min: 0 }),
    delayMs: t.optional(t.number()),
    /** for "started" after a restart: milliseconds from the previous exit to ready */
    downMs: t.optional(t.number()),
    reason: t.optional(t.string()),
  }),
);
export type SupervisionEventBody = Infer<typeof SupervisionEvent.body>;

export const SYSTEM_MESSAGES = [Reply, StreamItem, StreamEnd, StreamError, Ping, Stats, Heartbeat, SupervisionEvent] as const;
