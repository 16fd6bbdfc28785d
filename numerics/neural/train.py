"""``train``: critics trained with a minibatch loss on a sampler, then held-out MI estimates
(issue #4).

:func:`train` runs Adam on :func:`numerics.neural.losses.minibatch_loss` (the loop of
:mod:`numerics.neural.loop`), then evaluates the bound and the plug-in estimate ``E_p[c]`` over
fresh batches, with Monte Carlo standard errors.  ``runs = R`` trains ``R`` independent critics at
once (one Adam over the batched parameters is ``R`` separate Adams: it is elementwise)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from numerics.neural import losses as torch_losses
from numerics.neural.critics import (
    CRITICS,
    DEFAULT_EMBED,
    DEFAULT_HIDDEN,
    DEFAULT_LAYERS,
    make_critic,
)
from numerics.neural.device import resolve_device
from numerics.neural.loop import LossBlock, evaluate, optimise
from numerics.neural.losses import effective_K_nu
from numerics.neural.streams import EVAL_STREAM, TRAIN_STREAM, stream_generators
from theory.errors import InputError, require_int


# ------------------------------------------------------------------------------ training
@dataclass
class TrainResult:
    """What :func:`train` returns.  Values in nats; with ``runs = 1`` the estimates are floats,
    with ``runs > 1`` lists (one entry per run, run ``r`` having seed ``seed + r``).

    ``kind`` says which estimate the estimator reports (``bound`` or ``plug-in``, Table 1) and
    ``estimate_nats`` is that one; ``bound_nats`` is None for Type 3 estimators.  The standard
    errors are Monte Carlo ones over the ``eval_batches`` held-out batches (sample std / sqrt(n)).
    ``losses`` holds the training loss per step and run, shape ``(steps, runs)``.
    """

    estimator: str
    critic_kind: str
    kind: str
    estimate_nats: Any
    estimate_se_nats: Any
    bound_nats: Any
    bound_se_nats: Any
    plugin_nats: Any
    plugin_se_nats: Any
    steps: int
    batch_size: int
    lr: float
    device: str
    seed: int
    runs: int
    K: int | None
    nu: float | None
    tau: float | None
    alpha: float | None
    eval_batches: int
    true_mi_nats: float | None
    seconds: float
    losses: np.ndarray = field(repr=False)
    critic: torch.nn.Module = field(repr=False)

    VALUE_FIELDS = ("estimate_nats", "estimate_se_nats", "bound_nats", "bound_se_nats",
                    "plugin_nats", "plugin_se_nats")

    def per_run(self, name: str) -> list:
        """The value ``name`` as a list over runs (also for ``runs = 1``)."""
        value = getattr(self, name)
        return list(value) if self.runs > 1 else [value]

    def rows(self) -> list[dict[str, object]]:
        """One flat dict per run (the rows of :func:`write_results`)."""
        final = self.losses[-1] if len(self.losses) else [None] * self.runs
        out = []
        for r in range(self.runs):
            row: dict[str, object] = {
                "estimator": self.estimator, "critic": self.critic_kind, "kind": self.kind,
                "run": r, "seed": self.seed + r, "device": self.device, "steps": self.steps,
                "batch_size": self.batch_size, "lr": self.lr, "K": self.K, "nu": self.nu,
                "tau": self.tau, "alpha": self.alpha, "eval_batches": self.eval_batches}
            for name in self.VALUE_FIELDS:
                row[name] = self.per_run(name)[r]
            row["true_mi_nats"] = self.true_mi_nats
            row["final_loss"] = None if final[r] is None else float(final[r])
            row["seconds"] = self.seconds
            out.append(row)
        return out

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: every field but the critic and the loss curve."""
        return {k: getattr(self, k) for k in (
            "estimator", "critic_kind", "kind", *self.VALUE_FIELDS, "true_mi_nats", "steps",
            "batch_size", "lr", "device", "seed", "runs", "K", "nu", "tau", "alpha",
            "eval_batches", "seconds")}


def train(estimator: str, critic_kind: str, sampler, *, batch_size: int, steps: int,
          lr: float = 1e-4, seed: int, device: object = None, runs: int = 1,
          K: int | None = None, nu: float | None = None, tau: float | None = None,
          alpha: float | None = None, eval_batches: int = 20, progress: bool = True,
          hidden: int = DEFAULT_HIDDEN, layers: int = DEFAULT_LAYERS, embed: int = DEFAULT_EMBED,
          mine_momentum: float = 0.99, lr_schedule: str = "constant",
          sampling: str = "per-run") -> TrainResult:
    """Train ``runs`` critics of kind ``critic_kind`` with the loss ``estimator`` for ``steps``
    Adam steps on batches of ``batch_size`` pairs from ``sampler``; then estimate the MI on
    ``eval_batches`` fresh batches of the same size (bound and plug-in, nats, with standard
    errors).  ``lr_schedule``: ``constant`` (the paper's setting) or ``cosine`` (``lr`` decayed to
    0 over the steps, which removes the stationary SGD noise when a critic should land on the
    population optimum).  ``sampling``: ``per-run`` generators (run ``r`` equals a lone run with
    seed ``seed + r``) or one ``unit`` stream (:class:`numerics.neural.streams.UnitStream`,
    fewer GPU launches).  ``K, nu, tau, alpha`` go to
    :func:`numerics.neural.losses.minibatch_loss` (``K``
    defaults to ``B - 1``, ``nu`` to 1 for the anchored losses)."""
    if estimator not in torch_losses.LOSSES:
        raise InputError("estimator", f"unknown estimator {estimator!r}; expected one of "
                         f"{', '.join(torch_losses.LOSSES)}")
    if critic_kind not in CRITICS:
        raise InputError("critic", f"unknown critic {critic_kind!r}; expected one of "
                         f"{', '.join(CRITICS)}")
    if critic_kind == "tabular" and not getattr(sampler, "discrete", False):
        raise InputError("critic", "the tabular critic needs a discrete joint sampler")
    batch_size = require_int(batch_size, "batch_size", 1)
    if batch_size < 2:
        kind = "InfoNCE-type slot losses" if estimator in torch_losses.SLOT_LOSSES else \
            "every loss (its negatives are the off-diagonal pairs)"
        raise InputError("batch_size", f"must be >= 2 for {estimator}: {kind} need "
                         f"B >= 2, got {batch_size}")
    steps = require_int(steps, "steps", 0)
    runs = require_int(runs, "runs", 1)
    seed = require_int(seed, "seed", 0)
    eval_batches = require_int(eval_batches, "eval_batches", 2)
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise InputError("lr", f"must be a number, got {lr!r}") from None
    if not (math.isfinite(lr) and lr > 0):
        raise InputError("lr", f"must be a finite number > 0, got {lr!r}")
    dev = resolve_device(device)
    loss_kw = {"K": K, "nu": nu, "tau": tau, "alpha": alpha}

    if lr_schedule not in ("constant", "cosine"):
        raise InputError("lr_schedule", f"must be constant or cosine, got {lr_schedule!r}")
    critic, train_blocks, eval_blocks = build_training(
        critic_kind, sampler.critic_dims(), [(estimator, loss_kw, seed, runs)], hidden=hidden,
        layers=layers, embed=embed, device=dev, sampling=sampling)
    losses, _, _ = optimise(critic, train_blocks,
                            lambda step: sampler, steps=steps, batch_size=batch_size,
                            critic_kind=critic_kind, lr=lr, lr_schedule=lr_schedule,
                            mine_momentum=mine_momentum, progress=progress,
                            desc=f"train {estimator}/{critic_kind}")
    eval_start = time.perf_counter()
    bounds, plugins, kind = evaluate(critic, eval_blocks, sampler, batch_size=batch_size,
                                     critic_kind=critic_kind, batches=eval_batches)
    seconds = losses.seconds + time.perf_counter() - eval_start
    losses = losses.values

    plugin, plugin_se = _mean_se(plugins, runs)
    bound, bound_se = _mean_se(bounds, runs) if bounds else ([None] * runs, [None] * runs)
    estimate, estimate_se = (bound, bound_se) if kind == "bound" and bounds else \
        (plugin, plugin_se)
    K_eff, nu_eff = effective_K_nu(estimator, batch_size, K, nu)

    def shaped(values: list):
        return values[0] if runs == 1 else values

    return TrainResult(
        estimator=estimator, critic_kind=critic_kind, kind=kind or "",
        estimate_nats=shaped(estimate), estimate_se_nats=shaped(estimate_se),
        bound_nats=shaped(bound), bound_se_nats=shaped(bound_se),
        plugin_nats=shaped(plugin), plugin_se_nats=shaped(plugin_se),
        steps=steps, batch_size=batch_size, lr=lr, device=str(dev), seed=seed, runs=runs,
        K=K_eff, nu=nu_eff, tau=tau, alpha=alpha, eval_batches=eval_batches,
        true_mi_nats=getattr(sampler, "true_mi_nats", None), seconds=seconds,
        losses=losses, critic=critic)


def _mean_se(values: list[torch.Tensor], runs: int) -> tuple[list[float], list[float]]:
    arr = torch.stack(values).cpu().numpy().reshape(len(values), runs)
    mean = arr.mean(axis=0)
    se = arr.std(axis=0, ddof=1) / math.sqrt(arr.shape[0])
    return [float(v) for v in mean], [float(v) for v in se]


def build_training(critic_kind: str, dims: dict[str, int], members: list, *, hidden: int,
                   layers: int, embed: int, device, sampling: str = "per-run"):
    """The critic and loss blocks of one training call: ``members`` lists ``(loss, loss_kw,
    seed, runs)``; member ``m`` owns ``runs`` critics initialised from seeds ``seed + r`` and
    draws its training and evaluation batches from its own streams
    (:func:`numerics.neural.streams.stream_generators`).  Returns ``(critic, train_blocks,
    eval_blocks)``; :func:`train` uses one member, the benchmark's grouped runs several."""
    seeds = [seed + r for _, _, seed, runs in members for r in range(runs)]
    critic = make_critic(critic_kind, **dims, hidden=hidden, layers=layers, embed=embed,
                         seeds=seeds).to(device)

    def blocks(stream: int) -> list[LossBlock]:
        return [LossBlock(loss, kw, stream_generators(seed, runs, stream, device, sampling))
                for loss, kw, seed, runs in members]
    return critic, blocks(TRAIN_STREAM), blocks(EVAL_STREAM)
