"""The MI-estimation benchmark of Sec. 4.1 / App. G (issue #5): estimators, one staircase run,
and the per-level statistics (bias, standard deviation, MSE).

**Estimators.**  Figure 1's columns are views of six trainings: ``NWJ`` and ``NWJ-plugin`` are
the same NWJ-trained critic reported as its bound or its plug-in ``E_p[c]``, likewise ``JS`` (the
NWJ value at the JS-trained critic, Poole et al. 2019) and ``JS-plugin``.  :class:`BenchEstimator`
says which loss is trained (``loss`` and ``options``) and which value is read (``report``); a
sweep trains each distinct ``(loss, options)`` once and reads every estimator that shares it.

**A staircase run** (:func:`run_staircase`) trains ``runs`` critics (seeds ``seed .. seed + runs
- 1``, batched) through every level of a :class:`numerics.tasks.Staircase` without resetting them
(the benchmark's "stepwise" mode), records the bound and plug-in on each *training* batch, and at
the last step of each level evaluates both on ``eval_batches`` *held-out* batches of that level.
A run that diverges (a non-finite loss) is kept as NaN from that step (and level) on, and listed
in ``meta["diverged_runs"]``; the other runs of the call are unaffected.

**Statistics** (:func:`level_estimates`, :func:`level_statistics`; pooled over a sweep's seed
blocks by :func:`numerics.sweep.summary_rows`): per run and level, the
held-out value, or the training value averaged over the last ``window`` fraction of the level's
steps; over runs, ``bias = mean - I``, ``sd`` (ddof 1) and ``MSE = mean((est - I)^2)``, in nats
(bits only at the edge: :func:`to_bits`).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from theory.errors import InputError

LN2 = math.log(2)


# ------------------------------------------------------------------------------ estimators
@dataclass(frozen=True)
class BenchEstimator:
    """A benchmark column: train ``loss`` (a :data:`numerics.torch_losses.LOSSES` name) with
    ``options`` (``K`` / ``nu`` / ``tau`` / ``alpha``; ``nu_over_k`` sets ``nu = ratio * K``),
    report its ``bound`` or its ``plug-in`` estimate."""

    name: str
    label: str
    loss: str
    report: str
    options: tuple[tuple[str, float], ...] = ()

    def option_dict(self) -> dict[str, float]:
        return dict(self.options)

    @property
    def train_key(self) -> str:
        """The training this estimator reads: the loss and its options (shared by views)."""
        opts = "".join(f"_{k}{_fmt(v)}" for k, v in self.options)
        return f"{self.loss}{opts}"

    def loss_kwargs(self, batch_size: int) -> dict[str, Any]:
        """Keyword arguments of :func:`numerics.torch_losses.minibatch_loss` at batch size B."""
        opts = self.option_dict()
        kw: dict[str, Any] = {k: opts.get(k) for k in ("K", "nu", "tau", "alpha")}
        if kw["K"] is not None:
            kw["K"] = int(kw["K"])
        if "nu_over_k" in opts:
            K = kw["K"] if kw["K"] is not None else batch_size - 1
            kw["nu"] = opts["nu_over_k"] * K
        return kw


def _fmt(v: float) -> str:
    return f"{v:g}".replace(".", "p").replace("-", "m")


def _est(name, label, loss, report, **options) -> BenchEstimator:
    return BenchEstimator(name, label, loss, report, tuple(sorted(options.items())))


#: The estimators of Figure 1 (in its column order), then the other Table 1 baselines.
ESTIMATORS: dict[str, BenchEstimator] = {e.name: e for e in (
    _est("nwj", "NWJ", "nwj", "bound"),
    _est("js", "JS", "js", "bound"),
    _est("nwj_plugin", "NWJ-plugin", "nwj", "plug-in"),
    _est("js_plugin", "JS-plugin", "js", "plug-in"),
    _est("drf", "chi2-plugin (DRF)", "drf", "plug-in"),
    _est("infonce", "InfoNCE", "infonce", "bound"),
    _est("spherical", "Spherical", "pseudo_spherical", "plug-in", alpha=2.0, nu=1.0),
    _est("infonce_anchor", "InfoNCE-anchor", "infonce_anchor", "plug-in", nu=1.0),
    _est("dv", "DV", "dv", "bound"),
    _est("mine", "MINE", "mine", "bound"),
    _est("smile", "SMILE (tau=5)", "smile", "bound", tau=5.0),
    _est("alpha_infonce", "alpha-InfoNCE (alpha=0.5)", "alpha_infonce", "bound", alpha=0.5),
    _est("mlinfonce", "MLInfoNCE", "mlinfonce", "bound"),
)}
FIGURE1 = ("nwj", "js", "nwj_plugin", "js_plugin", "drf", "infonce", "spherical",
           "infonce_anchor")
OPTION_NAMES = ("K", "nu", "tau", "alpha", "nu_over_k")


def make_estimator(name: str, base: str | None = None, label: str | None = None,
                   **options: float) -> BenchEstimator:
    """A catalogue estimator, or a variant of ``base`` with other options (e.g. ``nu``)."""
    from numerics.torch_losses import LOSSES
    if base is None:
        if name not in ESTIMATORS:
            raise InputError("estimator", f"unknown estimator {name!r}; known: "
                             f"{', '.join(ESTIMATORS)}")
        if not options:
            return ESTIMATORS[name]
        base = name
    if base not in ESTIMATORS:
        raise InputError("base", f"unknown base estimator {base!r}; known: {', '.join(ESTIMATORS)}")
    bad = set(options) - set(OPTION_NAMES)
    if bad:
        raise InputError("options", f"unknown option(s) {sorted(bad)} for {name}; expected "
                         f"{', '.join(OPTION_NAMES)}")
    b = ESTIMATORS[base]
    merged = {**b.option_dict(), **{k: float(v) for k, v in options.items()}}
    if "nu_over_k" in options:
        merged.pop("nu", None)
    if b.loss not in LOSSES:  # a catalogue entry out of step with numerics.torch_losses
        raise InputError("base", f"{base} trains {b.loss}, which is not a known loss")
    return BenchEstimator(name, label or name, b.loss, b.report, tuple(sorted(merged.items())))


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
                        hidden: int = 512, layers: int = 2, embed: int = 16,
                        eval_batches: int = 16, progress: bool = True, desc: str | None = None,
                        sampling: str = "per-run", precision: str = "fp32",
                        graphs: bool = False) -> list[StaircaseRun]:
    """Several trainings through the staircase in one batched critic (issue #12): member
    ``(estimator, seed, runs)`` owns ``runs`` critics seeded ``seed + r``, trained with its
    loss on batches from its own generators (a :class:`numerics.training.LossBlock`), so each
    member's :class:`StaircaseRun` is what :func:`run_staircase` gives it alone, up to float
    rounding; one forward / backward / Adam step serves every member (fewer kernel launches
    on a GPU).  ``sampling``: see :func:`numerics.training.stream_generators`; ``precision``:
    ``fp32``, ``tf32`` or ``bf16`` (:data:`numerics.training.PRECISIONS`); ``graphs``: replay
    the training step as a CUDA graph (:class:`numerics.training.GraphedStep`; the same
    numbers, fewer launches).  Each returned run's
    ``seconds`` is its share (by runs) of the group's wall time; ``meta["group_seconds"]`` the
    whole."""
    import torch

    from numerics.torch_critics import make_critic
    from numerics.training import (EVAL_STREAM, TRAIN_STREAM, LossBlock, _int, check_precision,
                                   evaluate, matmul_precision, optimise, resolve_device,
                                   stream_generators)
    batch_size = _int(batch_size, "batch_size", 2)
    if not members:
        raise InputError("members", "needs at least one (estimator, seed, runs)")
    members = [(e, _int(seed, "seed", 0), _int(runs, "runs", 1)) for e, seed, runs in members]
    eval_batches = _int(eval_batches, "eval_batches", 1)
    precision = check_precision(precision)
    dev = resolve_device(device)
    kws = [e.loss_kwargs(batch_size) for e, _, _ in members]
    seeds = [seed + r for _, seed, runs in members for r in range(runs)]
    critic = make_critic(critic_kind, **staircase.critic_dims(), hidden=hidden, layers=layers,
                         embed=embed, seeds=seeds).to(dev)

    def blocks(stream: int) -> list:
        return [LossBlock(e.loss, kw, stream_generators(seed, runs, stream, dev, sampling))
                for (e, seed, runs), kw in zip(members, kws)]
    train_blocks, eval_blocks = blocks(TRAIN_STREAM), blocks(EVAL_STREAM)
    total = len(seeds)
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


# ------------------------------------------------------------------------------ statistics
SOURCES = ("heldout", "train")


def level_estimates(run: StaircaseRun, estimator: BenchEstimator, source: str = "heldout",
                    window: float = 0.25) -> np.ndarray:
    """``(levels, runs)`` estimates in nats of ``estimator`` (its ``report`` value) from
    ``run``: ``heldout`` (held-out batches at each level's end) or ``train`` (training-batch
    values averaged over the last ``window`` of each level's steps)."""
    if source not in SOURCES:
        raise InputError("source", f"must be heldout or train, got {source!r}")
    if not 0 < window <= 1:
        raise InputError("window", f"must be in (0, 1], got {window!r}")
    bound = estimator.report == "bound"
    if source == "heldout":
        return run.heldout_bound if bound else run.heldout_plugin
    values = run.train_bound if bound else run.train_plugin
    per = run.settings["steps_per_level"]
    tail = max(1, int(round(window * per)))
    levels = values.reshape(-1, per, values.shape[1])
    return levels[:, per - tail:, :].astype(np.float64).mean(axis=1)


@dataclass(frozen=True)
class LevelStatistics:
    """Over runs, at one MI level (nats): ``bias = mean - true``, ``sd`` (ddof 1; NaN for one
    run), ``mse = mean((est - true)^2)``; ``diverged`` counts non-finite estimates (excluded)."""

    true_nats: float
    mean_nats: float
    bias_nats: float
    sd_nats: float
    mse_nats2: float
    runs: int
    diverged: int

    def in_bits(self) -> dict[str, float]:
        return {"true_bits": to_bits(self.true_nats), "mean_bits": to_bits(self.mean_nats),
                "bias_bits": to_bits(self.bias_nats), "sd_bits": to_bits(self.sd_nats),
                "mse_bits2": self.mse_nats2 / LN2 ** 2, "runs": self.runs,
                "diverged": self.diverged}


def level_statistics(estimates: np.ndarray, true_nats: np.ndarray) -> list[LevelStatistics]:
    """Per level: :class:`LevelStatistics` of the ``(levels, runs)`` estimates."""
    out = []
    for values, truth in zip(np.asarray(estimates, float), np.asarray(true_nats, float)):
        ok = values[np.isfinite(values)]
        n = ok.size
        mean = float(ok.mean()) if n else math.nan
        sd = float(ok.std(ddof=1)) if n > 1 else math.nan
        mse = float(np.mean((ok - truth) ** 2)) if n else math.nan
        out.append(LevelStatistics(float(truth), mean, mean - float(truth), sd, mse, n,
                                   int(values.size - n)))
    return out


def to_bits(nats: float) -> float:
    return nats / LN2


def smooth(values: np.ndarray, span: int) -> np.ndarray:
    """Exponential moving average along axis 0 with ``alpha = 2 / (span + 1)`` (the smoothed
    curves of Figures 1 and 3); NaN where the input is NaN."""
    values = np.asarray(values, float)
    if span <= 1:
        return values.copy()
    a = 2.0 / (span + 1)
    out = np.empty_like(values)
    acc = values[0].copy()
    for t in range(values.shape[0]):
        if t:
            acc = np.where(np.isfinite(acc), (1 - a) * acc + a * values[t], values[t])
        out[t] = acc
    return out


__all__ = ["BenchEstimator", "ESTIMATORS", "FIGURE1", "LevelStatistics", "StaircaseRun",
           "level_estimates", "level_statistics", "make_estimator", "run_staircase",
           "run_staircase_group", "smooth", "to_bits"]
