// Prompt/response JSONL: streamed line by line, each line validated; bad lines are skipped,
// counted by reason and the first few reported with their line numbers (or, with `strict`,
// the first one throws a DataRecordError). Blank lines are not records; they are counted
// separately. A UTF-8 BOM at the start of the file is ignored.
import { createReadStream } from "node:fs";
import { writeFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { CorpusError, DataRecordError } from "./errors.js";
import { toJsonRecord, validateRecord, type PromptRecord } from "./records.js";
import { createSkipLog, DEFAULT_REPORTED, type SkipLog, type SkipSummary } from "./skips.js";

export interface JsonlOptions {
  /** Throw on the first bad record instead of skipping it. */
  strict?: boolean;
  /** How many skipped records to keep in the report (default 5). */
  maxReported?: number;
  /** Name used in reports (defaults to the path). */
  file?: string;
}

export interface LoadedRecords {
  readonly file?: string;
  readonly records: PromptRecord[];
  /** Lines read, blank ones included. */
  readonly lines: number;
  readonly blank: number;
  readonly skipped: SkipSummary;
}

class Collector {
  readonly records: PromptRecord[] = [];
  readonly skips: SkipLog;
  lines = 0;
  blank = 0;

  constructor(private readonly opts: JsonlOptions) {
    this.skips = createSkipLog(opts.maxReported ?? DEFAULT_REPORTED);
  }

  add(text: string): void {
    const line = ++this.lines;
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === "") {
      this.blank++;
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      this.reject(line, "invalid JSON", (err as Error).message, err);
      return;
    }
    const check = validateRecord(value, line);
    if (check.ok) this.records.push(check.record);
    else this.reject(line, check.reason, check.detail);
  }

  private reject(line: number, reason: string, detail?: string, cause?: unknown): void {
    const file = this.opts.file;
    if (this.opts.strict) {
      throw new DataRecordError(line, detail ? `${reason} (${detail})` : reason, { cause, ...(file ? { file } : {}) });
    }
    this.skips.skip({ line, reason, ...(detail !== undefined ? { detail } : {}), ...(file ? { file } : {}) });
  }

  result(): LoadedRecords {
    const out = { records: this.records, lines: this.lines, blank: this.blank, skipped: this.skips.summary() };
    return this.opts.file ? { file: this.opts.file, ...out } : out;
  }
}

/** Parses JSONL text held in memory. */
export function parseJsonl(text: string, opts: JsonlOptions = {}): LoadedRecords {
  const c = new Collector(opts);
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop(); // trailing newline
  for (const l of lines) c.add(l);
  return c.result();
}

/** Streams a JSONL file line by line (constant memory per line). */
export async function loadJsonl(path: string, opts: JsonlOptions = {}): Promise<LoadedRecords> {
  const c = new Collector({ ...opts, file: opts.file ?? path });
  const stream = createReadStream(path, { encoding: "utf8" });
  const opened = new Promise<void>((resolve, reject) => {
    stream.once("open", () => resolve());
    stream.once("error", reject);
  });
  try {
    await opened;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CorpusError(`Cannot read JSONL ${path}${code ? ` (${code})` : ""}`, { cause: err });
  }
  const rl = createInterface({ input: stream, crlfDelay: Infinity });
  try {
    for await (const line of rl) c.add(line);
  } finally {
    rl.close();
    stream.destroy();
  }
  return c.result();
}

/** Records as JSONL text in the users' shape (one object per line, trailing newline). */
export function toJsonl(records: readonly PromptRecord[]): string {
  return records.map((r) => JSON.stringify(toJsonRecord(r))).join("\n") + (records.length ? "\n" : "");
}

export async function writeJsonl(path: string, records: readonly PromptRecord[]): Promise<void> {
  await writeFile(path, toJsonl(records), "utf8");
}
