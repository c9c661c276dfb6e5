// One end of a transport measurement for `troupe bench link`: a raw TCP stream or a troupe link
// (framed envelopes, 1 MiB attachments), one or several connections, either or both directions.
// argv: JSON {impl: "raw"|"link", role: "listen"|"dial", host, port?, send, recv, bytes, streams}
// The listener prints {"port":…}; each end that receives prints {"GBps":…} (first byte to last,
// all connections together) once `bytes` arrived, and exits when its sends are flushed too.
// Raw reads use `onread` into one buffer on the dialer and 'data' chunks on the listener, as a
// link does; a link's attachments land in one reused destination.
import { type Socket, connect, createServer } from "node:net";
import { type Link, dialLink, listenLinks } from "../../hosts/mod.js";

const o = JSON.parse(process.argv[2]!) as { impl: "raw" | "link"; role: "listen" | "dial"; host: string; port?: number; send: boolean; recv: boolean; bytes: number; streams: number };
const say = (x: unknown) => process.stdout.write(JSON.stringify(x) + "\n");
const per = Math.floor(o.bytes / o.streams);
let got = 0;
let first = 0;
let sendsLeft = o.send ? o.streams : 0;
let received = !o.recv;
const finish = () => {
  if (received && sendsLeft === 0) setImmediate(() => process.exit(0));
};
const onBytes = (n: number) => {
  if (got === 0) first = performance.now();
  got += n;
  if (!received && got >= per * o.streams) {
    received = true;
    const seconds = (performance.now() - first) / 1000;
    say({ GBps: got / seconds / 1e9, seconds });
    finish();
  }
};
const chunk = Buffer.alloc(1 << 20, 5);

function rawSend(s: Socket): void {
  let sent = 0;
  const pump = () => {
    while (sent < per) {
      sent += chunk.byteLength;
      if (!s.write(chunk)) return void s.once("drain", pump);
    }
    s.once("drain", () => undefined);
    s.write(Buffer.alloc(0), () => {
      sendsLeft--;
      finish();
    });
  };
  pump();
}

async function linkSend(l: Link): Promise<void> {
  for (let sent = 0; sent < per; sent += chunk.byteLength) await l.send("bench.bulk", { n: chunk.byteLength }, chunk);
  await l.flushed();
  sendsLeft--;
  finish();
}

const sink = new Uint8Array(1 << 20);
function linkRecv(l: Link): void {
  l.handle({ sink: (_e, n) => (n === sink.byteLength ? sink : undefined), frame: (_e, att) => onBytes(att?.byteLength ?? 0) });
}

if (o.impl === "raw") {
  if (o.role === "listen") {
    const server = createServer({ noDelay: true }, (s) => {
      if (o.recv) s.on("data", (d: Buffer) => onBytes(d.byteLength));
      else s.resume();
      if (o.send) rawSend(s);
    });
    server.listen(o.port ?? 0, o.host, () => say({ port: (server.address() as { port: number }).port }));
  } else {
    for (let i = 0; i < o.streams; i++) {
      const buf = Buffer.allocUnsafe(4 << 20);
      const s = connect({ host: o.host, port: o.port!, noDelay: true, onread: { buffer: buf, callback: (n: number) => (o.recv ? onBytes(n) : 0, true) } } as never, () => {
        if (o.send) rawSend(s);
      });
    }
  }
} else {
  if (o.role === "listen") {
    const l = await listenLinks({ name: "l", run: "bench", host: o.host, port: o.port ?? 0, onLink: (link) => {
      if (o.recv) linkRecv(link);
      if (o.send) void linkSend(link);
    } });
    say({ port: l.port });
  } else {
    for (let i = 0; i < o.streams; i++) {
      const link = await dialLink({ name: `d${i}`, peer: "l", run: "bench", host: o.host, port: o.port! });
      if (o.recv) linkRecv(link);
      if (o.send) void linkSend(link);
    }
  }
}
