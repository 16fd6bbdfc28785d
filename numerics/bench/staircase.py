"""One staircase run of the benchmark (Sec. 4.1 / App. G; issues #5, #12).

:func:`run_staircase` trains ``runs`` critics (seeds ``seed .. seed + runs - 1``, batched)
through every level of a :class:`numerics.bench.tasks.Staircase` without resetting them (the
benchmark's "stepwise" mode), records the bound and plug-in on each *training* batch, and at the
last step of each level evaluates both on ``eval_batches`` *held-out* batches of that level.
:func:`run_staircase_group` does several trainings at once in one batched critic.  A run that
diverges (a non-finite loss) is kept as NaN from that step (and level) on, and listed in
``meta["diverged_runs"]``; the other runs of the call are unaffected."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from numerics.bench.estimators import BenchEstimator
from numerics.neural.architecture import DEFAULT_EMBED, DEFAULT_HIDDEN, DEFAULT_LAYERS
from numerics.neural.device import check_precision, matmul_precision, resolve_device
from numerics.neural.loop import evaluate, optimise
from numerics.neural.train import build_training
from theory.errors import InputError, require_int


# ------------------------------------------------------------------------------ one run
@dataclass
class StaircaseRun:
    """What :func:`run_staircase` records, in nats.  Arrays: ``train_bound`` / ``train_plugin``
    ``(steps, runs)`` on the training batches (the bound is NaN for Type 3 losses);
    ``heldout_bound`` / ``heldout_plugin`` ``(levels, runs)``, each the mean over
    ``eval_batches`` held-out batches at the level's last step."""

    settings: dict[str, Any]
    level_mi_nats: np.ndarray
    train_bound: np.ndarray
    train_plugin: np.ndarray
    heldout_bound: np.ndarray
    heldout_plugin: np.ndarray
    seconds: float
    meta: dict[str, Any] = field(default_factory=dict)

    ARRAYS = ("level_mi_nats", "train_bound", "train_plugin", "heldout_bound", "heldout_plugin")

    def save(self, path: str | Path) -> Path:
        """Write atomically (a temporary file renamed), so a stopped sweep never leaves half a
        result behind."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp.npz")
        header = json.dumps({"settings": self.settings, "seconds": self.seconds,
                             "meta": self.meta})
        np.savez_compressed(tmp, header=np.array(header),
                            **{k: getattr(self, k) for k in self.ARRAYS})
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "StaircaseRun":
        with np.load(path) as data:
            header = json.loads(str(data["header"]))
            arrays = {k: data[k] for k in cls.ARRAYS}
        return cls(header["settings"], seconds=header["seconds"], meta=header.get("meta", {}),
                   **arrays)

    @property
    def runs(self) -> int:
        return self.train_plugin.shape[1]


def run_staircase(estimator: BenchEstimator, critic_kind: str, staircase, *, batch_size: int,
                  seed: int, runs: int, **kwargs) -> StaircaseRun:
    """Train ``runs`` critics (seeds ``seed + r``) with ``estimator``'s loss through the whole
    staircase (Adam, constant ``lr``: App. G) and record the stepwise and held-out estimates.
    Keyword arguments: those of :func:`run_staircase_group`."""
    return run_staircase_group([(estimator, seed, runs)], critic_kind, staircase,
                               batch_size=batch_size, **kwargs)[0]


def run_staircase_group(members: list[tuple[BenchEstimator, int, int]], critic_kind: str,
                        staircase, *, batch_size: int, lr: float = 1e-4, device: object = None,
                        hidden: int = DEFAULT_HIDDEN, layers: int = DEFAULT_LAYERS,
                        embed: int = DEFAULT_EMBED,
                        eval_batches: int = 16, progress: bool = True, desc: str | None = None,
                        sampling: str = "per-run", precision: str = "fp32",
                        graphs: bool = False) -> list[StaircaseRun]:
    """Several trainings through the staircase in one batched critic (issue #12): member
    ``(estimator, seed, runs)`` owns ``runs`` critics seeded ``seed + r``, trained with its
    loss on batches from its own generators (a :class:`numerics.neural.loop.LossBlock`), so each
    member's :class:`StaircaseRun` is what :func:`run_staircase` gives it alone, up to float
    rounding; one forward / backward / Adam step serves every member (fewer kernel launches
    on a GPU).  ``sampling``: see :func:`numerics.neural.streams.stream_generators`; ``precision``:
    ``fp32``, ``tf32`` or ``bf16`` (:data:`numerics.neural.device.PRECISIONS`); ``graphs``: replay
    the training step as a CUDA graph (:class:`numerics.neural.loop.GraphedStep`; the same
    numbers, fewer launches).  Each returned run's
    ``seconds`` is its share (by runs) of the group's wall time; ``meta["group_seconds"]`` the
    whole."""
    import torch

    batch_size = require_int(batch_size, "batch_size", 2)
    if not members:
        raise InputError("members", "needs at least one (estimator, seed, runs)")
    members = [(e, require_int(seed, "seed", 0), require_int(runs, "runs", 1))
               for e, seed, runs in members]
    eval_batches = require_int(eval_batches, "eval_batches", 1)
    precision = check_precision(precision)
    dev = resolve_device(device)
    kws = [e.loss_kwargs(batch_size) for e, _, _ in members]
    critic, train_blocks, eval_blocks = build_training(
        critic_kind, staircase.critic_dims(),
        [(e.loss, kw, seed, runs) for (e, seed, runs), kw in zip(members, kws)], hidden=hidden,
        layers=layers, embed=embed, device=dev, sampling=sampling)
    total = sum(runs for _, _, runs in members)
    n_levels, per_level = len(staircase.levels_bits), staircase.steps_per_level
    held_bound = torch.full((n_levels, total), math.nan, dtype=torch.float64, device=dev)
    held_plugin = torch.empty((n_levels, total), dtype=torch.float64, device=dev)

    def at_level_end(step: int) -> None:
        if (step + 1) % per_level:
            return
        level = step // per_level
        critic.eval()
        bounds, plugins, _ = evaluate(critic, eval_blocks, staircase.level_samplers[level],
                                      batch_size=batch_size, critic_kind=critic_kind,
                                      batches=eval_batches, check_finite=False,
                                      precision=precision)
        critic.train()
        held_plugin[level] = torch.stack(plugins).mean(0)
        if bounds:
            held_bound[level] = torch.stack(bounds).mean(0)

    label = desc or "+".join(e.train_key for e, _, _ in members) + f"/{critic_kind}/B{batch_size}"
    start = time.perf_counter()
    with matmul_precision(precision):
        losses, bound, plugin = optimise(
            critic, train_blocks, staircase.sampler, steps=staircase.total_steps,
            batch_size=batch_size, critic_kind=critic_kind, lr=lr, progress=progress,
            desc=label, record=True, on_step=at_level_end, keep_diverged=True,
            precision=precision, graphs=graphs)
    seconds = time.perf_counter() - start
    held_b, held_p = held_bound.cpu().numpy(), held_plugin.cpu().numpy()
    diverged = _mark_diverged(losses.values, bound.values, plugin.values, held_b, held_p,
                              per_level)
    meta = {"device": str(dev), "device_name": _device_name(dev), "torch": torch.__version__,
            "precision": precision, "cuda_graphs": bool(graphs and dev.type == "cuda"),
            "group": [e.train_key for e, _, _ in members],
            "group_seconds": seconds}
    out, start_col = [], 0
    for (e, seed, runs), kw in zip(members, kws):
        cols = slice(start_col, start_col + runs)
        start_col += runs
        settings = {"train_key": e.train_key, "loss": e.loss, "loss_kwargs": kw,
                    "critic": critic_kind, "batch_size": batch_size, "seed": seed,
                    "runs": runs, "lr": lr, "hidden": hidden, "layers": layers,
                    "embed": embed, "eval_batches": eval_batches, "sampling": sampling,
                    "precision": precision, "levels_bits": list(staircase.levels_bits),
                    "steps_per_level": per_level, "task": staircase.describe()}
        out.append(StaircaseRun(
            settings, np.array(staircase.level_mi_nats()), bound.values[:, cols].copy(),
            plugin.values[:, cols].copy(), held_b[:, cols].copy(), held_p[:, cols].copy(),
            seconds * runs / total,
            {**meta, "diverged_runs": [seed + r - cols.start for r in diverged
                                       if cols.start <= r < cols.stop]}))
    return out


def _mark_diverged(losses, bound, plugin, held_b, held_p, per_level: int) -> list[int]:
    """Columns (runs) whose loss became non-finite: NaN from that step (and level) on, in
    place; non-finite held-out values become NaN too.  Returns the diverged columns."""
    bad = ~np.isfinite(losses)
    diverged = [int(r) for r in np.nonzero(bad.any(axis=0))[0]]
    for r in diverged:
        first = int(np.nonzero(bad[:, r])[0][0])
        bound[first:, r] = np.nan
        plugin[first:, r] = np.nan
        held_b[first // per_level:, r] = np.nan
        held_p[first // per_level:, r] = np.nan
    held_b[~np.isfinite(held_b)] = np.nan
    held_p[~np.isfinite(held_p)] = np.nan
    return diverged


def _device_name(dev) -> str:
    """The accelerator's name (e.g. ``NVIDIA H200``), or ``cpu``."""
    import torch
    return torch.cuda.get_device_name(dev) if dev.type == "cuda" else "cpu"
