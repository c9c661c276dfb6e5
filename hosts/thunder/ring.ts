// Ring all-reduce (sum, in place) over links: reduce-scatter then all-gather, pipelined by
// segments so the reduction of one segment overlaps the transfer of the next and the
// all-gather of a segment starts as soon as it is reduced.
//
// Legend: N ranks, r this rank, n elements, chunk c = [⌊cn/N⌋, ⌊(c+1)n/N⌋), segments of
// `segmentBytes` within a chunk. Frames go right (r → r+1) and come from the left.
//   reduce-scatter  rank r sends its chunk r (step 0). A rank receiving rs(s, c, k) adds it
//                   into its own chunk c segment k and, while s < N−2, sends the sum on as
//                   rs(s+1, c, k). At s = N−2 the receiver (r = c+1… i.e. rank c−1) owns the
//                   fully reduced segment.
//   all-gather      the owner sends ag(0, c, k); a rank receiving ag(s, c, k) writes it into
//                   chunk c and, while s < N−2, sends it on.
// Every chunk is reduced once, by its owner, and copied everywhere else, so every rank ends
// with the same bits. With compression (f16/bf16) the owner rounds its own copy through the
// same encoding before sending it, so the same holds.
//
// A segment is overwritten (all-gather) only after the rank it was sent to has used it, so
// sends read the caller's buffer without a copy. A collective is done when every all-gather
// segment arrived and everything this rank queued is written out; the caller may then touch
// the buffer. A lost neighbour (link closed, heartbeats stopped) or a bad frame fails the
// collective and every later one with a GroupError, and the ring tells both neighbours
// (thunder.abort) before closing, so a failure anywhere reaches every rank.
import { addInto, decodeHalf, encodeHalf } from "../../kernels/mod.js";
import type { Envelope } from "../../protocol/mod.js";
import { GroupError, LinkProtocolError } from "../errors.js";
import type { Link } from "../links/mod.js";

export const Compression = { none: "none", f16: "f16", bf16: "bf16" } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

const SEG = "thunder.seg";
const ABORT = "thunder.abort";

export interface RingOptions {
  readonly rank: number;
  readonly world: number;
  /** this rank sends on it */
  readonly toRight: Link;
  /** this rank receives on it */
  readonly fromLeft: Link;
  /** f32 bytes per segment (default 1 MiB) */
  readonly segmentBytes?: number;
}

export interface RingStats {
  collectives: number;
  elements: number;
  framesIn: number;
  framesOut: number;
  /** frames that broke the ring's protocol (each fails its collective) */
  protocolErrors: number;
}

export interface Ring {
  readonly rank: number;
  readonly world: number;
  readonly stats: Readonly<RingStats>;
  /** the error that broke the ring, or null */
  readonly error: Error | null;
  /** resolves (never rejects) with the error once the ring breaks */
  readonly failed: Promise<Error>;
  /** sums `buf` across the ring, in place; every rank must call it with the same length */
  allReduce(buf: Float32Array, compression?: Compression): Promise<void>;
  /** stops: pending collectives fail with `reason`; both neighbours are told */
  abort(reason: string, lost?: readonly number[]): void;
  /**
   * Ends the ring after its last collective: the links are closed politely (what was sent still
   * arrives; neighbours see a clean close, not an abort). Resolves once both connections are
   * closed, or after `timeoutMs`.
   */
  close(reason: string, timeoutMs?: number): Promise<void>;
}

interface SegBody {
  c: number; // collective number
  ph: 0 | 1; // 0 reduce-scatter, 1 all-gather
  s: number; // ring step
  ch: number; // chunk
  k: number; // segment in the chunk
  dt: "f32" | "f16" | "bf16";
  n: number; // elements
}

interface Active {
  readonly c: number;
  readonly buf: Float32Array;
  readonly comp: Compression;
  readonly seen: Uint8Array; // per (phase, chunk, segment): 1 once received
  readonly maxSegs: number;
  /** frames still to receive: reduce-scatter and all-gather segments */
  rsLeft: number;
  agLeft: number;
  done(err?: Error): void;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

class RingImpl implements Ring {
  readonly stats: RingStats = { collectives: 0, elements: 0, framesIn: 0, framesOut: 0, protocolErrors: 0 };
  error: Error | null = null;
  readonly failed: Promise<Error>;
  private resolveFailed!: (e: Error) => void;
  readonly rank: number;
  readonly world: number;
  private readonly segElems: number;
  private next = 0;
  private active: Active | null = null;
  private early: [SegBody, Uint8Array][] = [];
  private scratch = new Float32Array(0);
  private readonly right: Link;
  private readonly left: Link;

  constructor(o: RingOptions) {
    this.failed = new Promise((r) => (this.resolveFailed = r));
    this.rank = o.rank;
    this.world = o.world;
    this.right = o.toRight;
    this.left = o.fromLeft;
    this.segElems = Math.max(1024, Math.floor((o.segmentBytes ?? 1 << 20) / 4));
    const leftRank = mod(this.rank - 1, this.world);
    const rightRank = mod(this.rank + 1, this.world);
    this.left.handle({
      sink: (env, bytes) => this.sink(env, bytes),
      frame: (env, att) => this.onFrame(env, att),
      reject: (err) => this.protocolError(err),
    });
    // the right neighbour sends nothing on our outgoing link but aborts
    this.right.handle({ frame: (env) => this.onFrame(env, null), reject: (err) => this.protocolError(err) });
    void this.left.closed.then((e) => this.lost(leftRank, e));
    void this.right.closed.then((e) => this.lost(rightRank, e));
  }

  private lost(rank: number, cause: Error | undefined): void {
    if (this.error) return;
    this.fail(new GroupError(`rank ${this.rank} lost its link to rank ${rank}: ${cause?.message ?? "closed"}`, [rank], { cause }));
  }

  private protocolError(err: Error): void {
    this.stats.protocolErrors++;
    this.fail(new GroupError(`rank ${this.rank}: ${err.message}`, [], { cause: err }));
  }

  private fail(err: Error, lost: readonly number[] = err instanceof GroupError ? err.lost : []): void {
    if (this.error) return;
    this.error = err;
    this.resolveFailed(err);
    for (const l of [this.left, this.right]) {
      l.send(ABORT, { reason: err.message.slice(0, 2000), lost: [...lost] }).catch(() => undefined);
      l.close("the ring stopped");
    }
    this.active?.done(err);
    this.active = null;
    this.early = [];
  }

  abort(reason: string, lost: readonly number[] = []): void {
    this.fail(new GroupError(reason, lost), lost);
  }

  async close(reason: string, timeoutMs = 2000): Promise<void> {
    if (!this.error) {
      const err = new GroupError(`the ring was closed (${reason})`);
      this.error = err;
      this.resolveFailed(err);
      this.active?.done(err);
      this.active = null;
      this.early = [];
      for (const l of [this.left, this.right]) l.close(reason);
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all([this.left.ended(), this.right.ended()]),
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  private chunkBounds(n: number, ch: number): [number, number] {
    return [Math.floor((ch * n) / this.world), Math.floor(((ch + 1) * n) / this.world)];
  }
  private segments(n: number, ch: number): number {
    const [a, b] = this.chunkBounds(n, ch);
    return Math.ceil((b - a) / this.segElems);
  }
  /** [start, count] of segment k of chunk ch */
  private segment(n: number, ch: number, k: number): [number, number] {
    const [a, b] = this.chunkBounds(n, ch);
    const start = a + k * this.segElems;
    return [start, Math.min(this.segElems, b - start)];
  }

  allReduce(buf: Float32Array, compression: Compression = "none"): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    if (this.active) return Promise.reject(new GroupError("allReduce called while another collective is running on this ring"));
    const c = this.next++;
    this.stats.collectives++;
    this.stats.elements += buf.length;
    if (this.world === 1) return Promise.resolve();
    const N = this.world;
    const n = buf.length;
    let agLeft = 0;
    let rsLeft = 0;
    for (let ch = 0; ch < N; ch++) if (ch !== mod(this.rank + 1, N)) agLeft += this.segments(n, ch);
    for (let s = 0; s <= N - 2; s++) rsLeft += this.segments(n, mod(this.rank - 1 - s, N));
    const maxSegs = Math.ceil(Math.ceil(n / N + 1) / this.segElems) + 1;
    return new Promise<void>((resolve, reject) => {
      const a: Active = {
        c, buf, comp: compression, seen: new Uint8Array(2 * N * maxSegs), maxSegs, rsLeft, agLeft,
        done: (err) => (err ? reject(err) : resolve()),
      };
      this.active = a;
      // reduce-scatter, step 0: this rank's own chunk
      const own = this.rank;
      for (let k = 0; k < this.segments(n, own); k++) this.send(a, 0, 0, own, k);
      for (const [body, att] of this.early.splice(0)) this.process(a, body, att);
      this.maybeDone(a);
    });
  }

  private send(a: Active, ph: 0 | 1, s: number, ch: number, k: number, encoded?: Uint8Array): void {
    const [start, count] = this.segment(a.buf.length, ch, k);
    const view = a.buf.subarray(start, start + count);
    let bytes: Uint8Array;
    if (a.comp === "none") bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    else if (encoded) bytes = encoded;
    else {
      const half = new Uint16Array(count);
      encodeHalf(half, view, a.comp);
      bytes = new Uint8Array(half.buffer);
    }
    const body: SegBody = { c: a.c, ph, s, ch, k, dt: a.comp === "none" ? "f32" : a.comp, n: count };
    this.stats.framesOut++;
    this.right.send(SEG, body, bytes).catch(() => undefined); // a failed link fails the ring via closed
  }

  private sink(env: Envelope, bytes: number): Uint8Array | undefined {
    if (env.kind !== SEG) return undefined;
    const b = env.body as SegBody;
    const a = this.active;
    if (!a || b?.c !== a.c || typeof b.n !== "number") return undefined; // early (or bad: checked in onFrame)
    if (b.dt === "f32" && b.ph === 1 && this.validSegment(a, b) && bytes === b.n * 4) {
      const [start] = this.segment(a.buf.length, b.ch, b.k);
      return new Uint8Array(a.buf.buffer, a.buf.byteOffset + start * 4, bytes); // all-gather: straight into place
    }
    if (this.scratch.byteLength < bytes) this.scratch = new Float32Array(Math.ceil(bytes / 4));
    return new Uint8Array(this.scratch.buffer, 0, bytes);
  }

  private validSegment(a: Active, b: SegBody): boolean {
    return Number.isInteger(b.ch) && b.ch >= 0 && b.ch < this.world && Number.isInteger(b.k) && b.k >= 0 && b.k < this.segments(a.buf.length, b.ch)
      && b.n === this.segment(a.buf.length, b.ch, b.k)[1];
  }

  private onFrame(env: Envelope, att: Uint8Array | null): void {
    if (this.error) return;
    if (env.kind === ABORT) {
      const body = env.body as { reason?: unknown; lost?: unknown };
      const lost = Array.isArray(body?.lost) ? body.lost.filter((x): x is number => Number.isInteger(x)) : [];
      this.fail(new GroupError(`a neighbour stopped the ring: ${String(body?.reason ?? "no reason")}`, lost), lost);
      return;
    }
    if (env.kind !== SEG) return this.protocolError(new LinkProtocolError(`unexpected ${JSON.stringify(env.kind)} frame on a thunder ring`));
    this.stats.framesIn++;
    const b = env.body as SegBody;
    const ok = b && typeof b === "object" && Number.isInteger(b.c) && (b.ph === 0 || b.ph === 1) && Number.isInteger(b.s)
      && b.s >= 0 && b.s <= this.world - 2 && ["f32", "f16", "bf16"].includes(b.dt) && Number.isInteger(b.n) && b.n >= 0 && att !== null
      && att.byteLength === b.n * (b.dt === "f32" ? 4 : 2);
    if (!ok) return this.protocolError(new LinkProtocolError(`malformed thunder segment ${JSON.stringify(env.body)?.slice(0, 200)} (${att?.byteLength ?? 0} bytes)`));
    const a = this.active;
    if (!a || b.c > a.c) {
      if (b.c < this.next) return this.protocolError(new LinkProtocolError(`segment of finished collective ${b.c}`));
      // a neighbour already started a later collective: keep its bytes until this rank does
      this.early.push([b, att.byteOffset === 0 && att.buffer !== this.scratch.buffer ? att : att.slice()]);
      return;
    }
    if (b.c < a.c) return this.protocolError(new LinkProtocolError(`segment of finished collective ${b.c} during ${a.c}`));
    this.process(a, b, att);
    this.maybeDone(a);
  }

  private process(a: Active, b: SegBody, att: Uint8Array): void {
    const N = this.world;
    const want = b.ph === 0 ? mod(this.rank - 1 - b.s, N) : mod(this.rank - b.s, N);
    const comp = a.comp === "none" ? "f32" : a.comp;
    if (b.ch !== want || b.dt !== comp || !this.validSegment(a, b)) {
      return this.protocolError(new LinkProtocolError(`rank ${this.rank} expected chunk ${want} (${comp}) at ${b.ph ? "all-gather" : "reduce-scatter"} step ${b.s}, got ${JSON.stringify(b)}`));
    }
    const slot = (b.ph * N + b.ch) * a.maxSegs + b.k;
    if (a.seen[slot]) return this.protocolError(new LinkProtocolError(`duplicate segment ${JSON.stringify(b)}`));
    a.seen[slot] = 1;
    const [start, count] = this.segment(a.buf.length, b.ch, b.k);
    const dst = a.buf.subarray(start, start + count);
    if (b.ph === 0) {
      a.rsLeft--;
      addInto(dst, this.decoded(a, att, count));
      if (b.s < N - 2) return this.send(a, 0, b.s + 1, b.ch, b.k);
      // this rank owns the reduced segment: round it as the others will see it, then share it
      let encoded: Uint8Array | undefined;
      if (a.comp !== "none") {
        const half = new Uint16Array(count);
        encodeHalf(half, dst, a.comp);
        decodeHalf(dst, half, a.comp);
        encoded = new Uint8Array(half.buffer);
      }
      this.send(a, 1, 0, b.ch, b.k, encoded);
      return;
    }
    if (a.comp !== "none") decodeHalf(dst, halfView(att), a.comp);
    else if (att.buffer !== a.buf.buffer || att.byteOffset !== dst.byteOffset) dst.set(f32View(att));
    a.agLeft--;
    // forward the bytes as received (already encoded when compressed)
    if (b.s < N - 2) this.send(a, 1, b.s + 1, b.ch, b.k, a.comp === "none" ? undefined : att.buffer === this.scratch.buffer ? att.slice() : att);
  }

  private decoded(a: Active, att: Uint8Array, count: number): Float32Array {
    if (a.comp === "none") return f32View(att);
    const out = new Float32Array(count);
    decodeHalf(out, halfView(att), a.comp);
    return out;
  }

  private maybeDone(a: Active): void {
    if (this.active !== a || a.agLeft > 0 || a.rsLeft > 0) return;
    this.active = null;
    // the caller may change the buffer once everything queued from it is written out; if the
    // link ends first (a neighbour that finished this collective and closed politely, or any
    // loss) nothing more is read from it either, and every frame of this collective arrived, so
    // the result is complete: the collective succeeds and the ring's error fails the next one
    const over = () => a.done();
    this.right.flushed().then(over, over);
  }
}

function f32View(u: Uint8Array): Float32Array {
  if (u.byteOffset % 4 === 0) return new Float32Array(u.buffer, u.byteOffset, u.byteLength / 4);
  return new Float32Array(u.slice().buffer);
}
function halfView(u: Uint8Array): Uint16Array {
  if (u.byteOffset % 2 === 0) return new Uint16Array(u.buffer, u.byteOffset, u.byteLength / 2);
  return new Uint16Array(u.slice().buffer);
}

/** A ring over two established links (the same peer on both sides when N = 2). */
export function createRing(o: RingOptions): Ring {
  if (!Number.isInteger(o.world) || o.world < 1) throw new GroupError(`world must be a positive integer, got ${o.world}`);
  if (!Number.isInteger(o.rank) || o.rank < 0 || o.rank >= o.world) throw new GroupError(`rank must be in [0, ${o.world - 1}], got ${o.rank}`);
  return new RingImpl(o);
}
