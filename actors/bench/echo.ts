// The peer of `troupe bench protocol`: answers bench.echo calls through the full actor runtime,
// and, on the same connection in the same process, bare NATS requests on a raw subject, so
// the two round trips differ only by what the runtime adds.
import { t, defineMessage } from "../../protocol/mod.js";
import { defineActor, on } from "../runtime/mod.js";

export const Echo = defineMessage("bench.echo", t.object({ x: t.int() }), t.object({ x: t.int() }));

export function rawEchoSubject(run: string): string {
  return `troupe.${run}._bench.raw`;
}

export default defineActor({
  role: "bench-echo",
  handlers: [on(Echo, (body) => ({ x: body.x }))],
  onStart(ctx) {
    ctx.nc.subscribe(rawEchoSubject(ctx.run), { callback: (_err, m) => void m.respond(m.data) });
  },
});
