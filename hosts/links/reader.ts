// Turns a byte stream into frames. Two ways to drive it, same state machine:
//   region()/advance(n)  the socket reads straight into region() (net.Socket `onread`), so an
//                        attachment lands in its destination without a copy;
//   feed(chunk)          socket 'data' chunks are copied into the regions (accepted sockets,
//                        which Node does not let us give a read buffer).
// Each region is exactly what the current part still needs (header, envelope, attachment),
// so a read never crosses into the next frame.
import type { Codec, Envelope } from "../../protocol/mod.js";
import { LinkProtocolError } from "../errors.js";
import { FRAME_HEADER_BYTES, readFrameHeader } from "./frame.js";

export interface ReaderEvents {
  /** an attachment's destination (exactly `bytes` long), or undefined to allocate one */
  sink(env: Envelope, bytes: number): Uint8Array | undefined;
  /** a whole frame, in stream order */
  frame(env: Envelope, attachment: Uint8Array | null): void;
  /** a frame whose envelope did not decode: counted and skipped (its attachment is discarded) */
  reject(err: Error): void;
}

const SKIP_BYTES = 1 << 20;

export class FrameReader {
  private part: "header" | "envelope" | "attachment" = "header";
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private target: Uint8Array = this.header;
  private filled = 0;
  private env: Envelope | null = null;
  private attachmentBytes = 0;
  private skipped = 0;
  private skipBuffer: Uint8Array | null = null;
  /** set once the stream is unusable (a bad header): nothing more is read */
  broken: Error | null = null;

  constructor(
    private readonly codec: Codec,
    private readonly events: ReaderEvents,
  ) {}

  /** Where the next bytes go (never empty). */
  region(): Uint8Array {
    return this.target.subarray(this.filled);
  }

  /** `n` bytes were written into region(). */
  advance(n: number): void {
    this.filled += n;
    if (this.filled === this.target.byteLength) this.complete();
  }

  /** Copies a chunk through the state machine. */
  feed(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.byteLength && this.broken === null) {
      const r = this.region();
      const n = Math.min(r.byteLength, chunk.byteLength - at);
      r.set(chunk.subarray(at, at + n));
      at += n;
      this.advance(n);
    }
  }

  private complete(): void {
    if (this.part === "header") {
      let h;
      try {
        h = readFrameHeader(this.header, this.codec.maxBytes);
      } catch (err) {
        this.broken = err as Error;
        throw err;
      }
      this.attachmentBytes = h.attachmentBytes;
      this.part = "envelope";
      this.target = new Uint8Array(h.envelopeBytes);
      this.filled = 0;
      return;
    }
    if (this.part === "envelope") {
      const bytes = this.target;
      this.env = null;
      let failure: Error | null = null;
      try {
        this.env = this.codec.decode(bytes);
      } catch (err) {
        failure = err as Error;
      }
      if (failure) this.events.reject(new LinkProtocolError(`a frame's envelope did not decode: ${failure.message}`, { cause: failure }));
      if (this.attachmentBytes === 0) {
        if (this.env) this.events.frame(this.env, null);
        return this.restart();
      }
      this.part = "attachment";
      this.filled = 0;
      if (!this.env) {
        // skip the attachment of an undecodable frame through a bounded scratch buffer
        this.skipped = 0;
        this.skipBuffer ??= new Uint8Array(SKIP_BYTES);
        this.target = this.skipBuffer.subarray(0, Math.min(SKIP_BYTES, this.attachmentBytes));
        return;
      }
      const dest = this.events.sink(this.env, this.attachmentBytes);
      if (dest !== undefined && dest.byteLength !== this.attachmentBytes) {
        throw new LinkProtocolError(`the sink for ${this.env.kind} gave ${dest.byteLength} bytes for a ${this.attachmentBytes}-byte attachment`);
      }
      this.target = dest ?? new Uint8Array(this.attachmentBytes);
      return;
    }
    // attachment
    if (!this.env) {
      this.skipped += this.target.byteLength;
      if (this.skipped < this.attachmentBytes) {
        this.target = this.skipBuffer!.subarray(0, Math.min(SKIP_BYTES, this.attachmentBytes - this.skipped));
        this.filled = 0;
        return;
      }
      return this.restart();
    }
    const env = this.env;
    const attachment = this.target;
    this.restart();
    this.events.frame(env, attachment);
  }

  private restart(): void {
    this.part = "header";
    this.target = this.header;
    this.filled = 0;
    this.env = null;
    this.attachmentBytes = 0;
  }
}
