#!/usr/bin/env python3
"""sdpa_torch.py --append measurements.csv [--quick]: PyTorch's
scaled_dot_product_attention (forward, not causal) over the shapes the fused
attention kernel of clustersim-kernels runs, timed the same way (CUDA
events, warm-up, median/min/max of repeats of `inner` calls lasting about
0.2 ms), appended as rows of kernel 'sdpa_torch' (docs/calibration.md).
calibrate fits them apart from our kernel's and estimates use that fit;
validate prints them as their own group."""
import argparse
import math
import sys

import torch
import torch.nn.functional as F


def time_op(fn, reps=20, warmup=3):
    for _ in range(warmup):
        fn()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record(); fn(); b.record(); b.synchronize()
    inner = int(min(1000, max(1, math.ceil(0.2 / max(a.elapsed_time(b), 1e-4)))))
    times = []
    for _ in range(reps):
        a.record()
        for _ in range(inner):
            fn()
        b.record(); b.synchronize()
        times.append(1000.0 * a.elapsed_time(b) / inner)
    times.sort()
    n = len(times)
    med = times[n // 2] if n % 2 else (times[n // 2 - 1] + times[n // 2]) / 2
    return med, times[0], times[-1], reps * inner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--append", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seq = 512
    with open(args.append, "a") as out:  # row by row: a run stopped early keeps what it measured
        while seq <= (2048 if args.quick else 16384):
            for hd in (64, 128):
                for heads in (16, 32):
                    b = max(1, 16384 // seq)
                    for name, dt in (("bf16", torch.bfloat16), ("fp16", torch.float16)):
                        q, k, v = (torch.randn(b, heads, seq, hd, device="cuda", dtype=dt) for _ in range(3))
                        med, lo, hi, it = time_op(lambda: F.scaled_dot_product_attention(q, k, v))
                        bh = b * heads
                        row = (f"sdpa_torch,{name},{bh}x{seq}x{seq}x{hd},{seq},{seq},{hd},{bh},0,"
                               f"{4 * bh * seq * hd * q.element_size()},{4 * bh * seq * seq * hd},"
                               f"{med:.4f},{lo:.4f},{hi:.4f},{it}")
                        out.write(row + "\n")
                        out.flush()
                        print("  " + row, file=sys.stderr)
                        del q, k, v
            seq *= 2

if __name__ == "__main__":
    main()
