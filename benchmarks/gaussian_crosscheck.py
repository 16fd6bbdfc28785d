"""Trained critics on Gaussians with known MI (Sec. 4.1): InfoNCE against the anchor's plug-in.

For each MI level the script trains ``--runs`` critics per estimator (batched, seeds S..S+R-1)
and prints, in nats and bits, the held-out estimate (mean and spread over runs) beside the true
MI and ``log K``.  The qualitative claim of the paper is that InfoNCE's estimate stays below
``log K`` (it estimates the averaged D_KJS), while the InfoNCE-anchor and JS plug-ins track the
MI.  The defaults are small enough for a CPU; the full version (the paper's architecture, 20k
steps) is meant for a GPU:

    python3 benchmarks/gaussian_crosscheck.py                      # CPU smoke scale
    python3 benchmarks/gaussian_crosscheck.py --device cuda --steps 20000 --hidden 512 \\
        --levels-bits 2,4,6,8,10 --batch 64 --runs 8

The device name is printed with the results, so that the output can be recorded as is.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time

from numerics.exact.units import LN2  # noqa: E402
from numerics.neural.architecture import FEATURE_CRITICS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--levels-bits", default="1,3", help="true MI levels in bits (default 1,3)")
    p.add_argument("--dim", type=int, default=10)
    p.add_argument("--cubic", action="store_true", help="y <- y^3 (MI unchanged)")
    p.add_argument("--critic", default="separable", choices=FEATURE_CRITICS)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=600)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--runs", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default=None, help="cpu | cuda (default: cuda if available)")
    p.add_argument("--estimators", default="infonce,infonce_anchor,js")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)

    import numpy as np
    import torch

    from numerics.neural.device import resolve_device
    from numerics.neural.samplers import GaussianSampler
    from numerics.neural.train import train

    device = resolve_device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        f"CPU ({platform.processor() or platform.machine()}, torch threads " \
        f"{torch.get_num_threads()})"
    K = args.batch - 1
    rows = []
    start = time.perf_counter()
    for bits in [float(b) for b in args.levels_bits.split(",")]:
        sampler = GaussianSampler(args.dim, bits * LN2, cubic=args.cubic)
        for est in args.estimators.split(","):
            res = train(est, args.critic, sampler, batch_size=args.batch, steps=args.steps,
                        lr=args.lr, seed=args.seed, device=device, runs=args.runs,
                        hidden=args.hidden, eval_batches=20, progress=False)
            values = np.asarray(res.per_run("estimate_nats"), dtype=float)
            rows.append({"true_mi_nats": sampler.true_mi_nats, "estimator": est,
                         "kind": res.kind, "estimate_mean_nats": float(values.mean()),
                         "estimate_sd_nats": float(values.std(ddof=1)) if values.size > 1
                         else 0.0, "log_K_nats": math.log(K)})
    seconds = time.perf_counter() - start
    if args.json:
        print(json.dumps({"device": name, "seconds": seconds, "settings": vars(args),
                          "rows": rows}, indent=2))
        return 0
    print(f"Gaussian cross-check on {name}; torch {torch.__version__}, Python "
          f"{sys.version.split()[0]}")
    print(f"d = {args.dim}{' (cubic)' if args.cubic else ''}, critic {args.critic} "
          f"(hidden {args.hidden}), B = {args.batch} (K = {K}, log K = {math.log(K):.3f} nats), "
          f"{args.steps} steps, lr {args.lr}, {args.runs} runs per cell; {seconds:.1f} s")
    print(f"{'true MI [nats]':>15} {'estimator':>15} {'reports':>8} {'estimate [nats]':>16} "
          f"{'sd [nats]':>10} {'estimate [bits]':>16}")
    for r in rows:
        print(f"{r['true_mi_nats']:>15.3f} {r['estimator']:>15} {r['kind']:>8} "
              f"{r['estimate_mean_nats']:>16.3f} {r['estimate_sd_nats']:>10.3f} "
              f"{r['estimate_mean_nats'] / LN2:>16.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
