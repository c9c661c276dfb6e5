#!/usr/bin/python3
"""Writes GPT reference fixtures in the format of ../shared/fixtures (PyTorch, float32, CPU).

One fixture:
  make_gpt_fixture.py OUT.safetensors '{"vocab_size":37,"block_size":11,"n_embd":24,"n_head":3,
                                       "n_layer":3,"batch":3,"seq":9,"tied_lm_head":true,
                                       "ignore_frac":0.25,"seed":7}'
Many fixtures in one process (torch is imported once; `troupe verify --sweep` and the seed
sweep test use this):
  make_gpt_fixture.py --many OUTDIR < SPECS.json
  SPECS.json is a list of such configs, each with a "name"; OUTDIR/<name>.safetensors is
  written for each and one JSON line per fixture is printed.
"seq" (<= block_size) is the length of the input rows; "ignore_frac" marks that share of the
targets as -100 (skipped by the loss). The AdamW settings are those of gpt_reference.json.
PyTorch runs on one thread, so the same spec always gives the same file.
"""
import json, math, os, struct, sys
import torch, torch.nn as nn, torch.nn.functional as F

DEFAULTS = {"vocab_size": 37, "block_size": 11, "n_embd": 24, "n_head": 3, "n_layer": 3, "batch": 3,
            "seq": 9, "tied_lm_head": True, "ignore_frac": 0.0, "seed": 7}
ADAMW = {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-08, "weight_decay": 0.01, "steps": 10}


class Block(nn.Module):
    def __init__(s, D, H):
        super().__init__()
        s.D, s.H = D, H
        s.ln_1, s.qkv, s.proj = nn.LayerNorm(D), nn.Linear(D, 3 * D), nn.Linear(D, D)
        s.ln_2, s.fc, s.fc_proj = nn.LayerNorm(D), nn.Linear(D, 4 * D), nn.Linear(4 * D, D)

    def forward(s, x):
        b, t, _ = x.shape
        D, H = s.D, s.H
        q, k, v = (z.view(b, t, H, D // H).transpose(1, 2) for z in s.qkv(s.ln_1(x)).split(D, 2))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H))
        att = att.masked_fill(~torch.tril(torch.ones(t, t, dtype=torch.bool)), float("-inf")).softmax(-1)
        x = x + s.proj((att @ v).transpose(1, 2).reshape(b, t, D))
        return x + s.fc_proj(F.gelu(s.fc(s.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(s, V, Tb, D, H, L, tied):
        super().__init__()
        s.tied = tied
        s.wte, s.wpe = nn.Embedding(V, D), nn.Embedding(Tb, D)
        s.h = nn.ModuleList([Block(D, H) for _ in range(L)]); s.ln_f = nn.LayerNorm(D)
        if not tied: s.lm_head = nn.Linear(D, V, bias=False)

    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for blk in s.h: x = blk(x)
        x = s.ln_f(x)
        return x @ (s.wte.weight if s.tied else s.lm_head.weight).t()


def make(spec):
    """The fixture's tensors and its config (the __metadata__.config) for one spec."""
    cfg = dict(DEFAULTS); cfg.update(spec)
    torch.manual_seed(cfg["seed"])
    V, Tb, D, H, L, B, T = (cfg[k] for k in ("vocab_size", "block_size", "n_embd", "n_head", "n_layer", "batch", "seq"))
    if D % H != 0 or T > Tb: raise ValueError(f"bad spec {spec}: n_embd % n_head and seq <= block_size")
    model = GPT(V, Tb, D, H, L, cfg["tied_lm_head"])
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
        if (targets >= 0).sum() == 0: targets[0, 0] = 0  # keep at least one target
    logits = model(idx)
    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    opt = torch.optim.AdamW(model.parameters(), lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                            eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
    losses = []
    for _ in range(ADAMW["steps"]):
        opt.zero_grad(set_to_none=True)
        l = F.cross_entropy(model(idx).view(-1, V), targets.view(-1))
        losses.append(l.item())
        l.backward()
        opt.step()

    tensors = dict(params)
    tensors["input.idx"] = idx.to(torch.int32)
    tensors["input.targets"] = targets.to(torch.int32)
    tensors["out.logits"] = logits.detach()
    tensors["out.loss"] = loss.detach().reshape(1)
    for n, g in grads.items(): tensors["grad." + n] = g
    tensors["train.losses"] = torch.tensor(losses, dtype=torch.float32)
    for n, p in model.named_parameters(): tensors["after." + n] = p.detach().clone()
    config = {k: cfg[k] for k in ("vocab_size", "block_size", "n_embd", "n_head", "n_layer", "batch")}
    config.update({"ln_eps": 1e-05, "gelu": "tanh", "tied_lm_head": cfg["tied_lm_head"], "adamw": ADAMW})
    return tensors, config, cfg, loss.item()


def write(out_path, tensors, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
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
    return 8 + len(h) + offset


def one(out_path, spec):
    tensors, config, cfg, loss = make(spec)
    meta = {"torch": torch.__version__, "config": json.dumps(config), "generator": json.dumps(cfg)}
    size = write(out_path, tensors, meta)
    print(json.dumps({"wrote": out_path, "torch": torch.__version__, "bytes": size, "config": config, "spec": cfg, "loss": loss}), flush=True)


def main(argv):
    torch.set_num_threads(1)
    if len(argv) >= 2 and argv[1] == "--many":
        if len(argv) != 3: sys.exit("usage: make_gpt_fixture.py --many OUTDIR < SPECS.json")
        specs = json.load(sys.stdin)
        os.makedirs(argv[2], exist_ok=True)
        for spec in specs:
            name = spec.pop("name")
            if not name or "/" in name or name.startswith("."): sys.exit(f"bad fixture name {name!r}")
            one(os.path.join(argv[2], name + ".safetensors"), spec)
        return
    if len(argv) < 2 or argv[1].startswith("-"): sys.exit(__doc__)
    one(argv[1], json.loads(argv[2]) if len(argv) > 2 else {})


if __name__ == "__main__":
    main(sys.argv)
