// report.json and report.html on disk. Each file is written to a temporary name in the same
// directory, flushed, and renamed over the old one, so a reader (or a crash) never sees half a
// report; a failed write removes its temporary file. readReport/parseReport refuse a file of
// another format with a message that says what to do.
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ReportFormatError, ReportWriteError } from "./errors.js";
import { esc } from "./format.js";
import { renderHtml } from "./html.js";
import { REPORT_FORMAT, type RunReport } from "./model.js";

export const REPORT_JSON = "report.json";
export const REPORT_HTML = "report.html";

export interface ReportPaths {
  readonly json: string;
  readonly html: string;
}

/** Writes `data` to `path` through a temporary file in the same directory and a rename. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o644);
    try {
      await fh.writeFile(data, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new ReportWriteError(path, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** A page that still says where the data is when rendering the real one failed. */
function fallbackHtml(report: RunReport, err: unknown): string {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>troupe · ${esc(report.run_id)}</title></head>` +
    `<body><h1>troupe run ${esc(report.run_id)}: ${esc(report.outcome)}</h1>` +
    `<p>This page could not be drawn (${esc(why)}); every number is in <code>${REPORT_JSON}</code> next to it.</p></body></html>\n`;
}

/**
 * Writes `<dir>/report.json` and `<dir>/report.html` (creating `dir`), each atomically, and
 * returns their absolute paths. If drawing the page throws, the JSON is still written and the
 * page says so. Rejects with ReportWriteError when a file cannot be written.
 */
export async function writeReport(dir: string, report: RunReport): Promise<ReportPaths> {
  const root = resolve(dir);
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    throw new ReportWriteError(root, err instanceof Error ? err.message : String(err), { cause: err });
  }
  let html: string;
  try {
    html = renderHtml(report);
  } catch (err) {
    html = fallbackHtml(report, err);
  }
  const paths: ReportPaths = { json: join(root, REPORT_JSON), html: join(root, REPORT_HTML) };
  await writeFileAtomic(paths.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFileAtomic(paths.html, html);
  return paths;
}

/** Checks that a parsed value is a report this version reads; returns it typed. */
export function parseReport(text: string): RunReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ReportFormatError(`not a troupe report: the file is not JSON (${err instanceof Error ? err.message : String(err)})`, { cause: err });
  }
  const r = value as Partial<RunReport> | null;
  const format = r && typeof r === "object" ? (r as { format?: unknown }).format : undefined;
  if (typeof format !== "string" || !format.startsWith("troupe-report/")) {
    throw new ReportFormatError(`not a troupe report: "format" is ${JSON.stringify(format) ?? "missing"}, expected "${REPORT_FORMAT}"`);
  }
  if (format !== REPORT_FORMAT) {
    throw new ReportFormatError(`this report is ${format}; this troupe reads ${REPORT_FORMAT}: open it with the troupe version that wrote it`);
  }
  if (typeof r!.run_id !== "string" || !Array.isArray(r!.stages)) {
    throw new ReportFormatError(`a ${REPORT_FORMAT} report needs "run_id" (a string) and "stages" (a list)`);
  }
  return r as RunReport;
}

export async function readReport(path: string): Promise<RunReport> {
  return parseReport(await readFile(path, "utf8"));
}
