#!/usr/bin/python3
"""Runs one PyTorch peer script in this process and says which BLAS it ran on, and whether right.

Usage: torch_peer.py SCRIPT [ARGS...]   (run with /usr/bin/python3: Debian's PyTorch)

The peer configuration comes from the environment, as `troupe bench` sets it for each candidate:
  TORCH_THREADS         intra-op threads (torch.set_num_threads; the peer script applies it too)
  OPENBLAS_NUM_THREADS  BLAS threads
  OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE   the kernel family OpenBLAS picks (unset: by CPU detection)

Before the script runs, torch.mm in float32 is checked against float64 on a few shapes (odd sizes,
every transpose): each element's error must stay within 4 * sqrt(K) * u of sum_k |a_ik| |b_kj|
(u = 2^-24; a probabilistic rounding bound, Higham & Mary 2019), which a float32 GEMM meets with a
wide margin and a GEMM that rounds its inputs to bf16 or tf32 misses by over 100x. When the check
fails the script is not run. Afterwards one JSON line {"peer_env": {...}} is printed: torch
version, intra-op threads, the BLAS library, its build config and core name (from
openblas_get_config / openblas_get_corename of the library torch loaded), BLAS threads, and the
check. The script's own output (one JSON line) comes before it.
"""
import ctypes
import json
import math
import os
import runpy
import sys

import torch

U = 2.0 ** -24
# (M, N, K, trans): odd sizes so no kernel gets only its favourite multiples
SHAPES = [(64, 64, 64, "NN"), (129, 67, 300, "NT"), (200, 96, 513, "TN"), (256, 384, 512, "NN")]


def openblas():
    """The OpenBLAS that torch loaded (None when torch uses another BLAS)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "openblas" in line.split()[-1].lower()}
    # libopenblas itself first (Debian's libblas.so.3 is a thin front for it)
    for path in sorted(paths, key=lambda p: ("libopenblas" not in p, p)):
        if ".so" not in path:
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_num_threads.restype = ctypes.c_int
            return path, lib
        except (OSError, AttributeError):
            continue
    return None, None


def check_gemm(mm=torch.mm, shapes=SHAPES, seed=0):
    """Max over elements of |C32 - C64| / (|A| |B|), against 4 sqrt(K) u, per shape."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for M, N, K, trans in shapes:
        a = torch.randn(K, M, generator=g) if trans[0] == "T" else torch.randn(M, K, generator=g)
        b = torch.randn(N, K, generator=g) if trans[1] == "T" else torch.randn(K, N, generator=g)
        A = a.t() if trans[0] == "T" else a
        B = b.t() if trans[1] == "T" else b
        c = mm(A, B).double()
        ref = A.double() @ B.double()
        scale = A.double().abs() @ B.double().abs()
        err = ((c - ref).abs() / scale.clamp_min(1e-300)).max().item()
        bound = 4.0 * math.sqrt(K) * U
        out.append({"M": M, "N": N, "K": K, "trans": trans, "rel_err": err, "bound": bound,
                    "ok": bool(math.isfinite(err) and err <= bound)})
    return {"ok": all(s["ok"] for s in out), "max_rel_err": max(s["rel_err"] for s in out),
            "worst_margin": max(s["rel_err"] / s["bound"] for s in out), "shapes": out}


def describe(check):
    path, lib = openblas()
    env = {k: os.environ[k] for k in ("OPENBLAS_NUM_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TORCH_THREADS", "OMP_NUM_THREADS") if k in os.environ}
    return {"peer_env": {
        "torch_version": torch.__version__,
        "intra_op_threads": torch.get_num_threads(),
        "blas_library": path,
        "blas_config": lib.openblas_get_config().decode() if lib else None,
        "blas_core": lib.openblas_get_corename().decode() if lib else None,
        "blas_threads": lib.openblas_get_num_threads() if lib else None,
        "environment": env,
        "check": check,
    }}


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: torch_peer.py SCRIPT [ARGS...]")
    torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
    check = check_gemm()
    if check["ok"]:
        script = sys.argv[1]
        sys.argv = sys.argv[1:]
        sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
        runpy.run_path(script, run_name="__main__")
        sys.stdout.flush()
    print(json.dumps(describe(check)), flush=True)


if __name__ == "__main__":
    main()
