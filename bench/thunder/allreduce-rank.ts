// One rank of `troupe bench allreduce`: forms a ThunderGroup (ring in a worker thread, links on
// this host's data address, endpoints through NATS) and times allReduce of each size.
// argv: JSON {nats, run, group, rank, world, address, sizesMiB, iters, compression}
// Each timed call starts right after a one-element barrier collective; the first call of each
// size is a warm-up that also checks the sum. Prints {"rank":…, "rows":[{"bytes":…,"seconds":[…]}]}.
import { connectNats, openThunderGroup } from "../../hosts/mod.js";

const o = JSON.parse(process.argv[2]!) as {
  nats: string; run: string; group: string; rank: number; world: number; address: string;
  sizesMiB: number[]; iters: number; compression: "none" | "f16" | "bf16"; segmentBytes?: number;
};
const nc = await connectNats(o.nats);
const g = await openThunderGroup({ nc, run: o.run, group: o.group, rank: o.rank, world: o.world, address: o.address, hostName: `h${o.rank}`, ...(o.segmentBytes ? { segmentBytes: o.segmentBytes } : {}) });
const barrier = g.alloc(1);
const rows: { bytes: number; seconds: number[]; cpu_s: number }[] = [];
for (const mib of o.sizesMiB) {
  const n = (mib << 20) / 4;
  const buf = g.alloc(n);
  buf.fill(o.rank + 1);
  await g.allReduce(buf, o.compression);
  const want = (o.world * (o.world + 1)) / 2;
  if (buf[0] !== want || buf[n - 1] !== want) throw new Error(`wrong sum: ${buf[0]} / ${buf[n - 1]}, expected ${want}`);
  const seconds: number[] = [];
  const cpu0 = process.cpuUsage(); // every thread of this process: the ring's worker included
  for (let i = 0; i < o.iters; i++) {
    await g.allReduce(barrier);
    const t0 = performance.now();
    await g.allReduce(buf, o.compression);
    seconds.push((performance.now() - t0) / 1000);
  }
  const cpu = process.cpuUsage(cpu0);
  rows.push({ bytes: n * 4, seconds, cpu_s: (cpu.user + cpu.system) / 1e6 / o.iters });
}
process.stdout.write(JSON.stringify({ rank: o.rank, rows, stats: await g.stats() }) + "\n");
await g.close("bench done");
await nc.close();
