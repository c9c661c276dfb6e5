// The frame of a link: a fixed 12-byte header, one protocol envelope (the same msgpackr codec
// and checks as every NATS message), then optionally the raw bytes of one tensor.
//
//   offset 0  u8 'T' (0x54) · u8 'L' (0x4c)   magic
//          2  u8 version (1)                   bump on an incompatible change
//          3  u8 flags                         bit 0: an attachment follows the envelope
//          4  u32 LE envelope bytes            1 .. the codec's maxBytes (8 MiB)
//          8  u32 LE attachment bytes          0 .. LINK_MAX_ATTACHMENT
//         12  envelope (msgpackr)
//            attachment
//
// A tensor travels as its description in the body (`{dtype, shape, bytes}` — what the
// tensor extension carries) plus the attachment, rather than inline in the msgpack map, so
// its bytes go from the socket straight into their destination and from their source into
// the socket without the copy an inline encode makes. The receiver checks the attachment's
// length against the description before reading it (see AttachmentInfo).
import { type Dtype, type Infer, checkTensor, t } from "../../protocol/mod.js";
import { LinkProtocolError } from "../errors.js";

export const FRAME_HEADER_BYTES = 12;
export const LINK_FRAME_VERSION = 1;
const MAGIC_0 = 0x54;
const MAGIC_1 = 0x4c;
const FLAG_ATTACHMENT = 1;
/** Largest attachment a link accepts (1 GiB): a bucket of gradients, never a whole model. */
export const LINK_MAX_ATTACHMENT = 1 << 30;

export interface FrameHeader {
  readonly envelopeBytes: number;
  readonly attachmentBytes: number;
}

/** Writes the header of a frame into `out` (12 bytes at offset 0). */
export function writeFrameHeader(out: Uint8Array, envelopeBytes: number, attachmentBytes: number): Uint8Array {
  out[0] = MAGIC_0;
  out[1] = MAGIC_1;
  out[2] = LINK_FRAME_VERSION;
  out[3] = attachmentBytes > 0 ? FLAG_ATTACHMENT : 0;
  const v = new DataView(out.buffer, out.byteOffset, FRAME_HEADER_BYTES);
  v.setUint32(4, envelopeBytes, true);
  v.setUint32(8, attachmentBytes, true);
  return out.subarray(0, FRAME_HEADER_BYTES);
}

/** Parses and checks a frame header; throws LinkProtocolError with what is wrong. */
export function readFrameHeader(h: Uint8Array, maxEnvelope: number, maxAttachment = LINK_MAX_ATTACHMENT): FrameHeader {
  if (h[0] !== MAGIC_0 || h[1] !== MAGIC_1) {
    throw new LinkProtocolError(`not a troupe link frame (magic ${hex(h[0])} ${hex(h[1])}, expected 54 4c): is the other end a troupe link of the same version?`);
  }
  if (h[2] !== LINK_FRAME_VERSION) {
    throw new LinkProtocolError(`link frame version ${h[2]} is not supported (this build speaks ${LINK_FRAME_VERSION}); run the same troupe version on every host`);
  }
  const v = new DataView(h.buffer, h.byteOffset, FRAME_HEADER_BYTES);
  const envelopeBytes = v.getUint32(4, true);
  const attachmentBytes = v.getUint32(8, true);
  const flagged = (h[3]! & FLAG_ATTACHMENT) !== 0;
  if ((h[3]! & ~FLAG_ATTACHMENT) !== 0) throw new LinkProtocolError(`unknown link frame flags ${hex(h[3])}`);
  if (flagged !== attachmentBytes > 0) throw new LinkProtocolError(`frame flags say ${flagged ? "an" : "no"} attachment, the length says ${attachmentBytes} bytes`);
  if (envelopeBytes === 0 || envelopeBytes > maxEnvelope) throw new LinkProtocolError(`frame envelope of ${envelopeBytes} bytes is outside 1..${maxEnvelope}`);
  if (attachmentBytes > maxAttachment) throw new LinkProtocolError(`frame attachment of ${attachmentBytes} bytes exceeds ${maxAttachment}`);
  return { envelopeBytes, attachmentBytes };
}

function hex(b: number | undefined): string {
  return (b ?? 0).toString(16).padStart(2, "0");
}

/** How a body describes the tensor in its frame's attachment. */
export const AttachmentInfo = t.object({
  dtype: t.oneOf(["f32", "f16", "bf16", "i32", "u8", "i8"] as const),
  shape: t.array(t.int({ min: 0 }), { maxLength: 8 }),
  bytes: t.int({ min: 0 }),
});
export type AttachmentInfo = Infer<typeof AttachmentInfo>;

/** The description of `n` elements of `dtype` (a flat tensor). */
export function attachmentInfo(dtype: Dtype & AttachmentInfo["dtype"], shape: readonly number[], bytes: number): AttachmentInfo {
  return { dtype, shape: [...shape], bytes };
}

/** Checks an attachment's length against its description; throws LinkProtocolError. */
export function checkAttachment(info: AttachmentInfo, got: number): void {
  try {
    checkTensor(info.dtype, info.shape, info.bytes);
  } catch (err) {
    throw new LinkProtocolError(`attachment description is invalid: ${(err as Error).message}`, { cause: err });
  }
  if (info.bytes !== got) throw new LinkProtocolError(`the body describes a ${info.bytes}-byte ${info.dtype} attachment, the frame carries ${got} bytes`);
}
