"""Speed of a whole Figure 1 panel (issue #5): the Gaussian staircase, the eight Fig. 1
estimators (six trainings: NWJ / NWJ-plugin and JS / JS-plugin share a critic), joint and
separable critics, ``--seeds`` seeds, ``--steps-per-level`` x 5 levels at ``B = --batch``, the
paper's architecture (2 x ``--hidden`` ReLU, embedding 16) and Adam lr 1e-4; exactly what
``infonce-anchor bench benchmarks/configs/fig1_gaussian.toml`` runs.

Two ways, same code (:func:`numerics.bench.staircase.run_staircase`), measured in one run:

* **batched**: per training and critic one call with ``runs = seeds`` (the sweep's way);
* **sequential**: the same runs one after another, ``runs = 1`` and seed ``s``.  Timing all of
  them takes ``seeds`` times as long as the batched panel is slow, so ``--sequential-seeds N``
  times the first ``N`` seeds of every training and critic and scales by ``seeds / N``
  (every sequential run does the same work, so its time is linear in the number of runs; the
  printed figure says it is extrapolated and from how many runs).

Goal (issue #5): the full panel (20 seeds, 4000 steps a level, B = 64, hidden 512) in at most
5 minutes on one H100.  On the 2-core CPU use the reduced defaults below.

    python benchmarks/bench_sweep.py [--device auto|cpu|cuda] [--seeds 20]
        [--steps-per-level 4000] [--hidden 512] [--batch 64] [--critics joint,separable]
        [--sequential-seeds 2] [--precision fp32|tf32|bf16] [--sampling per-run|unit] [--json]

``--sampling unit`` draws every run's batch from one generator per call (a few kernel launches a
step instead of a few per run; see :class:`numerics.neural.streams.UnitStream`); ``--precision``
sets the critic's arithmetic (:data:`numerics.neural.device.PRECISIONS`).  ``benchmarks/gpu_session.py``
adds the grouped trainings and CUDA graphs and validates the precision.

CPU defaults: ``--seeds 4 --steps-per-level 50 --hidden 128 --sequential-seeds 4``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from numerics.bench.estimators import FIGURE1, distinct_trainings  # noqa: E402
from numerics.bench.staircase import run_staircase  # noqa: E402
from numerics.bench.tasks import GaussianStaircase  # noqa: E402
from numerics.neural.device import resolve_device  # noqa: E402


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_panel(device, critics, seeds, seq_seeds, staircase, args) -> dict:
    kw = dict(batch_size=args.batch, lr=1e-4, device=device, hidden=args.hidden,
              layers=2, embed=16, eval_batches=16, progress=False, sampling=args.sampling,
              precision=args.precision)
    # warm-up (CUDA context, kernels, sympy-compiled scoring rules)
    warm = GaussianStaircase(steps_per_level=2)
    for e in distinct_trainings():
        run_staircase(e, critics[0], warm, seed=0, runs=2, **kw)
    rows = []
    total_batched = total_seq = 0.0
    for critic in critics:
        for e in distinct_trainings():
            _sync(device)
            t = time.perf_counter()
            run_staircase(e, critic, staircase, seed=0, runs=seeds, **kw)
            _sync(device)
            batched = time.perf_counter() - t
            t = time.perf_counter()
            for s in range(seq_seeds):
                run_staircase(e, critic, staircase, seed=s, runs=1, **kw)
            _sync(device)
            seq = (time.perf_counter() - t) * seeds / seq_seeds
            total_batched += batched
            total_seq += seq
            rows.append({"training": e.train_key, "critic": critic, "batched_s": batched,
                         "sequential_s": seq, "ratio": seq / batched})
    return {"rows": rows, "batched_s": total_batched, "sequential_s": total_seq,
            "ratio": total_seq / total_batched}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seeds", type=int)
    ap.add_argument("--steps-per-level", type=int)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--critics", default="joint,separable")
    ap.add_argument("--sequential-seeds", type=int)
    ap.add_argument("--precision", default="fp32", choices=("fp32", "tf32", "bf16"),
                    help="the critic's arithmetic (tf32: TF32 matmuls on CUDA; bf16 autocast)")
    ap.add_argument("--sampling", default="per-run", choices=("per-run", "unit"),
                    help="per-run generators (default) or one generator per batched call")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    device = resolve_device(None if args.device == "auto" else args.device)
    gpu = device.type == "cuda"
    args.seeds = args.seeds or (20 if gpu else 4)
    args.steps_per_level = args.steps_per_level or (4000 if gpu else 50)
    args.hidden = args.hidden or (512 if gpu else 128)
    seq_seeds = min(args.sequential_seeds or (2 if gpu else args.seeds), args.seeds)
    critics = args.critics.split(",")
    staircase = GaussianStaircase(steps_per_level=args.steps_per_level)
    name = torch.cuda.get_device_name(device) if gpu else platform.processor() or "cpu"
    result = time_panel(device, critics, args.seeds, seq_seeds, staircase, args)
    result.update({"device": name, "torch": torch.__version__, "seeds": args.seeds,
                   "sequential_seeds_timed": seq_seeds,
                   "steps": staircase.total_steps, "hidden": args.hidden, "batch": args.batch,
                   "critics": critics, "estimators": list(FIGURE1),
                   "trainings": [e.train_key for e in distinct_trainings()],
                   "precision": args.precision, "sampling": args.sampling})
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"Figure 1 panel on {name} (torch {torch.__version__}): {len(FIGURE1)} estimators = "
          f"{len(distinct_trainings())} trainings x {len(critics)} critics x {args.seeds} seeds x "
          f"{staircase.total_steps} steps, B = {args.batch}, hidden {args.hidden}"
          f", {args.precision}, {args.sampling} sampling")
    for r in result["rows"]:
        print(f"  {r['training']:<28}{r['critic']:<10} batched {r['batched_s']:8.1f} s   "
              f"sequential {r['sequential_s']:8.1f} s   ratio {r['ratio']:5.2f}x")
    extrap = "" if seq_seeds == args.seeds else \
        f" (sequential extrapolated from {seq_seeds} of {args.seeds} seeds per training)"
    print(f"whole panel: batched {result['batched_s']:.1f} s = {result['batched_s'] / 60:.2f} "
          f"min; sequential {result['sequential_s']:.1f} s; sequential / batched = "
          f"{result['ratio']:.2f}x{extrap}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
