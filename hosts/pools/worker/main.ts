// Entry point of a pool worker process started by spawn.ts: `node main.js '<WorkerProcessSpec
// as JSON>'`. `troupe pool worker` is the same thing with command-line flags.
import { runWorkerProcess, type WorkerProcessSpec } from "./process.js";

let spec: WorkerProcessSpec;
try {
  spec = JSON.parse(process.argv[2] ?? "") as WorkerProcessSpec;
} catch {
  process.stderr.write("hosts/pools/worker/main.js takes the worker spec as JSON (it is started by spawnPoolWorker); use `troupe pool worker` by hand\n");
  process.exit(2);
}
try {
  process.exitCode = await runWorkerProcess(spec);
} catch (err) {
  process.stderr.write(`pool worker failed to start: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
// the gRPC server and the core threads are gone; nothing else should hold the process
setTimeout(() => process.exit(), 200).unref();
