// A raw TCP stream between two hosts: the link speed the all-reduce bench compares against.
// No framing, no protocol: the sender listens and writes `bytes` in 4 MiB chunks to whoever
// connects; the receiver dials it and reads with `onread` into one reused buffer (the cheapest
// way Node has to read), timing from the first byte to the last.
//   node raw-link.js '{"mode":"send","host":"10.232.x.1","bytes":536870912}'  → {"port":…}
//   node raw-link.js '{"mode":"recv","host":"10.232.x.1","port":…,"bytes":…}'  → {"GBps":…}
import { createServer, connect } from "node:net";

const o = JSON.parse(process.argv[2]!) as { mode: "send" | "recv"; host: string; port?: number; bytes: number };
const say = (x: unknown) => process.stdout.write(JSON.stringify(x) + "\n");

if (o.mode === "send") {
  const chunk = Buffer.alloc(4 << 20, 7);
  const server = createServer({ noDelay: true }, (s) => {
    let sent = 0;
    const pump = () => {
      while (sent < o.bytes) {
        const n = Math.min(chunk.byteLength, o.bytes - sent);
        sent += n;
        if (!s.write(n === chunk.byteLength ? chunk : chunk.subarray(0, n))) return void s.once("drain", pump);
      }
      s.end();
      server.close();
    };
    pump();
  });
  server.listen(0, o.host, () => say({ port: (server.address() as { port: number }).port }));
} else {
  const buf = Buffer.allocUnsafe(4 << 20);
  let got = 0;
  let first = 0;
  const s = connect({
    host: o.host, port: o.port!, noDelay: true,
    onread: {
      buffer: buf,
      callback: (n: number) => {
        if (got === 0) first = performance.now();
        got += n;
        if (got >= o.bytes) {
          const seconds = (performance.now() - first) / 1000;
          say({ bytes: got, seconds, GBps: got / seconds / 1e9 });
          s.destroy();
        }
        return true;
      },
    },
  } as never);
  s.on("error", (e) => {
    say({ error: e.message });
    process.exit(1);
  });
}
