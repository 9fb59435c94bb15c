#!/usr/bin/python3
"""The best time of one GEMM shape and form over a few seconds, through numpy's BLAS (Debian's
numpy calls OpenBLAS): the twin of bench's GemmBest runner.

    OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Haswell bench/pytorch/numpy_gemm.py NN|NT|TN M K N [seconds]
"""
import sys
import time

import numpy as np

form, m, k, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
seconds = float(sys.argv[5]) if len(sys.argv) > 5 else 3.0
rng = np.random.default_rng(1)
a = rng.random((k, m) if form[0] == "T" else (m, k), dtype=np.float32)
b = rng.random((n, k) if form[1] == "T" else (k, n), dtype=np.float32)
A = a.T if form[0] == "T" else a  # a transposed view: numpy passes the transposition to sgemm
B = b.T if form[1] == "T" else b
c = np.empty((m, n), dtype=np.float32)
flops = 2.0 * m * n * k
reps = max(1, int(2e10 / flops))
best = float("inf")
end = time.perf_counter() + seconds
while time.perf_counter() < end:
    t = time.perf_counter()
    for _ in range(reps):
        np.matmul(A, B, out=c)
    best = min(best, (time.perf_counter() - t) / reps)
print(f"{form} {m}x{k}x{n}: best {best * 1e6:.1f} us, {flops / best / 1e9:.1f} GFLOPS (OpenBLAS through numpy)")
