#!/usr/bin/python3
"""Writes a GPT reference fixture in the format of ../shared/fixtures (PyTorch, float32, CPU).

Dev-only: the test suite reads the files this writes (tests/kernels/fixtures/) and never needs
torch. Usage:
  make_gpt_fixture.py OUT.safetensors '{"vocab_size":37,"block_size":11,"n_embd":24,"n_head":3,
                                       "n_layer":3,"batch":3,"seq":9,"tied_lm_head":true,
                                       "ignore_frac":0.25,"seed":7}'
"seq" (<= block_size) is the length of the input rows; "ignore_frac" marks that share of the
targets as -100 (skipped by the loss). The AdamW settings are those of gpt_reference.json.
"""
import json, math, struct, sys
import torch, torch.nn as nn, torch.nn.functional as F

out_path = sys.argv[1]
cfg = {"vocab_size": 37, "block_size": 11, "n_embd": 24, "n_head": 3, "n_layer": 3, "batch": 3,
       "seq": 9, "tied_lm_head": True, "ignore_frac": 0.0, "seed": 7}
cfg.update(json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
adamw = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "weight_decay": 0.01, "steps": 10}
torch.manual_seed(cfg["seed"])
V, Tb, D, H, L, B, T = (cfg[k] for k in ("vocab_size", "block_size", "n_embd", "n_head", "n_layer", "batch", "seq"))

class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln_1, s.qkv, s.proj = nn.LayerNorm(D), nn.Linear(D, 3 * D), nn.Linear(D, D)
        s.ln_2, s.fc, s.fc_proj = nn.LayerNorm(D), nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
    def forward(s, x):
        b, t, _ = x.shape
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in s.qkv(s.ln_1(x)).split(D, 2))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H))
        att = att.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool)), float("-inf")).softmax(-1)
        x = x + s.proj((att @ v).transpose(1, 2).reshape(b, t, D))
        return x + s.fc_proj(F.gelu(s.fc(s.ln_2(x)), approximate="tanh"))

class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, D), nn.Embedding(Tb, D)
        s.h = nn.ModuleList([Block() for _ in range(L)]); s.ln_f = nn.LayerNorm(D)
        if not cfg["tied_lm_head"]: s.lm_head = nn.Linear(D, V, bias=False)
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for blk in s.h: x = blk(x)
        x = s.ln_f(x)
        return x @ (s.wte.weight if cfg["tied_lm_head"] else s.lm_head.weight).t()

model = GPT()
with torch.no_grad():  # small GPT-2-like weights as in gpt_reference, with non-trivial norms and biases
    for n, p in model.named_parameters():
        if n in ("wte.weight", "wpe.weight"): p.normal_(0.0, 0.06)
        elif n.startswith("ln") or ".ln_" in n: p.copy_((1.0 if n.endswith("weight") else 0.0) + 0.05 * torch.randn_like(p))
        else: p.normal_(0.0, 0.02)
params = {n: p.detach().clone() for n, p in model.named_parameters()}
idx = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))
if cfg["ignore_frac"] > 0:
    targets[torch.rand(B, T) < cfg["ignore_frac"]] = -100
logits = model(idx)
loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
loss.backward()
grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
opt = torch.optim.AdamW(model.parameters(), lr=adamw["lr"], betas=(adamw["beta1"], adamw["beta2"]),
                        eps=adamw["eps"], weight_decay=adamw["weight_decay"])
losses = []
for step in range(adamw["steps"]):
    opt.zero_grad(set_to_none=True)
    l = F.cross_entropy(model(idx).view(-1, V), targets.view(-1))
    losses.append(l.item())
    l.backward()
    opt.step()

tensors = {}
for n, p in params.items(): tensors[n] = p
tensors["input.idx"] = idx.to(torch.int32)
tensors["input.targets"] = targets.to(torch.int32)
tensors["out.logits"] = logits.detach()
tensors["out.loss"] = loss.detach().reshape(1)
for n, g in grads.items(): tensors["grad." + n] = g
tensors["train.losses"] = torch.tensor(losses, dtype=torch.float32)
for n, p in model.named_parameters(): tensors["after." + n] = p.detach().clone()

config = {k: cfg[k] for k in ("vocab_size", "block_size", "n_embd", "n_head", "n_layer", "batch")}
config.update({"ln_eps": 1e-05, "gelu": "tanh", "tied_lm_head": cfg["tied_lm_head"], "adamw": adamw})
header, blobs, offset = {"__metadata__": {"torch": torch.__version__, "config": json.dumps(config)}}, [], 0
for n, t in tensors.items():
    t = t.contiguous()
    dtype = {torch.float32: "F32", torch.int32: "I32"}[t.dtype]
    raw = t.numpy().tobytes()
    header[n] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
    blobs.append(raw); offset += len(raw)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
with open(out_path, "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h)
    for b in blobs: f.write(b)
print(json.dumps({"wrote": out_path, "bytes": 8 + len(h) + offset, "config": config, "loss": loss.item()}))
