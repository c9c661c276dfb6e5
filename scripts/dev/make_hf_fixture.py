#!/usr/bin/python3
"""Writes Hugging Face-layout model and PEFT adapter directories with a PyTorch reference, in the
format of ../shared/fixtures/hf (see ../shared/fixtures/README.md), for sizes and settings the
shared ones do not cover. Plain PyTorch 1.13 (no transformers/peft needed): the semantics are
written out here — LlamaForCausalLM (RMSNorm, rotate_half RoPE with rope_theta and linear/llama3
rope_scaling, grouped-query attention, SwiGLU, optional attention_bias and head_dim, tied or
untied head) and GPT2LMHeadModel (Conv1D weights stored (in, out), gelu_new, tied or untied),
and PEFT LoRA / DoRA on top (y = base(x) + (m/n - 1)·(x Wᵀ) + (m/n)·s·B(A x) with the row norm
n = ‖W + s·B·A‖ detached, as peft's DoRA).

Dev-only: the tests read the directories this writes (tests/models/fixtures/hf/) and never need
torch. Usage:
  make_hf_fixture.py model OUT_DIR '{"arch":"llama", ...config.json keys..., "batch":2, "seq":9,
                                     "seed":1, "dtype":"F32"|"F16"|"BF16", "shards":1,
                                     "prefix":true, "buffers":false, "bf16_reference":false}'
  make_hf_fixture.py adapter OUT_DIR BASE_DIR '{"r":3, "lora_alpha":5, "target_modules":[...],
                                                "use_dora":false, "layers_to_transform":null,
                                                "seed":2}'
A model's reference: input.idx, input.targets, out.logits, out.loss, grad.<HF name> of every
parameter, train.losses and after.<HF name> for 10 AdamW steps (lr 1e-3, betas 0.9/0.999, eps
1e-8, weight decay 0.01 on every parameter), all computed in float32 on the stored weights
(rounded to the file's dtype first). An adapter's reference: the same on the base exactly as
stored in BASE_DIR, for the adapter tensors only (base frozen).
"""
import json, math, os, struct, sys
import torch, torch.nn.functional as F

ADAMW = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}
STEPS = 10


# ---- safetensors (the format, not the library) ------------------------------------------
def st_dtype(t):
    return {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int32: "I32"}[t.dtype]


def raw_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for n, t in tensors.items():
        raw = raw_bytes(t)
        header[n] = {"dtype": st_dtype(t), "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, en = e["data_offsets"]
        raw = bytearray(data[b:en])
        if e["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype={"F32": torch.float32, "F16": torch.float16, "I32": torch.int32}[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


# ---- Llama (LlamaForCausalLM semantics) --------------------------------------------------
def llama_inv_freq(c, hs):
    inv = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, hs, 2).float() / hs))
    s = c.get("rope_scaling")
    if not s:
        return inv
    kind = s.get("rope_type", s.get("type"))
    if kind == "linear":
        return inv / s["factor"]
    if kind == "llama3":
        factor, lo, hi, old = s["factor"], s["low_freq_factor"], s["high_freq_factor"], s["original_max_position_embeddings"]
        low_wl, high_wl = old / lo, old / hi
        wl = 2 * math.pi / inv
        scaled = torch.where(wl > low_wl, inv / factor, inv)
        smooth = (old / wl - lo) / (hi - lo)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wl < high_wl) * ~(wl > low_wl)
        return torch.where(medium, smoothed, scaled)
    raise SystemExit(f"rope_scaling {kind} not written here")


def llama_shapes(c):
    V, C, I, H, L = c["vocab_size"], c["hidden_size"], c["intermediate_size"], c["num_attention_heads"], c["num_hidden_layers"]
    KV = c.get("num_key_value_heads", H)
    hs = c.get("head_dim", C // H)
    bias = c.get("attention_bias", False)
    shapes = {"model.embed_tokens.weight": [V, C]}
    for i in range(L):
        p = f"model.layers.{i}."
        for name, rows, cols in (("q_proj", H * hs, C), ("k_proj", KV * hs, C), ("v_proj", KV * hs, C), ("o_proj", C, H * hs)):
            shapes[p + f"self_attn.{name}.weight"] = [rows, cols]
            if bias:
                shapes[p + f"self_attn.{name}.bias"] = [rows]
        shapes[p + "mlp.gate_proj.weight"] = [I, C]
        shapes[p + "mlp.up_proj.weight"] = [I, C]
        shapes[p + "mlp.down_proj.weight"] = [C, I]
        shapes[p + "input_layernorm.weight"] = [C]
        shapes[p + "post_attention_layernorm.weight"] = [C]
    shapes["model.norm.weight"] = [C]
    if not c.get("tie_word_embeddings", False):
        shapes["lm_head.weight"] = [V, C]
    return shapes


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def llama_forward(c, P, idx, lin):
    """lin(name, x) applies the Linear named `name` (so adapters can wrap it)."""
    B, T = idx.shape
    C, H, L = c["hidden_size"], c["num_attention_heads"], c["num_hidden_layers"]
    KV = c.get("num_key_value_heads", H)
    hs = c.get("head_dim", C // H)
    eps = c.get("rms_norm_eps", 1e-6)
    inv = llama_inv_freq(c, hs)
    freqs = torch.outer(torch.arange(T).float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]

    def rms(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))

    x = P["model.embed_tokens.weight"][idx]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = f"model.layers.{i}."
        h = rms(x, P[p + "input_layernorm.weight"])
        q = lin(p + "self_attn.q_proj", h).view(B, T, H, hs).transpose(1, 2)
        k = lin(p + "self_attn.k_proj", h).view(B, T, KV, hs).transpose(1, 2)
        v = lin(p + "self_attn.v_proj", h).view(B, T, KV, hs).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)
        att = att.masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + lin(p + "self_attn.o_proj", (att @ v).transpose(1, 2).reshape(B, T, H * hs))
        h = rms(x, P[p + "post_attention_layernorm.weight"])
        x = x + lin(p + "mlp.down_proj", F.silu(lin(p + "mlp.gate_proj", h)) * lin(p + "mlp.up_proj", h))
    x = rms(x, P["model.norm.weight"])
    head = P["model.embed_tokens.weight"] if c.get("tie_word_embeddings", False) else P["lm_head.weight"]
    return x @ head.t()


# ---- GPT-2 (GPT2LMHeadModel semantics, Conv1D weights (in, out)) --------------------------
def gpt2_shapes(c):
    V, C, Tb, L = c["vocab_size"], c["n_embd"], c["n_positions"], c["n_layer"]
    s = {"transformer.wte.weight": [V, C], "transformer.wpe.weight": [Tb, C]}
    for i in range(L):
        p = f"transformer.h.{i}."
        s.update({p + "ln_1.weight": [C], p + "ln_1.bias": [C], p + "attn.c_attn.weight": [C, 3 * C], p + "attn.c_attn.bias": [3 * C],
                  p + "attn.c_proj.weight": [C, C], p + "attn.c_proj.bias": [C], p + "ln_2.weight": [C], p + "ln_2.bias": [C],
                  p + "mlp.c_fc.weight": [C, 4 * C], p + "mlp.c_fc.bias": [4 * C], p + "mlp.c_proj.weight": [4 * C, C], p + "mlp.c_proj.bias": [C]})
    s.update({"transformer.ln_f.weight": [C], "transformer.ln_f.bias": [C]})
    if not c.get("tie_word_embeddings", True):
        s["lm_head.weight"] = [V, C]
    return s


def gpt2_forward(c, P, idx, lin):
    B, T = idx.shape
    C, H, L = c["n_embd"], c["n_head"], c["n_layer"]
    eps = c.get("layer_norm_epsilon", 1e-5)
    ln = lambda x, n: F.layer_norm(x, (C,), P[n + ".weight"], P[n + ".bias"], eps)
    x = P["transformer.wte.weight"][idx] + P["transformer.wpe.weight"][torch.arange(T)]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(L):
        p = f"transformer.h.{i}."
        q, k, v = (z.view(B, T, H, C // H).transpose(1, 2) for z in lin(p + "attn.c_attn", ln(x, p + "ln_1")).split(C, 2))
        att = ((q @ k.transpose(-2, -1)) / math.sqrt(C // H)).masked_fill(~mask, float("-inf")).softmax(-1)
        x = x + lin(p + "attn.c_proj", (att @ v).transpose(1, 2).reshape(B, T, C))
        x = x + lin(p + "mlp.c_proj", F.gelu(lin(p + "mlp.c_fc", ln(x, p + "ln_2")), approximate="tanh"))
    x = ln(x, "transformer.ln_f")
    head = P["transformer.wte.weight"] if c.get("tie_word_embeddings", True) else P["lm_head.weight"]
    return x @ head.t()


ARCH = {
    "llama": {"shapes": llama_shapes, "forward": llama_forward, "conv1d": False, "cls": "LlamaForCausalLM"},
    "gpt2": {"shapes": gpt2_shapes, "forward": gpt2_forward, "conv1d": True, "cls": "GPT2LMHeadModel"},
}


def base_linear(arch, P, name, x):
    """The plain Linear (Llama) or Conv1D (GPT-2) named `name`; returns (y, W as (out, in))."""
    w = P[name + ".weight"]
    W = w.t() if ARCH[arch]["conv1d"] else w
    y = x @ W.t()
    if name + ".bias" in P:
        y = y + P[name + ".bias"]
    return y, W


def init_params(arch, shapes):
    """Llama: unit-scale weights. GPT-2: GPT-2-sized ones (std 0.02) as the shared fixtures: its
    attention key bias has an exactly zero gradient, and AdamW turns the float noise of that zero
    into updates; with small weights the noise stays far below eps (see docs/kernels.md)."""
    P = {}
    gpt2 = ARCH[arch]["conv1d"]
    for n, s in shapes.items():
        if n.endswith("norm.weight") or ".ln_" in n and n.endswith("weight") or n.endswith("ln_f.weight"):
            t = 1.0 + (0.05 if gpt2 else 0.1) * torch.randn(s)
        elif n.endswith(".bias"):
            t = (0.02 if gpt2 else 0.05) * torch.randn(s)
        elif gpt2:
            t = (0.06 if ("wte" in n or "wpe" in n) else 0.02) * torch.randn(s)
        elif "embed_tokens" in n or "wte" in n or "wpe" in n:
            t = 0.3 * torch.randn(s)
        else:
            fan_in = s[0] if (ARCH[arch]["conv1d"] and "transformer.h." in n) else s[-1]
            t = torch.randn(s) / math.sqrt(fan_in)
        P[n] = t
    return P


def noise_check(loss64, params, grads):
    """AdamW's first step moves each element by about lr * g / (|g| + eps): an element whose f32
    gradient is tiny and off (compared with the same gradient in float64) moves by its rounding
    noise, differently in every implementation, and the trajectory stops being a fair test.
    Refuse such a draw. (GPT-2's attention key bias has an exactly zero gradient by design; at
    GPT-2-sized weights its noise stays far below eps: docs/kernels.md.)"""
    p64 = {n: p.detach().double().requires_grad_(True) for n, p in params.items()}
    loss64(p64).backward()
    for n, g in grads.items():
        if n.endswith("attn.c_attn.bias"):
            continue
        g64 = p64[n].grad
        # the first update's shift from the f32 error: lr * eps / (|g| + eps)^2 * |g32 - g64|
        shift = ADAMW["lr"] * ADAMW["eps"] / (g64.abs() + ADAMW["eps"]) ** 2 * (g.double() - g64).abs()
        noisy = shift > 1e-6  # a tenth of verify's after_params tolerance, for any kernel set (arm64's portable ones round differently)
        if noisy.any():
            raise SystemExit(f"{n}: {int(noisy.sum())} gradient element(s) are float noise (f32 {g[noisy][0].item():.3e} vs f64 {g64[noisy][0].item():.3e}); AdamW would follow it. Pick another seed.")


def train_reference(forward_fn, params, idx, targets, V):
    """logits, loss, grads of `params` (a dict of leaves), then 10 AdamW steps on them."""
    logits = forward_fn(idx)
    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in params.items()}
    opt = torch.optim.AdamW(list(params.values()), lr=ADAMW["lr"], betas=(ADAMW["beta1"], ADAMW["beta2"]),
                            eps=ADAMW["eps"], weight_decay=ADAMW["weight_decay"])
    losses = []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        l = F.cross_entropy(forward_fn(idx).view(-1, V), targets.view(-1))
        losses.append(l.item())
        l.backward()
        opt.step()
    return logits.detach(), loss.detach().reshape(1), grads, torch.tensor(losses, dtype=torch.float32)


def make_model(out, cfg):
    arch = cfg.pop("arch")
    B, T, seed = cfg.pop("batch", 2), cfg.pop("seq", 8), cfg.pop("seed", 1)
    dtype = cfg.pop("dtype", "F32")
    shards = cfg.pop("shards", 1)
    prefix = cfg.pop("prefix", True)
    buffers = cfg.pop("buffers", False)
    bf16_ref = cfg.pop("bf16_reference", False)
    torch.manual_seed(seed)
    A = ARCH[arch]
    config = {"architectures": [A["cls"]], "model_type": arch, **cfg, "torch_dtype": {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[dtype]}
    if arch == "llama":
        config.setdefault("hidden_act", "silu")
    shapes = A["shapes"](config)
    P = init_params(arch, shapes)
    tdt = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}[dtype]
    stored = {n: t.to(tdt) for n, t in P.items()}
    P = {n: t.float().clone().requires_grad_(True) for n, t in stored.items()}  # what the file holds, in f32
    V = config["vocab_size"]
    idx = torch.randint(0, V, (B, T))
    targets = torch.randint(0, V, (B, T))
    fwd = lambda i: A["forward"](config, P, i, lambda name, x: base_linear(arch, P, name, x)[0])
    logits, loss, grads, losses = train_reference(fwd, P, idx, targets, V)
    noise_check(lambda Q: F.cross_entropy(A["forward"](config, Q, idx, lambda name, x: base_linear(arch, Q, name, x)[0]).view(-1, V), targets.view(-1)),
                {n: t.float() for n, t in stored.items()}, grads)

    os.makedirs(out, exist_ok=True)
    fname = lambda n: n if prefix or not n.startswith("transformer.") else n[len("transformer."):]
    names = list(stored.keys())
    if buffers and arch == "gpt2":  # old checkpoints carry the causal mask buffers
        Tb = config["n_positions"]
        for i in range(config["n_layer"]):
            stored[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(Tb, Tb)).view(1, 1, Tb, Tb)
            names.append(f"transformer.h.{i}.attn.bias")
    if shards == 1:
        write_safetensors(os.path.join(out, "model.safetensors"), {fname(n): stored[n] for n in names}, {"format": "pt"})
    else:
        per = math.ceil(len(names) / shards)
        weight_map, total = {}, 0
        for s in range(shards):
            f = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
            part = {fname(n): stored[n] for n in names[s * per:(s + 1) * per]}
            write_safetensors(os.path.join(out, f), part, {"format": "pt"})
            for n, t in part.items():
                weight_map[n] = f
                total += t.numel() * t.element_size()
        write_json(os.path.join(out, "model.safetensors.index.json"), {"metadata": {"total_size": total}, "weight_map": weight_map})
    write_json(os.path.join(out, "config.json"), config)
    ref = {"input.idx": idx.to(torch.int32), "input.targets": targets.to(torch.int32), "out.logits": logits, "out.loss": loss}
    ref.update({"grad." + n: g for n, g in grads.items()})
    ref["train.losses"] = losses
    ref.update({"after." + n: p.detach().clone() for n, p in P.items()})
    write_safetensors(os.path.join(out, "reference.safetensors"), ref, {"torch": torch.__version__, "adamw": json.dumps(ADAMW)})
    if bf16_ref:  # logits of the BF16-rounded weights, computed in f32
        Pb = {n: t.to(torch.bfloat16) for n, t in stored.items() if n in shapes}
        write_safetensors(os.path.join(out, "model.bf16.safetensors"), {fname(n): t for n, t in Pb.items()}, {"format": "pt"})
        Pf = {n: t.float() for n, t in Pb.items()}
        with torch.no_grad():
            lb = A["forward"](config, Pf, idx, lambda name, x: base_linear(arch, Pf, name, x)[0])
        write_safetensors(os.path.join(out, "reference.bf16.safetensors"), {"input.idx": idx.to(torch.int32), "out.logits": lb})
    print(json.dumps({"wrote": out, "arch": arch, "loss": loss.item(), "params": sum(t.numel() for t in stored.values())}))


def make_adapter(out, base_dir, cfg):
    seed = cfg.pop("seed", 2)
    torch.manual_seed(seed)
    config = json.load(open(os.path.join(base_dir, "config.json")))
    arch = config["model_type"]
    A = ARCH[arch]
    if os.path.exists(os.path.join(base_dir, "model.safetensors.index.json")):
        idx_map = json.load(open(os.path.join(base_dir, "model.safetensors.index.json")))["weight_map"]
        stored = {}
        for f in sorted(set(idx_map.values())):
            stored.update(read_safetensors(os.path.join(base_dir, f)))
    else:
        stored = read_safetensors(os.path.join(base_dir, "model.safetensors"))
    P = {}
    for n, t in stored.items():
        if arch == "gpt2" and not n.startswith("transformer.") and n != "lm_head.weight":
            n = "transformer." + n
        if n.endswith(".attn.bias") or n.endswith(".attn.masked_bias"):
            continue
        P[n] = t.float()
    r, alpha = cfg["r"], cfg.get("lora_alpha", cfg["r"])
    scale = alpha / r
    dora = cfg.get("use_dora", False)
    tm, layers = cfg["target_modules"], cfg.get("layers_to_transform")
    linear_names = sorted({n[: -len(".weight")] for n in P if n.endswith(".weight") and len(P[n].shape) == 2
                           and ("embed" not in n and "wte" not in n and "wpe" not in n and n != "lm_head.weight")})

    def selected(name):
        ok = re.fullmatch(tm, name) is not None if isinstance(tm, str) else any(name == t or name.endswith("." + t) for t in tm)
        if ok and layers is not None:
            m = re.search(r"\.(?:layers|h)\.(\d+)\.", name)
            ok = m is not None and int(m.group(1)) in layers
        return ok

    targets = [n for n in linear_names if selected(n)]
    ad = {}
    for n in targets:
        out_f, in_f = (P[n + ".weight"].t() if A["conv1d"] else P[n + ".weight"]).shape
        ad[n + ".lora_A"] = (torch.randn(r, in_f) / math.sqrt(in_f)).requires_grad_(True)
        ad[n + ".lora_B"] = (0.3 * torch.randn(out_f, r)).requires_grad_(True)  # nonzero: the adapter changes the output
        if dora:
            W = P[n + ".weight"].t() if A["conv1d"] else P[n + ".weight"]
            base_norm = (W + scale * ad[n + ".lora_B"].detach() @ ad[n + ".lora_A"].detach()).norm(dim=1)
            ad[n + ".lora_magnitude"] = (base_norm * (1.0 + 0.1 * torch.randn(out_f))).requires_grad_(True)

    def lin_of(P, ad):
        return lambda name, x: lin(P, ad, name, x)

    def lin(P, ad, name, x):
        y, W = base_linear(arch, P, name, x)
        if name not in targets:
            return y
        a, b = ad[name + ".lora_A"], ad[name + ".lora_B"]
        lora = (x @ a.t()) @ b.t() * scale
        if not dora:
            return y + lora
        m = ad[name + ".lora_magnitude"]
        n = (W + scale * b @ a).norm(dim=1).detach()
        coef = m / n
        return y + (coef - 1) * (x @ W.t()) + coef * lora

    V = config["vocab_size"]
    B, T = cfg.get("batch", 2), cfg.get("seq", 7)
    idx = torch.randint(0, V, (B, T))
    targets_t = torch.randint(0, V, (B, T))
    fwd = lambda i: A["forward"](config, P, i, lin_of(P, ad))
    initial = {n: t.detach().clone() for n, t in ad.items()}  # the file holds the adapter before the AdamW steps
    logits, loss, grads, losses = train_reference(fwd, ad, idx, targets_t, V)
    P64 = {n: t.double() for n, t in P.items()}
    noise_check(lambda Q: F.cross_entropy(A["forward"](config, P64, idx, lin_of(P64, Q)).view(-1, V), targets_t.view(-1)), initial, grads)
    os.makedirs(out, exist_ok=True)
    pname = lambda n: "base_model.model." + n.replace(".lora_magnitude", ".lora_magnitude_vector") + ".weight"
    write_safetensors(os.path.join(out, "adapter_model.safetensors"), {pname(n): initial[n] for n in ad}, {"format": "pt"})
    write_json(os.path.join(out, "adapter_config.json"), {
        "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": r, "lora_alpha": alpha, "lora_dropout": 0.0,
        "target_modules": tm, "bias": "none", "fan_in_fan_out": A["conv1d"], "use_dora": dora,
        "layers_to_transform": layers, "base_model_name_or_path": os.path.relpath(base_dir, out)})
    ref = {"input.idx": idx.to(torch.int32), "input.targets": targets_t.to(torch.int32), "out.logits": logits, "out.loss": loss}
    ref.update({"grad." + pname(n): g for n, g in grads.items()})
    ref["train.losses"] = losses
    ref.update({"after." + pname(n): p.detach().clone() for n, p in ad.items()})
    write_safetensors(os.path.join(out, "reference.safetensors"), ref, {"torch": torch.__version__, "adamw": json.dumps(ADAMW)})
    print(json.dumps({"wrote": out, "arch": arch, "targets": len(targets), "dora": dora, "loss": loss.item()}))


import re  # noqa: E402 (used by make_adapter)

if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "model":
        make_model(sys.argv[2], json.loads(sys.argv[3]))
    elif kind == "adapter":
        make_adapter(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))
    else:
        raise SystemExit(__doc__)
