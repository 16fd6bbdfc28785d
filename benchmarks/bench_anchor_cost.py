"""What the anchor costs (a reviewers' question, issue #5): InfoNCE-anchor against InfoNCE,
measured in one run on one device.

* **loss only**: forward + backward of ``minibatch_loss`` on a random ``(R, B, B)`` score matrix
  (``R = --runs``) for each ``B`` in ``--batches``: the anchor adds a second ``logsumexp`` over
  ``K + 1`` entries per row (the noise term of Eq. 4 / Appendix B);
* **training step**: one Adam step of a separable critic (2 x ``--hidden``, embedding 16) on
  Gaussian batches, the way the benchmark trains (:func:`numerics.neural.loop.optimise`).

Each figure is the median of ``--repeats`` timings of ``--iters`` iterations (CUDA synchronised),
the two losses taking turns within each repeat (the one timed first was measurably favoured or
penalised otherwise); the ratio anchor / InfoNCE is what to read.

    python benchmarks/bench_anchor_cost.py [--device auto|cpu|cuda] [--batches 16,64,256,1024]
        [--runs 20] [--hidden 512] [--iters 50] [--repeats 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from numerics.neural.critics import make_critic  # noqa: E402
from numerics.neural.device import resolve_device  # noqa: E402
from numerics.neural.losses import minibatch_loss  # noqa: E402
from numerics.neural.samplers import GaussianSampler  # noqa: E402
from numerics.neural.streams import (
    draw_batches,  # noqa: E402
    stream_generator,  # noqa: E402
)

LOSSES = ("infonce", "infonce_anchor")


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _medians(fns: dict, device, iters: int, repeats: int) -> dict[str, float]:
    """Median seconds per call of each function; the functions take turns within every repeat
    (so that allocator and cache state, or the machine's load, do not favour the one timed
    first)."""
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in fns}
    for rep in range(repeats):
        order = list(fns) if rep % 2 == 0 else list(reversed(fns))
        for name in order:
            _sync(device)
            t = time.perf_counter()
            for _ in range(iters):
                fns[name]()
            _sync(device)
            times[name].append((time.perf_counter() - t) / iters)
    return {name: statistics.median(ts) for name, ts in times.items()}


def loss_only(device, B: int, runs: int, iters: int, repeats: int) -> dict[str, float]:
    g = torch.Generator(device=device).manual_seed(0)
    S = torch.randn((runs, B, B), generator=g, device=device).requires_grad_(True)
    fns = {}
    for name in LOSSES:
        def step(name=name):
            S.grad = None
            minibatch_loss(name, S, check_finite=False).loss.sum().backward()
        fns[name] = step
    return _medians(fns, device, iters, repeats)


def train_step(device, B: int, runs: int, hidden: int, iters: int, repeats: int
               ) -> dict[str, float]:
    sampler = GaussianSampler(10, 4.0)
    fns = {}
    for name in LOSSES:
        critic = make_critic("separable", dx=10, dy=10, hidden=hidden, runs=runs,
                             seed=0).to(device)
        opt = torch.optim.Adam(critic.parameters(), lr=1e-4)
        gens = [stream_generator(r, 1, device) for r in range(runs)]

        def step(name=name, critic=critic, opt=opt, gens=gens):
            x, y = draw_batches(sampler, gens, B, "separable")
            loss = minibatch_loss(name, critic(x, y), check_finite=False).loss
            opt.zero_grad(set_to_none=True)
            loss.sum().backward()
            opt.step()
        fns[name] = step
    return _medians(fns, device, iters, repeats)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="auto")
    ap.add_argument("--batches", default="16,64,256,1024")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--iters", type=int, default=50)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    device = resolve_device(None if args.device == "auto" else args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else \
        platform.processor() or "cpu"
    rows = []
    for B in (int(b) for b in args.batches.split(",")):
        lo = loss_only(device, B, args.runs, args.iters, args.repeats)
        st = train_step(device, B, args.runs, args.hidden, max(1, args.iters // 5),
                        args.repeats)
        rows.append({"B": B, "loss_infonce_ms": 1e3 * lo["infonce"],
                     "loss_anchor_ms": 1e3 * lo["infonce_anchor"],
                     "loss_ratio": lo["infonce_anchor"] / lo["infonce"],
                     "step_infonce_ms": 1e3 * st["infonce"],
                     "step_anchor_ms": 1e3 * st["infonce_anchor"],
                     "step_ratio": st["infonce_anchor"] / st["infonce"]})
    result = {"device": name, "torch": torch.__version__, "runs": args.runs,
              "hidden": args.hidden, "rows": rows}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"anchor cost on {name} (torch {torch.__version__}), {args.runs} runs batched, "
          f"separable critic 2 x {args.hidden}; medians of {args.repeats} timings")
    print(f"{'B':>6} {'loss InfoNCE':>13} {'loss anchor':>12} {'ratio':>6} "
          f"{'step InfoNCE':>13} {'step anchor':>12} {'ratio':>6}")
    for r in rows:
        print(f"{r['B']:>6} {r['loss_infonce_ms']:>10.3f} ms {r['loss_anchor_ms']:>9.3f} ms "
              f"{r['loss_ratio']:>5.2f}x {r['step_infonce_ms']:>10.3f} ms "
              f"{r['step_anchor_ms']:>9.3f} ms {r['step_ratio']:>5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
