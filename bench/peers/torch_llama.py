#!/usr/bin/python3
"""Peer baseline: one Llama training step (forward + backward + AdamW) in PyTorch on the CPU,
with the semantics troupe's llama architecture has (Hugging Face LlamaForCausalLM: RMSNorm,
rotate_half RoPE, grouped-query attention, SwiGLU, untied head, no biases).

Needs Debian's PyTorch: apt-get install -y python3-torch, then run with /usr/bin/python3.
Usage: torch_llama.py '{"vocab":8192,"hidden":512,"intermediate":1408,"heads":8,"kv_heads":4,
                        "layers":8,"seq":256,"batch":8}' [steps] [runs]
Prints one JSON line: {"peer":"torch", "tokens_per_s": median, "runs": [...], ...}.
The same knobs as ../shared/bench/torch_gpt.py: TORCH_THREADS sets the intra-op threads
(default 2); BLAS threads and kernel choice come from the environment (OPENBLAS_NUM_THREADS,
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE), so a runner can measure the peer at its best.
"""
import os, sys, json, math, time, statistics
import torch, torch.nn as nn, torch.nn.functional as F

cfg = {"vocab": 8192, "hidden": 512, "intermediate": 1408, "heads": 8, "kv_heads": 4, "layers": 8, "seq": 256, "batch": 8,
       "rope_theta": 10000.0, "eps": 1e-6}
if len(sys.argv) > 1: cfg.update(json.loads(sys.argv[1]))
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
torch.manual_seed(0)
V, C, I, H, KV, L, T, B = (cfg[k] for k in ("vocab", "hidden", "intermediate", "heads", "kv_heads", "layers", "seq", "batch"))
hs = C // H


class RMSNorm(nn.Module):
    def __init__(s):
        super().__init__()
        s.weight = nn.Parameter(torch.ones(C))
    def forward(s, x):
        return s.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + cfg["eps"]))


def rotate_half(x):
    return torch.cat((-x[..., hs // 2:], x[..., :hs // 2]), dim=-1)


inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hs, 2).float() / hs))
emb = torch.cat([torch.outer(torch.arange(T).float(), inv)] * 2, dim=-1)
COS, SIN = emb.cos()[None, None], emb.sin()[None, None]
MASK = ~torch.tril(torch.ones(T, T, dtype=torch.bool))


class Layer(nn.Module):
    def __init__(s):
        super().__init__()
        s.q, s.k, s.v, s.o = nn.Linear(C, H * hs, bias=False), nn.Linear(C, KV * hs, bias=False), nn.Linear(C, KV * hs, bias=False), nn.Linear(H * hs, C, bias=False)
        s.gate, s.up, s.down = nn.Linear(C, I, bias=False), nn.Linear(C, I, bias=False), nn.Linear(I, C, bias=False)
        s.n1, s.n2 = RMSNorm(), RMSNorm()
    def forward(s, x):
        b, t, _ = x.shape
        h = s.n1(x)
        q = s.q(h).view(b, t, H, hs).transpose(1, 2)
        k = s.k(h).view(b, t, KV, hs).transpose(1, 2)
        v = s.v(h).view(b, t, KV, hs).transpose(1, 2)
        q, k = q * COS + rotate_half(q) * SIN, k * COS + rotate_half(k) * SIN
        k, v = k.repeat_interleave(H // KV, dim=1), v.repeat_interleave(H // KV, dim=1)
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(hs)).masked_fill(MASK, float("-inf")).softmax(-1)
        x = x + s.o((att @ v).transpose(1, 2).reshape(b, t, H * hs))
        h = s.n2(x)
        return x + s.down(F.silu(s.gate(h)) * s.up(h))


class Llama(nn.Module):
    def __init__(s):
        super().__init__()
        s.embed = nn.Embedding(V, C)
        s.layers = nn.Sequential(*[Layer() for _ in range(L)])
        s.norm, s.head = RMSNorm(), nn.Linear(C, V, bias=False)
    def forward(s, idx):
        return s.head(s.norm(s.layers(s.embed(idx))))


model = Llama()
opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
x, y = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))


def step():
    opt.zero_grad(set_to_none=True)
    F.cross_entropy(model(x).view(-1, V), y.view(-1)).backward()
    opt.step()


for _ in range(2): step()
rates = []
for _ in range(runs):
    t0 = time.perf_counter()
    for _ in range(steps): step()
    rates.append(B * T * steps / (time.perf_counter() - t0))
print(json.dumps({"peer": "torch", "version": torch.__version__, "config": cfg, "threads": torch.get_num_threads(),
                  "params": sum(p.numel() for p in model.parameters()),
                  "tokens_per_s": round(statistics.median(rates)), "runs": [round(r) for r in rates]}))
