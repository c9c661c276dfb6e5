// troupe status [--run ID] [--json] [--snapshot FILE] — where a run is: stage, attempt,
// step, losses, λ and every stage's gate. The formatting is statusOf/formatStatus in
// actors/director (pure); this file only finds the snapshot.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import type { PersistedDirectorSnapshot } from "../../actors/director/mod.js";
import { UsageError } from "../errors.js";
import { printJson, printLine } from "../output.js";

interface StatusOptions {
  run?: string;
  json?: boolean;
  snapshot?: string;
  nats?: string;
}

export function register(program: Command): void {
  program
    .command("status")
    .description("show a run's stage, step, losses and gates")
    .option("--run <id>", "run id (default: the latest run)")
    .option("--nats <url>", "NATS server holding the run's KV")
    .option("--snapshot <file>", "read a saved director snapshot (JSON) instead of KV")
    .option("--json", "print one JSON document")
    .action(async (opts: StatusOptions) => {
      const { statusOf, formatStatus, isDirectorSnapshotError } = await import("../../actors/director/mod.js");
      const snapshot = opts.snapshot ? readSnapshotFile(opts.snapshot) : await readSnapshotFromKv(opts);
      let view;
      try {
        view = statusOf(snapshot);
      } catch (err) {
        if (isDirectorSnapshotError(err)) throw new UsageError(`${opts.snapshot ?? "snapshot"}: ${err.message}`, { cause: err });
        throw err;
      }
      if (opts.run && view.run_id !== opts.run) throw new UsageError(`the snapshot is of run ${view.run_id}, not ${opts.run}`);
      if (opts.json) printJson(view);
      else printLine(formatStatus(view));
    });
}

/** A file holding either a persisted snapshot or a stored `{ snapshot, revision }`. */
function readSnapshotFile(file: string): PersistedDirectorSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UsageError(`${file}: cannot read a JSON snapshot (${(err as Error).message})`, { cause: err });
  }
  const inner = (data as { snapshot?: unknown })?.snapshot;
  return (inner && typeof inner === "object" ? inner : data) as PersistedDirectorSnapshot;
}

/**
 * SEAM(nats): read the director's snapshot of `opts.run` (or the latest run) from the run's
 * JetStream KV bucket through the runtime's KV helpers — the same key the KV SnapshotStore
 * writes. Not wired until the NATS runtime lands.
 */
async function readSnapshotFromKv(opts: StatusOptions): Promise<PersistedDirectorSnapshot> {
  throw new Error(
    `troupe status reads run ${opts.run ?? "(latest)"} from JetStream KV, and the NATS runtime is not wired yet; ` +
      `use --snapshot FILE to read a saved director snapshot`,
  );
}
