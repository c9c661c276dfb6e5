// Counts of what a receiver did with its messages. Every rejected message is counted under
// its DecodeErrorCode, so "rejected" always equals the sum of rejectedByCode.
import { ALL_DECODE_ERROR_CODES, type DecodeErrorCode, isDecodeError } from "./errors.js";

export interface ReceiveCounters {
  received: number;
  handled: number;
  rejected: number;
  rejectedByCode: Record<DecodeErrorCode, number>;
  handlerErrors: number;
}

export function createReceiveCounters(): ReceiveCounters {
  const rejectedByCode = Object.fromEntries(ALL_DECODE_ERROR_CODES.map((c) => [c, 0])) as Record<DecodeErrorCode, number>;
  return { received: 0, handled: 0, rejected: 0, rejectedByCode, handlerErrors: 0 };
}

/** Counts a rejection; anything that is not a DecodeError is counted as malformed. */
export function countRejection(c: ReceiveCounters, err: unknown): DecodeErrorCode {
  const code: DecodeErrorCode = isDecodeError(err) ? err.code : "MALFORMED";
  c.rejected++;
  c.rejectedByCode[code]++;
  return code;
}
