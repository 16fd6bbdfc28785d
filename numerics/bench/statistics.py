"""Per-level statistics of staircase runs (Sec. 4.1; issue #5).

Per run and level (:func:`level_estimates`): the held-out value, or the training value averaged
over the last ``window`` fraction of the level's steps.  Over runs (:func:`level_statistics`;
pooled over a sweep's seed blocks by :func:`numerics.bench.summary.pooled_estimates`):
``bias = mean - I``, ``sd`` (ddof 1) and ``MSE = mean((est - I)^2)``, in nats (bits only at the
edge: :func:`numerics.exact.units.to_bits`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.bench.estimators import BenchEstimator
from numerics.bench.staircase import StaircaseRun
from numerics.exact.units import LN2, to_bits
from theory.errors import InputError

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
