// Checks of what the user points the CLI at, before any layer reads it: a file that must be a
// readable, non-empty file (and text, where text is expected), a value that must fit another.
// Each problem is a UsageError naming the flag and the path as typed, and saying what to do.
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { UsageCode, UsageError } from "./errors.js";

export interface FileCheck {
  /** refuse files that are not UTF-8 text (a NUL byte or invalid UTF-8 in the first 64 KiB) */
  readonly text?: boolean;
  /** what the file should be, for the messages ("a text corpus", "a scenario YAML file") */
  readonly what?: string;
}

const SNIFF = 64 * 1024;

/** `label` is how the user named it: `--data x.txt`, or the bare path of an argument. */
export function checkInputFile(label: string, path: string, opts: FileCheck = {}): void {
  const what = opts.what ?? "a file";
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new UsageError(`${label}: a part of the path is not a directory; expected ${what}`, { code: UsageCode.noSuchFile });
    throw new UsageError(`${label}: no such file (expected ${what})`, { code: UsageCode.noSuchFile });
  }
  if (st.isDirectory()) throw new UsageError(`${label}: is a directory; expected ${what}`, { code: UsageCode.notAFile });
  if (!st.isFile()) throw new UsageError(`${label}: is not a regular file; expected ${what}`, { code: UsageCode.notAFile });
  if (st.size === 0) throw new UsageError(`${label}: is empty; expected ${what}`, { code: UsageCode.emptyFile });
  if (opts.text) {
    const why = binaryReason(path);
    if (why) throw new UsageError(`${label}: looks binary (${why}); expected ${what}`, { code: UsageCode.binaryFile });
  }
}

/** Why the start of a file is not UTF-8 text, or null when it is. */
export function binaryReason(path: string): string | null {
  const fd = openSync(path, "r");
  let n: number;
  const buf = Buffer.alloc(SNIFF);
  try {
    n = readSync(fd, buf, 0, SNIFF, 0);
  } finally {
    closeSync(fd);
  }
  const head = buf.subarray(0, n);
  const nul = head.indexOf(0);
  if (nul >= 0) return `a NUL byte at offset ${nul}`;
  // a multi-byte character may be cut at the sniff's end: drop up to 3 trailing bytes
  let end = head.length;
  if (n === SNIFF) while (end > head.length - 3 && (head[end - 1]! & 0xc0) === 0x80) end--;
  if (n === SNIFF && end > 0 && head[end - 1]! >= 0xc0) end--;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(0, end));
  } catch {
    return "not valid UTF-8";
  }
  return null;
}
