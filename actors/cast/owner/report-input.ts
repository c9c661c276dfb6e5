// What the report of a run is made from, as the run's owner hands it over: the report layer
// (report/run.ts, above the runtime) writes it; the owner gets that writer passed in
// (startCastRun({ writeReport })), so nothing in actors/ imports the layer above it.
import type { PersistedDirectorSnapshot, RunSummary } from "../../director/mod.js";
import type { RunRecord } from "../records.js";
import type { RunSpec } from "../spec.js";

/** One actor of the cast, as the report shows it. */
export interface CastMember {
  readonly role: string;
  readonly id: string;
  readonly host: string;
  readonly pid: number | null;
  readonly restarts: number;
  readonly backend?: string | null;
  readonly status?: string | null;
}

export interface HostInfo {
  readonly name: string;
  readonly address?: string | null;
  readonly cores?: number | null;
  readonly memory_gb?: number | null;
  readonly backends?: readonly string[];
}

/** What the report of a run is made from (the report layer's writeRunReport takes it). */
export interface ReportOptions {
  readonly spec: RunSpec;
  readonly record: RunRecord;
  readonly snapshot: PersistedDirectorSnapshot | null;
  readonly summary: RunSummary | null;
  /** The scenario file as the user gave it. */
  readonly file: string | null;
  readonly cast: readonly CastMember[];
  readonly hosts: readonly HostInfo[];
  readonly notes: readonly string[];
}

/** Where a written report is. */
export interface ReportPaths {
  readonly json: string;
  readonly html: string;
}

/** Writes the report of a run (the report layer's writeRunReport); without one, no report is written. */
export type ReportWriter = (o: ReportOptions) => Promise<ReportPaths>;
