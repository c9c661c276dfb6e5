#!/usr/bin/python3
"""Peer for `troupe bench allreduce`: torch.distributed all_reduce (gloo backend) between ranks
in the rig's namespaces. Run one per host with GLOO_SOCKET_IFNAME set to the namespace's data
interface. Usage: torch_allreduce.py '{"rank":0,"world":2,"master":"10.232.x.1","port":29500,
"sizesMiB":[8,16],"iters":5}'. Each timed call starts right after dist.barrier(); the first call
of each size is a warm-up. Prints {"peer":"gloo","rows":[{"bytes":…,"seconds":[…]}],…}.
Needs Debian's PyTorch: apt-get install -y python3-torch, run with /usr/bin/python3.
"""
import json, os, sys, time
import torch
import torch.distributed as dist

o = json.loads(sys.argv[1])
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
dist.init_process_group("gloo", init_method=f"tcp://{o['master']}:{o['port']}", rank=o["rank"], world_size=o["world"])
rows = []
for mib in o["sizesMiB"]:
    n = (mib << 20) // 4
    t = torch.full((n,), float(o["rank"] + 1))
    dist.all_reduce(t)
    want = o["world"] * (o["world"] + 1) / 2
    assert t[0].item() == want and t[-1].item() == want, (t[0].item(), want)
    seconds = []
    cpu0 = os.times()
    for _ in range(o["iters"]):
        dist.barrier()
        t0 = time.perf_counter()
        dist.all_reduce(t)
        seconds.append(time.perf_counter() - t0)
    cpu1 = os.times()
    cpu = (cpu1.user - cpu0.user + cpu1.system - cpu0.system) / o["iters"]
    rows.append({"bytes": n * 4, "seconds": seconds, "cpu_s": cpu})
print(json.dumps({"peer": "gloo", "version": torch.__version__, "rank": o["rank"], "threads": torch.get_num_threads(), "rows": rows}))
dist.destroy_process_group()
