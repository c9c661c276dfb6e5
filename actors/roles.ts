// The roles this build can run, by name. A new role: write actors/<role>/actor.ts that
// default-exports defineActor({ role: "<role>", ... }) and add one line here.
import { registerRole } from "./runtime/mod.js";

const builtIn: Record<string, URL> = {
  "demo-producer": new URL("./demo/producer.js", import.meta.url),
  "demo-worker": new URL("./demo/worker.js", import.meta.url),
  "demo-collector": new URL("./demo/collector.js", import.meta.url),
  "chaos-worker": new URL("./chaos/worker.js", import.meta.url),
  "fuzz-target": new URL("./chaos/target.js", import.meta.url),
  "bench-echo": new URL("./bench/echo.js", import.meta.url),
  // the cast of a curriculum run (troupe run)
  director: new URL("./cast/director.js", import.meta.url),
  trainer: new URL("./trainer/actor.js", import.meta.url),
  teacher: new URL("./teacher/actor.js", import.meta.url),
  evaluator: new URL("./evaluator/actor.js", import.meta.url),
  oracle: new URL("./oracle/actor.js", import.meta.url),
  transfer_encoder: new URL("./transfer/encoder.js", import.meta.url),
  transfer_decoder: new URL("./transfer/decoder.js", import.meta.url),
};

for (const [role, module] of Object.entries(builtIn)) registerRole(role, module);
