#!/usr/bin/python3
"""Peer for `troupe bench thunder`: torch DistributedDataParallel (gloo backend) training the
benchmark GPT of ../shared/bench/torch_gpt.py (same model, AdamW lr 3e-4, 16 rows × 128 per
rank) on the rig's hosts. Run one per host with GLOO_SOCKET_IFNAME set to the data interface.
world 1 runs the plain model (no DDP). Usage: torch_ddp.py '{"rank":0,"world":2,"master":…,
"port":…,"steps":20,"warmup":3,"config":{…}}'. Prints {"peer":"torch-ddp","step_ms":[…],…}.
Threads: TORCH_THREADS (default 1, one-core hosts); BLAS threads and core type come from the
environment (OPENBLAS_NUM_THREADS=1 and OPENBLAS_CORETYPE unset were fastest here).
"""
import json, math, os, sys, time
import torch, torch.nn as nn, torch.nn.functional as F
import torch.distributed as dist

o = json.loads(sys.argv[1])
cfg = o["config"]
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "1")))
V, T, D, H, L, B = cfg["vocab"], cfg["block"], cfg["d"], cfg["heads"], cfg["layers"], cfg["batch"]

class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln_1, s.qkv, s.proj = nn.LayerNorm(D), nn.Linear(D, 3 * D), nn.Linear(D, D)
        s.ln_2, s.fc, s.fc_proj = nn.LayerNorm(D), nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
    def forward(s, x):
        b, t, _ = x.shape
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in s.qkv(s.ln_1(x)).split(D, 2))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        att = att.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool)), float("-inf")).softmax(-1)
        x = x + s.proj((att @ v).transpose(1, 2).reshape(b, t, D))
        return x + s.fc_proj(F.gelu(s.fc(s.ln_2(x)), approximate="tanh"))

class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
        s.h = nn.Sequential(*[Block() for _ in range(L)]); s.ln_f = nn.LayerNorm(D)
    def forward(s, idx):
        return s.ln_f(s.h(s.wte(idx) + s.wpe(torch.arange(idx.shape[1])))) @ s.wte.weight.t()

torch.manual_seed(0)
model = GPT()
if o["world"] > 1:
    dist.init_process_group("gloo", init_method=f"tcp://{o['master']}:{o['port']}", rank=o["rank"], world_size=o["world"])
    model = nn.parallel.DistributedDataParallel(model, gradient_as_bucket_view=True)
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
g = torch.Generator().manual_seed(1000 + o["rank"])
x, y = torch.randint(0, V, (B, T), generator=g), torch.randint(0, V, (B, T), generator=g)

def step():
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x).view(-1, V), y.view(-1)).backward()
    opt.step()

stamps = []
for i in range(o["warmup"] + o["steps"]):
    step()
    stamps.append(time.perf_counter())
timed = stamps[o["warmup"] - 1:]
step_ms = [(b - a) * 1000 for a, b in zip(timed, timed[1:])]
print(json.dumps({"peer": "torch-ddp" if o["world"] > 1 else "torch", "version": torch.__version__, "rank": o["rank"], "world": o["world"],
                  "threads": torch.get_num_threads(), "step_ms": step_ms, "tokens_per_step": B * T * o["world"]}))
if o["world"] > 1:
    dist.destroy_process_group()
