#!/usr/bin/python3
"""Peer for `troupe bench kernels`: PyTorch f32 matmul GFLOP/s on the given shapes (CPU).

Usage: torch_gemm.py '[[M,N,K,"NT"], ...]' [seconds]  — prints one JSON line
{"peer":"torch","threads":T,"gflops":[...]} (median of 5 timed rounds per shape).
TORCH_THREADS sets the intra-op threads (default 2, as ../shared/bench/torch_gpt.py); BLAS threads
and kernels come from the environment (OPENBLAS_NUM_THREADS, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE).
`troupe bench kernels` runs it through torch_peer.py in every configuration and keeps the best.
"""
import os
import sys, json, time, statistics
import torch

torch.set_num_threads(int(os.environ.get("TORCH_THREADS", "2")))
shapes = json.loads(sys.argv[1])
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
out = []
for M, N, K, trans in shapes:
    a = torch.randn(K, M) if trans[0] == "T" else torch.randn(M, K)
    b = torch.randn(N, K) if trans[1] == "T" else torch.randn(K, N)
    A = a.t() if trans[0] == "T" else a
    B = b.t() if trans[1] == "T" else b
    torch.mm(A, B)
    rounds = []
    for _ in range(5):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds / 5:
            torch.mm(A, B); n += 1
        rounds.append(2.0 * M * N * K * n / (time.perf_counter() - t0) / 1e9)
    out.append(round(statistics.median(rounds), 1))
print(json.dumps({"peer": "torch", "version": torch.__version__, "threads": torch.get_num_threads(), "gflops": out}))
