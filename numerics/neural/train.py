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

    Added by issue #11: ``estimates`` holds the training estimate per step and run (the
    reported ``kind`` -- bound or plug-in -- on each training batch), shape ``(steps, runs)``,
    and ``convergence`` its trend over the last quarter of the steps
    (:func:`convergence_trend`; a :class:`Convergence`, a list of them with ``runs > 1``).
    ``converged`` is its verdict (True / False / None, per run like the estimates).
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
    estimates: np.ndarray | None = field(default=None, repr=False)
    convergence: Any = None

    VALUE_FIELDS = ("estimate_nats", "estimate_se_nats", "bound_nats", "bound_se_nats",
                    "plugin_nats", "plugin_se_nats")

    def per_run(self, name: str) -> list:
        """The value ``name`` as a list over runs (also for ``runs = 1``)."""
        value = getattr(self, name)
        return list(value) if self.runs > 1 else [value]

    @property
    def converged(self):
        """The convergence verdict: True / False / None (too few steps); a list with
        ``runs > 1``; None when no diagnostic was computed."""
        if self.convergence is None:
            return None
        if isinstance(self.convergence, list):
            return [c.converged for c in self.convergence]
        return self.convergence.converged

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
            if self.convergence is not None:
                conv = self.per_run("convergence")[r]
                row["converged"] = conv.converged
                row["trend_change_nats"] = conv.change_nats
                row["trend_change_se_nats"] = conv.change_se_nats
                row["trend_window_steps"] = conv.window_steps
            row["seconds"] = self.seconds
            out.append(row)
        return out

    def as_dict(self) -> dict[str, object]:
        """JSON-ready: every field but the critic and the loss and estimate curves (the
        convergence diagnostic as a dict, or a list of dicts with ``runs > 1``)."""
        out = {k: getattr(self, k) for k in (
            "estimator", "critic_kind", "kind", *self.VALUE_FIELDS, "true_mi_nats", "steps",
            "batch_size", "lr", "device", "seed", "runs", "K", "nu", "tau", "alpha",
            "eval_batches", "seconds")}
        if self.convergence is not None:
            out["converged"] = self.converged
            out["convergence"] = [c.as_dict() for c in self.convergence] \
                if isinstance(self.convergence, list) else self.convergence.as_dict()
        return out


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
    defaults to ``B - 1``, ``nu`` to 1 for the anchored losses).

    The per-step training estimates are kept (``TrainResult.estimates``) and their trend over
    the last quarter of the steps is tested (``TrainResult.convergence``,
    :func:`convergence_trend`).  ``lr`` defaults to the paper's 1e-4 (for 2 x 512 MLPs);
    :data:`numerics.neural.architecture.DEFAULT_LR` gives, per critic kind, the rates the ``train`` command uses."""
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
    losses, step_bounds, step_plugins = optimise(
        critic, train_blocks, lambda step: sampler, steps=steps, batch_size=batch_size,
        critic_kind=critic_kind, lr=lr, lr_schedule=lr_schedule, mine_momentum=mine_momentum,
        progress=progress, desc=f"train {estimator}/{critic_kind}", record=True)
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
    # the training curve of the reported estimate (a Type 3 estimator's bound is NaN)
    reports_bound = torch_losses.REPORTS[estimator] == "bound"
    estimates = (step_bounds if reports_bound else step_plugins).values
    convergence = [convergence_trend(estimates[:, r]) for r in range(runs)]

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
        losses=losses, critic=critic, estimates=estimates, convergence=shaped(convergence))


# ------------------------------------------------------------------------------ convergence
#: the share of the steps that :func:`convergence_trend` looks at by default (the last quarter)
TREND_WINDOW = 0.25
#: batches of the batch-means correction, the change threshold in standard errors, and the
#: relative change (a share of the window's mean level) below which a run counts as converged
#: even when its trend is significant.  Calibration (6x6 joint with D_KJS target 1.04 nats,
#: B = 8, tabular critic): z = 3 flagged none of 40 converged runs (lr 0.02, 6000 steps) for
#: each of InfoNCE, InfoNCE-anchor and NWJ (z = 2 flagged 3 to 5 of 40), and flagged 10 of 10
#: InfoNCE runs at lr 1e-4 after 6000 steps (still rising by 0.096 nats over the last 1500
#: steps, s.e. 0.007), 20 of 20 after 1000 steps (+0.022 nats, s.e. 0.003), 19 of 20 after
#: 400 steps and 11 of 20 after 200 (where the window's rise, 0.004 nats, is ~3 s.e.).
TREND_BATCHES = 10
TREND_Z = 3.0
TREND_REL_CHANGE = 0.01


@dataclass(frozen=True)
class Convergence:
    """The trend of a training curve over its last steps (:func:`convergence_trend`).

    ``change_nats``: how much the least-squares line through the window's per-step estimates
    moved over the window (slope x window length; > 0 rising); ``change_se_nats``: its standard
    error, corrected for autocorrelation by batch means (``autocorrelation_time`` is the
    factor applied to the variance, >= 1); ``level_nats``: the window's mean.  ``converged``:
    ``|change| <= max(z * SE, rel_change * |level|)``; None when the window is too short to
    judge (or there are no steps), False when it holds a non-finite value.  ``reason`` says
    which, in words."""

    converged: bool | None
    change_nats: float | None
    change_se_nats: float | None
    window_steps: int
    steps: int
    autocorrelation_time: float | None
    level_nats: float | None
    z: float
    rel_change: float
    reason: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready (the field names; values in nats)."""
        return {"converged": self.converged, "change_nats": self.change_nats,
                "change_se_nats": self.change_se_nats, "window_steps": self.window_steps,
                "steps": self.steps, "autocorrelation_time": self.autocorrelation_time,
                "level_nats": self.level_nats, "z": self.z, "rel_change": self.rel_change,
                "reason": self.reason}


def convergence_trend(estimates, *, window: float = TREND_WINDOW, batches: int = TREND_BATCHES,
                      z: float = TREND_Z, rel_change: float = TREND_REL_CHANGE) -> Convergence:
    r"""Is a training curve still moving?  The trend of the per-step training estimates
    ``estimates`` (nats, one per Adam step, e.g. ``TrainResult.estimates[:, r]``) over their
    last ``window`` share of the steps.

    With ``n`` steps, the window is the last ``w = min(n, max(floor(window * n), 1))`` of
    them, values ``e_t`` at ``t = 0 .. w-1``:

    * slope ``b = sum_t (t - tbar)(e_t - ebar) / S`` with ``S = sum_t (t - tbar)^2
      = w (w^2 - 1) / 12`` (least squares), and the change over the window
      ``Delta = b * w``;
    * residuals ``r_t = e_t - ebar - b (t - tbar)``, ``s^2 = sum_t r_t^2 / (w - 2)``;
    * autocorrelation by batch means: the last ``m * L`` residuals (``m = batches``,
      ``L = floor(w / m)``) cut into ``m`` consecutive blocks with means ``rbar_k``;
      ``tau = max(1, L * var(rbar_k) / s^2)`` (``var`` with ``m - 1`` degrees of freedom)
      estimates the integrated autocorrelation time, the factor by which correlated steps
      inflate the variance of a mean (and, to the same order, of a slope);
    * ``SE(Delta) = w * sqrt(tau * s^2 / S)``;
    * ``converged = |Delta| <= max(z * SE(Delta), rel_change * |ebar|)``: the trend is not
      distinguishable from the step-to-step noise at ``z`` standard errors, or it moved the
      estimate by less than ``rel_change`` (1%) of its level (a long run whose small drift is
      significant only because its standard error is tiny).

    A window shorter than ``2 * batches`` steps gives ``converged = None`` (too short to
    judge); a non-finite value in the window gives ``converged = False``.  What it cannot
    see: a curve that crawls too slowly to move by ``z`` standard errors within the window
    (with a far too small learning rate the critic barely leaves its start, so its noise is
    small too and even a short run is usually caught), a plateau that is not the optimum,
    or a learning rate decayed to ~0 by the end (``cosine``): the curve is then flat because
    the steps are, not because the critic has arrived."""
    if not (isinstance(window, (int, float)) and 0 < window <= 1):
        raise InputError("window", f"must lie in (0, 1], got {window!r}")
    batches = require_int(batches, "batches", 2)
    values = np.asarray(estimates, dtype=np.float64).ravel()
    n = values.size
    w = min(n, max(int(window * n), 1)) if n else 0

    def result(converged, change=None, se=None, tau=None, level=None, reason=""):
        return Convergence(converged, change, se, w, n, tau, level, float(z),
                           float(rel_change), reason)
    if w < max(2 * batches, 3):
        need = math.ceil(2 * batches / window)
        return result(None, reason=f"too few steps: a window of the last {w} of {n} step(s) "
                      f"(needs >= {2 * batches}, i.e. >= {need} steps)")
    e = values[n - w:]
    if not np.all(np.isfinite(e)):
        return result(False, reason="non-finite training estimates in the window")
    t = np.arange(w, dtype=np.float64) - (w - 1) / 2
    S = float(t @ t)
    level = float(e.mean())
    b = float(t @ (e - level)) / S
    resid = e - level - b * t
    s2 = float(resid @ resid) / (w - 2)
    change = b * w
    if s2 > 0.0:
        L = w // batches
        means = resid[w - batches * L:].reshape(batches, L).mean(axis=1)
        tau = max(1.0, L * float(means.var(ddof=1)) / s2)
        se = w * math.sqrt(tau * s2 / S)
    else:
        tau, se = 1.0, 0.0
    converged = bool(abs(change) <= max(z * se, rel_change * abs(level)))
    if converged:
        reason = f"moved {change:+.3g} nats over the last {w} steps (s.e. {se:.2g})"
    else:
        reason = (f"still {'rising' if change > 0 else 'falling'} by {abs(change):.3g} nats "
                  f"over the last {w} steps (s.e. {se:.2g})")
    return result(converged, change, se, tau, level, reason)

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
