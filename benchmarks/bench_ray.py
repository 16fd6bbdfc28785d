"""Serial sweep against the Ray executor on this machine (issue #15): wall time of one sweep.

The sweep: a Gaussian staircase (3 levels x ``--steps`` steps, d = 10), a separable critic
(2 x ``--hidden`` MLP), B = 64, 2 seeds per unit, ``--units`` trainings (InfoNCE, InfoNCE-anchor,
NWJ, JS, ...): ``--units`` units of equal size.  Timed, each into a fresh folder, in this order:

1. serial, torch on 1 thread;
2. serial, torch on all cores (its default);
3. Ray, a local runtime with ``--workers`` CPUs, one CPU (one torch thread) per unit, so
   ``--workers`` units train at once; the Ray runtime's start-up is timed apart.

Prints the walls, the ratios, and checks that the Ray units equal the serial ones bit for bit.

    python benchmarks/bench_ray.py [--units 4] [--steps 1500] [--hidden 256] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from numerics.bench.config import SweepConfig
from numerics.bench.distributed import RayExecutor
from numerics.bench.runner import run_sweep, unit_path
from numerics.bench.staircase import StaircaseRun

ESTIMATORS = ["infonce", "infonce_anchor", "nwj", "js", "drf", "spherical", "dv", "smile"]


def sweep_config(units: int, steps: int, hidden: int) -> SweepConfig:
    return SweepConfig.from_dict({
        "name": "bench-ray",
        "task": {"kind": "gaussian", "levels_bits": [2, 4, 6], "steps_per_level": steps},
        "train": {"estimators": ESTIMATORS[:units], "critics": ["separable"],
                  "batch_sizes": [64], "seeds": 2, "runs_per_unit": 2, "lr": 1e-3,
                  "hidden": hidden, "eval_batches": 4}})


def timed(config: SweepConfig, out: Path, executor=None) -> float:
    start = time.perf_counter()
    run_sweep(config, out, progress=False, executor=executor)
    return time.perf_counter() - start


def same_units(config: SweepConfig, a: Path, b: Path) -> bool:
    for unit in config.units():
        x, y = StaircaseRun.load(unit_path(a, unit)), StaircaseRun.load(unit_path(b, unit))
        if not all(np.array_equal(getattr(x, k), getattr(y, k), equal_nan=True)
                   for k in StaircaseRun.ARRAYS):
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    import ray

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--units", type=int, default=4)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args(argv)
    config = sweep_config(args.units, args.steps, args.hidden)
    print(f"machine: {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
          f"{platform.platform()}, torch {torch.__version__}, ray {ray.__version__}")
    print(f"sweep: {len(config.units())} units (separable 2 x {args.hidden}, B = 64, "
          f"3 levels x {args.steps} steps, 2 seeds each); load before "
          f"{os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        default_threads = torch.get_num_threads()
        torch.set_num_threads(1)
        serial1 = timed(config, root / "serial1")
        torch.set_num_threads(default_threads)
        serial_n = timed(config, root / "serialN")
        start = time.perf_counter()
        os.environ.setdefault("RAY_worker_niceness", "0")   # as RayExecutor does locally
        ray.init(num_cpus=args.workers, include_dashboard=False, log_to_driver=False)
        startup = time.perf_counter() - start
        try:
            ray_wall = timed(config, root / "ray", RayExecutor(cpus_per_unit=1))
        finally:
            ray.shutdown()
        identical = same_units(config, root / "serial1", root / "ray")
    print(f"serial, 1 torch thread:            {serial1:7.1f} s wall")
    print(f"serial, {default_threads} torch threads:           {serial_n:7.1f} s wall")
    print(f"ray, {args.workers} workers x 1 thread:        {ray_wall:7.1f} s wall "
          f"(+ {startup:.1f} s to start the local runtime)")
    print(f"speed-up of ray over serial (1 thread):  {serial1 / ray_wall:.2f}x")
    print(f"speed-up of ray over serial ({default_threads} threads): {serial_n / ray_wall:.2f}x")
    print(f"ray units equal the serial ones bit for bit: {'yes' if identical else 'NO'}")
    return 0 if identical else 1


if __name__ == "__main__":
    raise SystemExit(main())
