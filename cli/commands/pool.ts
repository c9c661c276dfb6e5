// troupe pool worker | conformance: serve the accelerator pool service with troupe's kernels,
// and check any worker (troupe's or a Neuron/MLX/CUDA one) against the contract.
import type { Command } from "commander";
import { intArg, urlArg } from "../args.js";
import { ExitCode, UsageError } from "../errors.js";
import { printJson, printLine, progress } from "../output.js";

interface WorkerFlags {
  checkpoint?: string;
  nats?: string;
  digest?: string;
  modelId?: string;
  buckets: string;
  cores: number;
  host: string;
  port: number;
  name?: string;
  compileMs: number;
  maxInFlight?: number;
  maxRows: number;
  drainMs: number;
}

/** objects://BUCKET/PREFIX (with --nats) or a path. */
function modelOf(f: WorkerFlags) {
  if (!f.checkpoint) return undefined;
  const m = /^objects:\/\/([^/]+)\/(.+)$/.exec(f.checkpoint);
  if (m) {
    if (!f.nats) throw new UsageError("--checkpoint objects://BUCKET/PREFIX needs --nats URL (the server holding the Object Store)");
    return { id: f.modelId, digest: f.digest, objectStore: { natsUrl: f.nats, bucket: m[1]!, prefix: m[2]! } };
  }
  return { id: f.modelId, digest: f.digest, path: f.checkpoint };
}

export function register(program: Command): void {
  const pool = program.command("pool").description("accelerator pools over gRPC: serve the pool service, check a worker against it");
  pool
    .command("worker")
    .description("serve the pool service with troupe's CPU kernels, emulating a compiled accelerator (static buckets, one request per core, compile delay, drain on SIGTERM)")
    .option("--checkpoint <path>", "checkpoint, stage or run directory, model.safetensors, or objects://BUCKET/PREFIX (with --nats); without it the worker waits for a Load call")
    .option("--nats <url>", "NATS server of the Object Store (for objects://)", urlArg("--nats"))
    .option("--digest <sha256>", "refuse weights whose model.safetensors has another SHA-256")
    .option("--model-id <id>", "the id requests name the model by (default: the digest's first 16 hex digits)")
    .requiredOption("--buckets <list>", "compiled shapes BATCHxSEQ_LEN, comma-separated, e.g. 1x16,4x16,4x64")
    .option("--cores <n>", "cores (one request each at a time)", intArg("--cores", 1, 64), 2)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <n>", "port (0: any free one; the bound port is printed)", intArg("--port", 0, 65535), 0)
    .option("--name <name>", "worker name in Describe and logs")
    .option("--compile-ms <n>", "emulated compiler time added to every model load", intArg("--compile-ms", 0, 3_600_000), 0)
    .option("--max-in-flight <n>", "requests held at once (default 2 per core)", intArg("--max-in-flight", 1, 100_000))
    .option("--max-rows <n>", "rows in one request", intArg("--max-rows", 1, 1 << 20), 1024)
    .option("--drain-ms <n>", "drain deadline after SIGTERM", intArg("--drain-ms", 0, 3_600_000), 120_000)
    .action(async (f: WorkerFlags) => {
      const { parseBuckets, runWorkerProcess } = await import("../../hosts/pools/mod.js");
      let buckets;
      try {
        buckets = parseBuckets(f.buckets);
      } catch (err) {
        throw new UsageError(`--buckets: ${(err as Error).message}`);
      }
      const code = await runWorkerProcess({
        buckets, cores: f.cores, host: f.host, port: f.port, name: f.name, compileMs: f.compileMs,
        maxInFlight: f.maxInFlight, maxRows: f.maxRows, drainMs: f.drainMs, model: modelOf(f),
      });
      process.exitCode = code;
      setTimeout(() => process.exit(), 200).unref();
    });
  pool
    .command("conformance")
    .description("check a pool worker against the service contract; one line per check, exit 1 on any failure (the drain check ends the worker)")
    .requiredOption("--target <host:port>", "the worker")
    .option("--json", "print one JSON document")
    .option("--atol <x>", "tolerance of the numeric checks (f32 workers: 1e-4)", "1e-4")
    .option("--no-drain", "leave out the drain check (it makes the worker exit)")
    .option("--drain-deadline-ms <n>", "deadline given with the drain notice", intArg("--drain-deadline-ms", 100, 600_000), 30_000)
    .option("--ready-timeout-ms <n>", "wait this long for the worker to serve its model", intArg("--ready-timeout-ms", 0, 3_600_000), 120_000)
    .action(async (f: { target: string; json?: boolean; atol: string; drain: boolean; drainDeadlineMs: number; readyTimeoutMs: number }) => {
      const atol = Number(f.atol);
      if (!(atol > 0)) throw new UsageError(`--atol must be a positive number, got ${JSON.stringify(f.atol)}`);
      const { runConformance, checkAddress } = await import("../../hosts/pools/mod.js");
      try {
        checkAddress(f.target);
      } catch (err) {
        throw new UsageError(`--target: ${(err as Error).message}`);
      }
      const r = await runConformance({
        target: f.target, atol, drain: f.drain, drainDeadlineMs: f.drainDeadlineMs, readyTimeoutMs: f.readyTimeoutMs,
        // one line per check as it completes: on stdout, or on stderr when stdout carries the JSON
        onCheck: (c) => (f.json ? progress : printLine)(`${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`),
      });
      if (f.json) printJson(r);
      else printLine(`${r.passed ? "conforms" : `does NOT conform: ${r.failed} of ${r.checks.length} checks failed`} (${r.target})`);
      if (!r.passed) process.exitCode = ExitCode.failure;
    });
}
