"""Throughput of batched training runs (``train(..., runs=R)``) against the same ``R`` runs trained
one after another with the same code (``R`` calls ``train(..., runs=1, seed=seed + r)``).

Task: the correlated Gaussian of Sec. 4.1 (``GaussianSampler(dim=--dim, mi_nats=--mi)``), batch
``B = --batch``, InfoNCE (``--estimator``), Adam at the paper's constant ``lr = 1e-4``, for
``--steps`` steps; critics: the joint critic (an MLP on ``[x, y]`` for all ``B^2`` pairs) and the
separable critic (``g(x) . h(y)``), both with the paper's architecture (``--hidden 512``,
``--layers 2``, embedding 16).

Measured in one run, for each critic (times in seconds, rates per second):

* wall time of the batched call and of the ``R`` sequential calls (CUDA synchronised before and
  after), each after one untimed warm-up call;
* ``train()`` also builds the critic and evaluates it on ``--eval-batches`` held-out batches; that
  overhead is timed separately by the same calls with ``steps = 0`` (the cheaper of two tries)
  and subtracted, giving the training time proper;
* optimizer steps/s (one batched step advances all ``R`` runs) and run-steps/s (``R * steps /
  time``) for both, and the ratio batched / sequential;
* the process's user and system CPU time and minor page faults over each timed part.  On the CPU a
  batched joint critic's ``(R, B^2, hidden)`` activations (64 MiB each at ``R = 8``,
  ``hidden = 512``) are above glibc malloc's largest mmap threshold (32 MiB), so every step maps
  and zero-fills fresh pages: system time that the sequential runs, whose tensors are ``R`` times
  smaller and reused, do not pay (and the batched tensors fall out of cache);
* a check that batching changes nothing: the max abs difference between the per-run training
  losses (``steps x R``, nats) and between the held-out estimates of the two ways (float
  rounding only: batched vs single matmuls).  ``--tol`` is the allowed difference.

Defaults: ``--runs 64`` on CUDA, ``--runs 8`` on the CPU (the joint critic at ``B = 64`` costs
``B^2 = 4096`` MLP evaluations per run and step, about 0.1 s of CPU time with ``--hidden 512``);
``--steps 20``.  The values used are printed.

    python benchmarks/bench_training.py [--device auto|cpu|cuda] [--runs R] [--steps S]
        [--hidden H] [--layers L] [--batch B] [--critics joint,separable] [--json]

``--json`` prints one JSON object instead of the text report.  Exit status 0 unless the batched
and sequential runs disagree by more than ``--tol``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from numerics.neural.architecture import FEATURE_CRITICS  # noqa: E402
from numerics.neural.device import resolve_device  # noqa: E402
from numerics.neural.samplers import GaussianSampler  # noqa: E402
from numerics.neural.train import train  # noqa: E402

SEED = 0
CPU_RUNS = 8
CUDA_RUNS = 64


def device_name(dev: torch.device) -> str:
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"CPU: {model} ({os.cpu_count()} CPUs, torch threads {torch.get_num_threads()})"


def _sync(dev: torch.device) -> None:
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def _usage() -> tuple[float, float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt


def timed_calls(dev: torch.device, calls, usage: dict | None = None) -> tuple[float, list]:
    """Wall time (s) of running ``calls`` (zero-argument callables) in order, and their results;
    with ``usage`` given, the process's user / system CPU seconds and minor page faults over the
    calls are stored in it."""
    _sync(dev)
    before = _usage()
    start = time.perf_counter()
    out = [call() for call in calls]
    _sync(dev)
    wall = time.perf_counter() - start
    if usage is not None:
        after = _usage()
        usage.update(user_s=after[0] - before[0], sys_s=after[1] - before[1],
                     minor_faults=after[2] - before[2])
    return wall, out


def bench_critic(critic: str, args, dev: torch.device, sampler) -> dict:
    common = {"batch_size": args.batch, "lr": args.lr, "device": dev,
              "eval_batches": args.eval_batches, "progress": False, "hidden": args.hidden,
              "layers": args.layers, "embed": args.embed}
    R, S = args.runs, args.steps

    def batched(steps: int):
        return lambda: train(args.estimator, critic, sampler, steps=steps, seed=SEED, runs=R,
                             **common)

    def sequential(steps: int):
        return [lambda r=r: train(args.estimator, critic, sampler, steps=steps, seed=SEED + r,
                                  runs=1, **common) for r in range(R)]

    # untimed warm-up of both shapes (allocator, kernels, lazy initialisation)
    timed_calls(dev, [lambda: train(args.estimator, critic, sampler, steps=1, seed=SEED,
                                    runs=R, **common),
                      lambda: train(args.estimator, critic, sampler, steps=1, seed=SEED,
                                    runs=1, **common)])
    # overhead: the cheaper of two steps=0 calls (they are short, hence noisy)
    t_b0 = min(timed_calls(dev, [batched(0)])[0] for _ in range(2))
    use_b: dict = {}
    use_s: dict = {}
    t_b, (res_b,) = timed_calls(dev, [batched(S)], use_b)
    t_s0 = min(timed_calls(dev, sequential(0))[0] for _ in range(2))
    t_s, res_s = timed_calls(dev, sequential(S), use_s)

    train_b = max(t_b - t_b0, 1e-9)
    train_s = max(t_s - t_s0, 1e-9)
    loss_b = np.asarray(res_b.losses, dtype=np.float64)                     # (S, R)
    loss_s = np.stack([np.asarray(r.losses, dtype=np.float64)[:, 0] for r in res_s], axis=1)
    est_b = np.asarray(res_b.per_run("estimate_nats"), dtype=np.float64)
    est_s = np.asarray([r.estimate_nats for r in res_s], dtype=np.float64)
    loss_diff = float(np.max(np.abs(loss_b - loss_s))) if S else 0.0
    est_diff = float(np.max(np.abs(est_b - est_s)))
    return {
        "critic": critic, "runs": R, "steps": S,
        "batched_wall_s": t_b, "batched_overhead_s": t_b0, "batched_train_s": train_b,
        "sequential_wall_s": t_s, "sequential_overhead_s": t_s0, "sequential_train_s": train_s,
        "batched_steps_per_s": S / train_b, "batched_run_steps_per_s": R * S / train_b,
        "sequential_steps_per_s": R * S / train_s, "sequential_run_steps_per_s": R * S / train_s,
        "ratio_run_steps": train_s / train_b, "ratio_wall": t_s / t_b,
        "max_abs_loss_diff_nats": loss_diff, "max_abs_estimate_diff_nats": est_diff,
        "max_abs_loss_nats": float(np.max(np.abs(loss_b))) if S else 0.0,
        "final_loss_mean_nats": float(loss_b[-1].mean()) if S else None,
        "estimate_mean_nats": float(est_b.mean()),
        "agree": max(loss_diff, est_diff) <= args.tol,
        "batched_usage": use_b, "sequential_usage": use_s,
    }


def report(res: dict) -> None:
    a = res["args"]
    print("training throughput: batched runs (train(runs=R)) vs the same R runs one after another "
          "(train(runs=1) x R)")
    print(f"device: {res['device']} ({res['device_name']}); torch {res['torch']}, Python "
          f"{res['python']}, {res['platform']}; load average before {res['load_before']:.2f}")
    print(f"task: {res['task']} (MI {res['true_mi_nats']:.3f} nats), {a['estimator']}, "
          f"B = {a['batch']}, Adam lr {a['lr']:g} constant, seeds {SEED}..{SEED + a['runs'] - 1}")
    print(f"used: runs R = {a['runs']}{' (CPU default)' if res['runs_default_cpu'] else ''}, "
          f"steps = {a['steps']}, hidden = {a['hidden']}, layers = {a['layers']}, "
          f"embed = {a['embed']}, eval batches = {a['eval_batches']}, tol = {a['tol']:g} nats")
    for c in res["critics"]:
        print()
        print(f"{c['critic']} critic ({a['layers']} x {a['hidden']}"
              f"{', embedding ' + str(a['embed']) if c['critic'] == 'separable' else ''}), "
              f"R = {c['runs']} runs x {c['steps']} steps:")
        print(f"  batched    (1 call):   wall {c['batched_wall_s']:8.3f} s, setup+eval (steps=0 "
              f"call) {c['batched_overhead_s']:7.3f} s, training {c['batched_train_s']:8.3f} s"
              f" -> {c['batched_steps_per_s']:9.2f} steps/s, "
              f"{c['batched_run_steps_per_s']:9.1f} run-steps/s")
        print(f"  sequential ({c['runs']} calls): wall {c['sequential_wall_s']:8.3f} s, "
              f"setup+eval (steps=0 calls) {c['sequential_overhead_s']:7.3f} s, training "
              f"{c['sequential_train_s']:8.3f} s -> {c['sequential_steps_per_s']:9.2f} steps/s, "
              f"{c['sequential_run_steps_per_s']:9.1f} run-steps/s")
        ub, us = c["batched_usage"], c["sequential_usage"]
        print(f"  process CPU time (user + system) and minor page faults: batched "
              f"{ub['user_s']:.2f} + {ub['sys_s']:.2f} s, {ub['minor_faults']} faults; sequential "
              f"{us['user_s']:.2f} + {us['sys_s']:.2f} s, {us['minor_faults']} faults")
        print(f"  ratio batched / sequential: {c['ratio_run_steps']:.2f}x run-steps/s "
              f"(training only), {c['ratio_wall']:.2f}x on the whole calls' wall time")
        print(f"  same numbers? max |loss batched - loss sequential| = "
              f"{c['max_abs_loss_diff_nats']:.2e} nats over {c['steps']} x {c['runs']} losses "
              f"(max |loss| {c['max_abs_loss_nats']:.3f}); max |held-out estimate diff| = "
              f"{c['max_abs_estimate_diff_nats']:.2e} nats -> "
              f"{'AGREE' if c['agree'] else 'DIFFER'}")
        if c["final_loss_mean_nats"] is not None:
            print(f"  (final training loss, mean over runs: {c['final_loss_mean_nats']:.4f} nats; "
                  f"held-out estimate mean {c['estimate_mean_nats']:.4f} nats)")
    print()
    print(f"total benchmark time: {res['total_seconds']:.1f} s; load average after "
          f"{res['load_after']:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda")
    parser.add_argument("--runs", type=int, default=None,
                        help=f"runs R (default {CUDA_RUNS} on CUDA, {CPU_RUNS} on the CPU)")
    parser.add_argument("--steps", type=int, default=20, help="training steps (default 20)")
    parser.add_argument("--hidden", type=int, default=512, help="hidden units (default 512)")
    parser.add_argument("--layers", type=int, default=2, help="hidden layers (default 2)")
    parser.add_argument("--embed", type=int, default=16, help="separable embedding (default 16)")
    parser.add_argument("--batch", type=int, default=64, help="batch size B (default 64)")
    parser.add_argument("--dim", type=int, default=10, help="Gaussian dimension (default 10)")
    parser.add_argument("--mi", type=float, default=1.0, help="Gaussian MI in nats (default 1)")
    parser.add_argument("--lr", type=float, default=1e-4, help="Adam lr (default 1e-4)")
    parser.add_argument("--estimator", default="infonce", help="loss (default infonce)")
    parser.add_argument("--critics", default="joint,separable",
                        help="comma-separated critics (default joint,separable)")
    parser.add_argument("--eval-batches", type=int, default=2,
                        help="held-out batches per call (default 2, the minimum)")
    parser.add_argument("--tol", type=float, default=1e-4,
                        help="allowed |batched - sequential| in nats (default 1e-4)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    dev = resolve_device(None if args.device == "auto" else args.device)
    runs_default_cpu = args.runs is None and dev.type != "cuda"
    if args.runs is None:
        args.runs = CUDA_RUNS if dev.type == "cuda" else CPU_RUNS
    if args.runs < 1 or args.steps < 0:
        parser.error("--runs must be >= 1 and --steps >= 0")
    critics = [c.strip() for c in args.critics.split(",") if c.strip()]
    if not critics or any(c not in FEATURE_CRITICS for c in critics):
        parser.error("--critics: a comma-separated list of joint, separable, bilinear")

    start = time.perf_counter()
    sampler = GaussianSampler(dim=args.dim, mi_nats=args.mi)
    res: dict = {"args": {k: v for k, v in vars(args).items() if k != "json"},
                 "device": str(dev), "device_name": device_name(dev),
                 "runs_default_cpu": runs_default_cpu, "torch": torch.__version__,
                 "python": platform.python_version(), "platform": platform.platform(),
                 "task": sampler.describe(), "true_mi_nats": sampler.true_mi_nats,
                 "load_before": os.getloadavg()[0]}
    res["critics"] = [bench_critic(c, args, dev, sampler) for c in critics]
    res["total_seconds"] = time.perf_counter() - start
    res["load_after"] = os.getloadavg()[0]
    res["agree"] = all(c["agree"] for c in res["critics"])
    if args.json:
        print(json.dumps(res, indent=2, default=str))
    else:
        report(res)
    return 0 if res["agree"] else 1


if __name__ == "__main__":
    sys.exit(main())
