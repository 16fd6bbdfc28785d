"""Training torch critics with the minibatch losses, and held-out MI estimates (issue #4).

* Samplers: :class:`DiscreteJointSampler` (pairs ``(x, y)`` i.i.d. from a joint table, as
  indices for the tabular critic or one-hot features for the others) and
  :class:`GaussianSampler` (SPEC §7: correlated Gaussians in ``d = 10``, optionally cubic).
* :func:`train`: Adam on :func:`numerics.torch_losses.minibatch_loss`, then a held-out
  evaluation of the bound and the plug-in estimate ``E_p[c]`` over fresh batches, with Monte
  Carlo standard errors.  ``runs = R`` trains ``R`` independent critics at once.
* :func:`write_results`: CSV (or Parquet with pyarrow), one row per run, units in the column
  names.

**Seeds and streams.**  Run ``r`` of a call with ``seed`` uses the run seed ``s = seed + r`` for
three independent streams: the critic's initialisation (a CPU ``torch.Generator`` seeded ``s``,
see :mod:`numerics.torch_critics`), the training batches and the evaluation batches (generators
on the training device seeded from ``numpy.random.SeedSequence([s, 1])`` and ``[s, 2]``, so that
neither repeats the initialisation's random numbers).  Everything run ``r`` sees is a function of
``s`` alone, so ``runs = 3`` with ``seed`` gives the per-run numbers of three ``runs = 1`` calls
with ``seed``, ``seed + 1``, ``seed + 2`` (to float rounding: batched matmuls), and the summed
loss gives each run its own gradient; Adam is elementwise, so one Adam over the batched
parameters is ``R`` separate Adams.  On the CPU two identical calls give identical numbers; on a
GPU the batches differ from the CPU's (device-side generators) and some kernels are not
bit-reproducible.
"""

from __future__ import annotations

import csv
import math
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import torch

from numerics import torch_losses
from numerics.mi import as_joint, mutual_information
from numerics.torch_critics import (CRITICS, DEFAULT_EMBED, DEFAULT_HIDDEN, DEFAULT_LAYERS,
                                    make_critic)
from numerics.tasks import FeatureSampler
from theory.errors import InputError

TRAIN_STREAM, EVAL_STREAM = 1, 2


# ------------------------------------------------------------------------------ samplers
def _stream_seed(run_seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([run_seed, stream]).generate_state(1, np.uint64)[0])


def stream_generator(run_seed: int, stream: int, device: torch.device | str = "cpu"
                     ) -> torch.Generator:
    """The generator of one run's training (``stream = 1``) or evaluation (2) batches."""
    return torch.Generator(device=device).manual_seed(_stream_seed(run_seed, stream))


class DiscreteJointSampler:
    """Pairs ``(x, y)`` drawn i.i.d. from a joint table ``p(x, y)`` (rows ``x``, columns ``y``).

    :meth:`sample` returns integer indices ``(B,)`` each; :meth:`inputs` turns them into what a
    critic takes (indices for ``tabular``, one-hot features otherwise, ``dx = n_x``,
    ``dy = n_y``).
    """

    discrete = True

    def __init__(self, joint: object, *, normalize: bool = False) -> None:
        self.joint = as_joint(joint, "joint", normalize=normalize)
        self.n_x, self.n_y = self.joint.shape
        self.dx, self.dy = self.n_x, self.n_y
        self.true_mi_nats = mutual_information(self.joint)
        self._probs: dict[str, torch.Tensor] = {}

    def _flat_probs(self, device: torch.device) -> torch.Tensor:
        key = str(device)
        if key not in self._probs:
            self._probs[key] = torch.as_tensor(self.joint.ravel(), dtype=torch.float64,
                                               device=device)
        return self._probs[key]

    def sample(self, batch_size: int, generator: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch_size`` pairs on the generator's device: ``(x_idx, y_idx)``, int64."""
        probs = self._flat_probs(generator.device)
        cells = torch.multinomial(probs, batch_size, replacement=True, generator=generator)
        return cells // self.n_y, cells % self.n_y

    def features(self, x_idx: torch.Tensor, y_idx: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """One-hot float32 features ``(..., n_x)`` and ``(..., n_y)``."""
        return (torch.nn.functional.one_hot(x_idx, self.n_x).float(),
                torch.nn.functional.one_hot(y_idx, self.n_y).float())

    def inputs(self, batch: tuple[torch.Tensor, torch.Tensor], critic_kind: str):
        return batch if critic_kind == "tabular" else self.features(*batch)

    def critic_dims(self) -> dict[str, int]:
        return {"n_x": self.n_x, "n_y": self.n_y, "dx": self.dx, "dy": self.dy}

    def describe(self) -> str:
        return f"discrete joint {self.n_x}x{self.n_y}"


class GaussianSampler(FeatureSampler):
    """SPEC §7: ``x, eps ~ N(0, I_d)``, ``y = rho x + sqrt(1 - rho^2) eps`` with
    ``rho = sqrt(1 - exp(-2 I / d))``, so that ``I(X; Y) = -(d/2) log(1 - rho^2) = I``; with
    ``cubic=True`` ``y <- y^3`` (an invertible map of ``y``: the MI is unchanged)."""

    def __init__(self, dim: int = 10, mi_nats: float = 1.0, cubic: bool = False) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise InputError("dim", f"must be an integer >= 1, got {dim!r}")
        try:
            mi = float(mi_nats)
        except (TypeError, ValueError):
            raise InputError("mi_nats", f"must be a number, got {mi_nats!r}") from None
        if not (math.isfinite(mi) and mi >= 0):
            raise InputError("mi_nats", f"must be a finite number >= 0, got {mi_nats!r}")
        self.dim, self.dx, self.dy = dim, dim, dim
        self.cubic = bool(cubic)
        self.rho = math.sqrt(-math.expm1(-2.0 * mi / dim))
        self.true_mi_nats = -(dim / 2.0) * math.log1p(-self.rho ** 2)

    def sample(self, batch_size: int, generator: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (batch_size, self.dim)
        x = torch.randn(shape, generator=generator, device=generator.device)
        eps = torch.randn(shape, generator=generator, device=generator.device)
        y = self.rho * x + math.sqrt(1.0 - self.rho ** 2) * eps
        return x, (y ** 3 if self.cubic else y)

    def describe(self) -> str:
        return f"Gaussian d={self.dim}{' cubic' if self.cubic else ''}"


# ------------------------------------------------------------------------------ progress
class _Progress:
    """tqdm when installed, else a line on stderr every tenth of the steps."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self.total, self.desc, self.enabled, self.n = total, desc, enabled and total > 0, 0
        self._bar = None
        self._next = 0
        self._start = time.perf_counter()
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._next = max(1, total // 10)
        else:
            self._bar = tqdm(total=total, desc=desc, leave=False, file=sys.stderr)

    def update(self, loss=None) -> None:
        """One step; ``loss`` is a callable giving the current loss, called only when shown
        (reading it synchronises a GPU)."""
        self.n += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(1)
            if loss is not None and (self.n % 50 == 0 or self.n == self.total):
                self._bar.set_postfix(loss=f"{loss():.4g}", refresh=False)
            return
        if self.n >= self._next or self.n == self.total:
            rate = self.n / max(time.perf_counter() - self._start, 1e-9)
            tail = f", loss {loss():.4g}" if loss is not None else ""
            print(f"{self.desc}: {self.n}/{self.total} steps ({rate:.0f} steps/s{tail})",
                  file=sys.stderr, flush=True)
            self._next = min(self.total, self.n + max(1, self.total // 10))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


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


def resolve_device(device: object = None) -> torch.device:
    """``None``: CUDA when available, else the CPU; ``cuda`` without CUDA is an InputError."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError("device", f"expected cpu or cuda[:N], got {device!r}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError("device", "CUDA is not available on this machine; use cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError("device", f"no CUDA device {dev.index} "
                             f"({torch.cuda.device_count()} available)")
    elif dev.type != "cpu":
        raise InputError("device", f"expected cpu or cuda[:N], got {device!r}")
    return dev


def _int(value: object, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InputError(name, f"must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _effective_K_nu(estimator: str, batch_size: int, K: int | None, nu: float | None):
    if estimator not in torch_losses.SLOT_LOSSES:
        return K, nu
    if estimator in ("infonce", "alpha_infonce"):
        return (batch_size - 1 if K is None else K), (0.0 if nu is None else float(nu))
    return (batch_size - 1 if K is None else K), (1.0 if nu is None else float(nu))


class TrainingDiverged(RuntimeError):
    """The scores became NaN or infinite during training (lower the learning rate)."""


def _stack(batches: list, critic_kind: str, sampler) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = zip(*(sampler.inputs(b, critic_kind) for b in batches))
    return torch.stack(xs), torch.stack(ys)


class UnitStream:
    """One generator for all ``runs`` of a batched call ("unit" sampling): each step draws
    ``runs * B`` i.i.d. pairs at once and splits them into the runs' batches, a few kernel
    launches instead of a few per run.  The runs still get independent data, but run ``r``'s
    batches now depend on how the seeds are blocked (``seed`` and ``runs``), so a batched call
    no longer equals its runs one by one; per-run generators (the default) keep that."""

    def __init__(self, seed: int, runs: int, stream: int, device) -> None:
        self.runs = runs
        # streams 3 and 4: never the per-run streams 1, 2 of the same seed
        self.generator = stream_generator(seed, stream + 2, device)

    def __len__(self) -> int:
        return self.runs


def stream_generators(seed: int, runs: int, stream: int, device, sampling: str = "per-run"):
    """The training (``stream = 1``) or evaluation (2) generators of runs ``seed .. seed +
    runs - 1``: one per run (``per-run``) or one :class:`UnitStream` (``unit``)."""
    if sampling == "per-run":
        return [stream_generator(seed + r, stream, device) for r in range(runs)]
    if sampling == "unit":
        return UnitStream(seed, runs, stream, device)
    raise InputError("sampling", f"must be per-run or unit, got {sampling!r}")


# ------------------------------------------------------------------------------ precision
#: Arithmetic of the critic's matmuls on CUDA: plain float32, TF32 tensor cores (float32
#: storage, ~1e-3 relative rounding of the products), or bfloat16 autocast of the critic's
#: forward pass (the losses stay float32: :func:`numerics.torch_losses.minibatch_loss` casts
#: the scores up).  On the CPU ``tf32`` changes nothing and ``bf16`` autocasts too.
PRECISIONS = ("fp32", "tf32", "bf16")


def check_precision(precision: object) -> str:
    if precision not in PRECISIONS:
        raise InputError("precision", f"must be one of {', '.join(PRECISIONS)}, got "
                         f"{precision!r}")
    return str(precision)


@contextmanager
def matmul_precision(precision: str):
    """TF32 matmuls on CUDA on (``tf32``) or off for the duration; the previous setting is
    restored after, so the caller's process is left as it was."""
    check_precision(precision)
    previous = bool(torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous


def critic_autocast(precision: str, device: torch.device):
    """The context the critic's forward pass runs in: bf16 autocast (no weight-cast cache, as
    CUDA graph capture requires), or nothing."""
    if check_precision(precision) == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16,
                              cache_enabled=False)
    return nullcontext()


# ------------------------------------------------------------------------------ loss blocks
@dataclass
class LossBlock:
    """Consecutive runs of one batched critic trained with one loss (issue #12).

    A critic with ``runs = R_1 + R_2 + ...`` (e.g. built with ``make_critic(seeds=...)``) can
    train several losses at once: block ``k`` owns the next ``R_k`` runs, draws their batches
    from its own ``generators`` (per-run generators or a :class:`UnitStream`, exactly those it
    would use alone) and scores them with ``estimator``'s loss.  Runs never mix (batched
    parameters, elementwise Adam), so a block's numbers are those of its runs trained alone,
    up to float rounding; what is shared is one forward / backward / Adam step for all."""

    estimator: str
    loss_kw: dict
    generators: Any
    mine_state: Any = None

    @property
    def runs(self) -> int:
        return len(self.generators)


def draw_blocks(sampler, blocks: list[LossBlock], batch_size: int, critic_kind: str):
    """One batch per run of every block, stacked ``(sum R_k, B, ...)``."""
    parts = [draw_batches(sampler, b.generators, batch_size, critic_kind) for b in blocks]
    if len(parts) == 1:
        return parts[0]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def block_losses(blocks: list[LossBlock], scores: torch.Tensor, check_finite: bool):
    """Each block's loss on its slice of the ``(sum R_k, B, B)`` scores, joined along the run
    dimension: a :class:`numerics.torch_losses.LossOutput` whose ``bound_nats`` is NaN for the
    runs of Type 3 blocks (None when no block has a bound) and whose ``kind`` is the first
    block's.  ``check_finite``: raise :class:`TrainingDiverged` on NaN / inf scores (a device
    sync; training loops check their losses once at the end instead)."""
    if scores.dim() == 2:
        scores = scores.unsqueeze(0)
    outs, start = [], 0
    for b in blocks:
        outs.append(_loss(b.estimator, scores[start:start + b.runs], b.loss_kw, b.mine_state,
                          check_finite))
        start += b.runs
    if len(outs) == 1:
        return outs[0]
    bounds = None
    if any(o.bound_nats is not None for o in outs):
        bounds = torch.cat([o.bound_nats if o.bound_nats is not None else
                            torch.full_like(o.plugin_nats, math.nan) for o in outs])
    return torch_losses.LossOutput(torch.cat([o.loss for o in outs]), bounds,
                                   torch.cat([o.plugin_nats for o in outs]), outs[0].kind)


def draw_batches(sampler, generators, batch_size: int, critic_kind: str):
    """One batch per run, stacked: ``(R, B, ...)``; from each run's own generator, or (a
    :class:`UnitStream`) ``R * B`` i.i.d. pairs from one generator, reshaped."""
    if isinstance(generators, UnitStream):
        R = generators.runs
        x, y = sampler.sample(R * batch_size, generators.generator)
        batch = (x.reshape(R, batch_size, *x.shape[1:]), y.reshape(R, batch_size, *y.shape[1:]))
        return sampler.inputs(batch, critic_kind)
    return _stack([sampler.sample(batch_size, g) for g in generators], critic_kind, sampler)


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
    seed ``seed + r``) or one ``unit`` stream (:class:`UnitStream`, fewer GPU launches).  ``K, nu, tau, alpha`` go to :func:`numerics.torch_losses.minibatch_loss` (``K``
    defaults to ``B - 1``, ``nu`` to 1 for the anchored losses)."""
    if estimator not in torch_losses.LOSSES:
        raise InputError("estimator", f"unknown estimator {estimator!r}; expected one of "
                         f"{', '.join(torch_losses.LOSSES)}")
    if critic_kind not in CRITICS:
        raise InputError("critic", f"unknown critic {critic_kind!r}; expected one of "
                         f"{', '.join(CRITICS)}")
    if critic_kind == "tabular" and not getattr(sampler, "discrete", False):
        raise InputError("critic", "the tabular critic needs a discrete joint sampler")
    batch_size = _int(batch_size, "batch_size", 1)
    if batch_size < 2:
        kind = "InfoNCE-type slot losses" if estimator in torch_losses.SLOT_LOSSES else \
            "every loss (its negatives are the off-diagonal pairs)"
        raise InputError("batch_size", f"must be >= 2 for {estimator}: {kind} need "
                         f"B >= 2, got {batch_size}")
    steps = _int(steps, "steps", 0)
    runs = _int(runs, "runs", 1)
    seed = _int(seed, "seed", 0)
    eval_batches = _int(eval_batches, "eval_batches", 2)
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
    critic = make_critic(critic_kind, **sampler.critic_dims(), hidden=hidden, layers=layers,
                         embed=embed, runs=runs, seed=seed).to(dev)
    train_gens = stream_generators(seed, runs, TRAIN_STREAM, dev, sampling)
    eval_gens = stream_generators(seed, runs, EVAL_STREAM, dev, sampling)

    losses, _, _ = optimise(critic, [LossBlock(estimator, loss_kw, train_gens)],
                            lambda step: sampler, steps=steps, batch_size=batch_size,
                            critic_kind=critic_kind, lr=lr, lr_schedule=lr_schedule,
                            mine_momentum=mine_momentum, progress=progress,
                            desc=f"train {estimator}/{critic_kind}")
    eval_start = time.perf_counter()
    bounds, plugins, kind = evaluate(critic, [LossBlock(estimator, loss_kw, eval_gens)], sampler,
                                     batch_size=batch_size, critic_kind=critic_kind,
                                     batches=eval_batches)
    seconds = losses.seconds + time.perf_counter() - eval_start
    losses = losses.values

    plugin, plugin_se = _mean_se(plugins, runs)
    bound, bound_se = _mean_se(bounds, runs) if bounds else ([None] * runs, [None] * runs)
    estimate, estimate_se = (bound, bound_se) if kind == "bound" and bounds else \
        (plugin, plugin_se)
    K_eff, nu_eff = _effective_K_nu(estimator, batch_size, K, nu)

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


@dataclass
class _Timed:
    values: Any
    seconds: float


def optimise(critic: torch.nn.Module, blocks: list[LossBlock], sampler_at, *, steps: int,
             batch_size: int, critic_kind: str, lr: float, lr_schedule: str = "constant",
             mine_momentum: float = 0.99, progress: bool = True, desc: str = "train",
             record: bool = False, keep_diverged: bool = False, on_step=None,
             precision: str = "fp32", graphs: bool = False):
    """Adam on each block's minibatch loss (:class:`LossBlock`; one block for a single loss)
    for ``steps`` steps; step ``t`` draws one batch per run from ``sampler_at(t)`` with that
    run's generator.  No host sync inside the loop: the per-step values stay on the device and
    are checked for NaN / inf once at the end.  On CUDA, Adam is the fused kernel (one launch
    for every parameter; the same update up to rounding).  ``precision``: see
    :data:`PRECISIONS` (the critic's forward pass under :func:`critic_autocast`; TF32 is set
    by the caller with :func:`matmul_precision`).  ``graphs=True``: the step (forward, losses,
    backward, Adam) is captured once as a CUDA graph and replayed (:class:`GraphedStep`); the
    batches are still drawn eagerly and copied in, so the numbers are those of the eager loop.

    Returns ``(losses, bounds, plugins)``, each a :class:`_Timed` of a float32 numpy array of shape
    ``(steps, runs)`` (``seconds``: the loop's wall time, device synchronised).  ``bounds`` and
    ``plugins`` (the estimator's bound and plug-in ``E_p[c]`` on each *training* batch, the
    "stepwise" estimates of Sec. 4.1's benchmark) are recorded only with ``record=True``
    (else None); a Type 3 estimator's bound is NaN.  ``on_step(t)`` runs after step ``t``
    (e.g. a held-out evaluation at the end of a staircase level).  A non-finite loss raises
    :class:`TrainingDiverged` after the loop, unless ``keep_diverged``: then the diverged runs
    keep their NaN / inf values (runs never mix: batched parameters, elementwise Adam), so one
    bad seed does not discard the others."""
    runs = sum(b.runs for b in blocks)
    device = next(critic.parameters()).device
    if graphs and (lr_schedule != "constant" or any(b.estimator == "mine" for b in blocks)):
        raise InputError("graphs", "a captured step needs a constant learning rate and no "
                         "MINE moving average (state kept in Python)")
    cuda = device.type == "cuda"
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr, fused=cuda,
                                 capturable=bool(graphs and cuda))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(steps, 1)) \
        if lr_schedule == "cosine" else None
    for b in blocks:
        if b.estimator == "mine":
            b.mine_state = torch_losses.MineState(momentum=mine_momentum)
    autocast = critic_autocast(precision, device)
    train_step = GraphedStep(critic, blocks, optimizer, autocast) if graphs else \
        (lambda x, y: training_step(critic, blocks, x, y, optimizer, autocast))
    losses = torch.empty((steps, runs), dtype=torch.float32, device=device)
    bounds = torch.full((steps, runs), math.nan, dtype=torch.float32, device=device) \
        if record else None
    plugins = torch.empty((steps, runs), dtype=torch.float32, device=device) if record else None
    bar = _Progress(steps, desc, progress)
    start = time.perf_counter()
    try:
        for step in range(steps):
            x, y = draw_blocks(sampler_at(step), blocks, batch_size, critic_kind)
            out = train_step(x, y)
            if scheduler is not None:
                scheduler.step()
            losses[step] = out.loss.detach()
            if record:
                plugins[step] = out.plugin_nats.detach()
                if out.bound_nats is not None:
                    bounds[step] = out.bound_nats.detach()
            if on_step is not None:
                on_step(step)
            bar.update(lambda: float(losses[step].mean()))
    finally:
        bar.close()
    if steps and not keep_diverged and not bool(torch.isfinite(losses).all()):
        bad = int(torch.nonzero(~torch.isfinite(losses))[0, 0])
        raise _diverged(f"at step {bad}")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start

    def host(t):
        return None if t is None else _Timed(t.cpu().numpy(), seconds)
    return host(losses), host(bounds), host(plugins)


def training_step(critic, blocks: list[LossBlock], x, y, optimizer, autocast):
    """One Adam step on the blocks' summed losses (run ``r``'s gradient is that of its own
    loss); returns the :class:`numerics.torch_losses.LossOutput` (no finiteness check: a
    device sync)."""
    optimizer.zero_grad(set_to_none=True)
    with autocast:
        scores = critic(x, y)
    out = block_losses(blocks, scores, check_finite=False)
    out.loss.sum().backward()
    optimizer.step()
    return out


class GraphedStep:
    """:func:`training_step` captured as a CUDA graph (the launch overhead of a few hundred
    small kernels a step, which bounds small critics on a GPU, becomes one replay).

    The first ``warmup`` calls run eagerly (on a side stream, as capture requires; they are
    real training steps), the next captures the step on static copies of its inputs and
    replays it; later calls copy their batch into those inputs and replay.  Every call is one
    real step, so the sequence of updates is the eager loop's.  On the CPU there is no capture:
    the same static-input loop runs eagerly (what the tests exercise)."""

    warmup = 3

    def __init__(self, critic, blocks: list[LossBlock], optimizer, autocast) -> None:
        self.step = lambda x, y: training_step(critic, blocks, x, y, optimizer, autocast)
        self.optimizer = optimizer
        self.cuda = next(critic.parameters()).device.type == "cuda"
        self.calls = 0
        self.graph = self.inputs = self.out = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor):
        self.calls += 1
        if self.calls <= self.warmup:
            return self._side_stream(x, y)
        if self.inputs is None:
            self.inputs = (x.clone(), y.clone())
            if self.cuda:
                self.graph = torch.cuda.CUDAGraph()
                self.optimizer.zero_grad(set_to_none=True)
                with torch.cuda.graph(self.graph):
                    self.out = self.step(*self.inputs)
        else:
            self.inputs[0].copy_(x)
            self.inputs[1].copy_(y)
        if self.graph is not None:
            self.graph.replay()
        else:
            self.out = self.step(*self.inputs)
        return self.out

    def _side_stream(self, x, y):
        if not self.cuda:
            return self.step(x, y)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            out = self.step(x, y)
        torch.cuda.current_stream().wait_stream(side)
        return out


def evaluate(critic: torch.nn.Module, blocks: list[LossBlock], sampler, *, batch_size: int,
             critic_kind: str, batches: int, check_finite: bool = True,
             precision: str = "fp32") -> tuple[list[torch.Tensor], list[torch.Tensor], str]:
    """The bound (empty list when no block has one; NaN for the runs of Type 3 blocks) and
    plug-in of ``batches`` held-out batches per run (tensors of shape ``(runs,)``), drawn with
    each block's generators, and which one the first block's estimator reports.  Non-finite
    scores raise :class:`TrainingDiverged` unless ``check_finite=False`` (they give NaN / inf
    estimates for the runs concerned)."""
    bounds, plugins, kind = [], [], ""
    device = next(critic.parameters()).device
    with torch.no_grad():
        for _ in range(batches):
            x, y = draw_blocks(sampler, blocks, batch_size, critic_kind)
            with critic_autocast(precision, device):
                scores = critic(x, y)
            out = block_losses(blocks, scores, check_finite)
            kind = out.kind
            plugins.append(out.plugin_nats.double())
            if out.bound_nats is not None:
                bounds.append(out.bound_nats.double())
    return bounds, plugins, kind


def _loss(estimator: str, scores: torch.Tensor, loss_kw: dict, mine_state,
          check_finite: bool):
    """The minibatch loss; in training without the per-call finiteness check of the scores
    (a device sync each step): the losses are checked once after training."""
    if scores.dim() == 2:
        scores = scores.unsqueeze(0)
    try:
        return torch_losses.minibatch_loss(estimator, scores, mine_state=mine_state,
                                           check_finite=check_finite, **loss_kw)
    except InputError as exc:
        if exc.argument == "scores" and "finite" in exc.rule:
            raise _diverged("at evaluation") from None
        raise


def _diverged(where: str) -> "TrainingDiverged":
    return TrainingDiverged(f"training diverged {where}: the critic's scores became NaN or "
                            "infinite; try a smaller learning rate")


def _mean_se(values: list[torch.Tensor], runs: int) -> tuple[list[float], list[float]]:
    arr = torch.stack(values).cpu().numpy().reshape(len(values), runs)
    mean = arr.mean(axis=0)
    se = arr.std(axis=0, ddof=1) / math.sqrt(arr.shape[0])
    return [float(v) for v in mean], [float(v) for v in se]


# ------------------------------------------------------------------------------ results
def write_results(results: TrainResult | Iterable[TrainResult], path: str | Path, *,
                  extra: dict[str, object] | None = None) -> Path:
    """One row per run of every result (plus the ``extra`` columns on each row) to ``path``:
    ``.csv`` (always available) or ``.parquet`` (needs pyarrow).  Values are in nats (columns
    ``*_nats``); a missing value (e.g. the bound of a plug-in estimator) is an empty cell."""
    if isinstance(results, TrainResult):
        results = [results]
    rows = [dict(row, **(extra or {})) for res in results for row in res.rows()]
    if not rows:
        raise InputError("results", "nothing to write (no results)")
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError("path", f"results go to a .csv or .parquet file, got {str(path)!r}")
    try:
        if suffix == ".parquet":
            try:
                import pyarrow as pa
                import pyarrow.parquet as pq
            except ImportError:
                raise InputError("path", "writing Parquet needs pyarrow (pip install pyarrow); "
                                 "use a .csv path") from None
            pq.write_table(pa.Table.from_pylist(rows), path)
        else:
            columns = list(dict.fromkeys(k for row in rows for k in row))
            with path.open("w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=columns, restval="")
                writer.writeheader()
                for row in rows:
                    writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    except OSError as exc:
        raise InputError("path", f"cannot write {path} ({exc.strerror})") from None
    return path
