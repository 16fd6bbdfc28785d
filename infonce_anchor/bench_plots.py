"""Staircase plots in the style of Figures 1 and 3 (issue #5): one panel per estimator, the
true MI staircase, the ``log2 K`` line (``K = B - 1``), InfoNCE's limit ``D_KJS(K)`` per level
(issue #13; ``levels.json["targets"]``), and per critic the mean over seeds of the smoothed
stepwise estimate with a band of one standard deviation (:func:`staircase_figure`, from the unit
files) or the held-out estimate of each level, mean +/- sd over seeds (:func:`heldout_figure`,
from ``levels.json`` alone).  Bits on the axes."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from numerics.bench.statistics import smooth
from numerics.bench.summary import sweep_targets
from numerics.exact.units import LN2

COLOURS = {"joint": "tab:blue", "separable": "tab:orange", "bilinear": "tab:green",
           "separable_pd": "tab:red"}
KJS_COLOUR = "tab:purple"


def kjs_levels_bits(config, batch_size: int, targets: dict | None = None) -> np.ndarray:
    """``D_KJS(K = B - 1)`` per level (bits) from ``targets`` (``levels.json["targets"]``), or
    computed now (:func:`numerics.bench.summary.sweep_targets`) when they lack this batch size."""
    per = (targets or {}).get("batch_sizes", {}).get(str(batch_size))
    if per is None:
        per = sweep_targets(config, [batch_size])["batch_sizes"][str(batch_size)]
    return np.array([t["kjs_bits"] for t in per["levels"]])


def _draw_limits(ax, kjs_bits: np.ndarray | None, per: int, batch_size: int) -> None:
    """``log2 K`` and ``D_KJS(K)`` per level (when given), as a staircase of the steps."""
    ax.axhline(math.log2(batch_size - 1), color="grey", ls="--", lw=0.8, label="log2 K")
    if kjs_bits is None:
        return
    ax.plot(np.arange(kjs_bits.size * per), np.repeat(kjs_bits, per), color=KJS_COLOUR,
            ls=":", lw=1.1, label="D_KJS(K)")


def staircase_figure(config, done: list, batch_size: int, path: str | Path,
                     targets: dict | None | bool = None) -> Path:
    """Write the PNG for one batch size of a sweep (``done``: finished ``(unit, run)`` pairs);
    ``targets``: ``levels.json["targets"]`` (computed here when None or lacking this batch
    size; ``False``: no ``D_KJS`` line, e.g. where device time is short)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ests = list(config.estimators)
    span = int(config.report["smooth_span"])
    kjs = None if targets is False else kjs_levels_bits(config, batch_size, targets or None)
    fig, axes = plt.subplots(1, len(ests), figsize=(2.3 * len(ests), 2.6), sharey=True,
                             squeeze=False)
    for ax, est in zip(axes[0], ests):
        curves: dict[str, list[np.ndarray]] = {}
        truth = None
        for unit, run in done:
            if unit.batch_size != batch_size or est not in unit.estimators:
                continue
            values = run.train_bound if est.report == "bound" else run.train_plugin
            curves.setdefault(unit.critic, []).append(values)
            per = run.settings["steps_per_level"]
            truth = np.repeat(run.level_mi_nats, per) / LN2
        if truth is None:
            ax.set_title(f"{est.label}\n(no runs yet)", fontsize=8)
            continue
        steps = np.arange(truth.size)
        ax.plot(steps, truth, color="black", lw=1.2, label="true")
        _draw_limits(ax, kjs, per, batch_size)
        for critic, blocks in curves.items():
            values = smooth(np.concatenate(blocks, axis=1), span) / LN2
            with warnings.catch_warnings():   # steps where every run diverged: NaN, no gap
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(values, axis=1)
                sd = np.nanstd(values, axis=1)
            c = COLOURS.get(critic)
            ax.plot(steps, mean, color=c, lw=0.9, label=critic)
            ax.fill_between(steps, mean - sd, mean + sd, color=c, alpha=0.25, lw=0)
        ax.set_title(est.label, fontsize=8)
        ax.set_xlabel("step", fontsize=7)
        ax.tick_params(labelsize=6)
        top = float(truth.max())
        ax.set_ylim(-0.5, top + 2.5)
    axes[0][0].set_ylabel("MI estimate (bits)", fontsize=7)
    axes[0][0].legend(fontsize=6, loc="upper left")
    fig.suptitle(f"{config.name}: {config.staircase().describe()}, batch size {batch_size}, "
                 f"mean +/- sd over seeds (EMA span {span})", fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def heldout_figure(config, record: dict, batch_size: int, path: str | Path) -> Path:
    """The held-out estimates of ``record`` (a ``levels.json``) at one batch size: per
    estimator a panel with the MI staircase, ``log2 K``, ``D_KJS(K)`` and, per critic, the
    mean +/- sd over seeds of each level's held-out estimate, drawn at the level's end (the
    step where it is measured).  Needs no unit files; without ``record["targets"]`` no
    ``D_KJS`` line is drawn."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = [e for e in record["entries"] if e["batch_size"] == batch_size]
    names = list(dict.fromkeys(e["estimator"] for e in entries))
    labels = {e["estimator"]: e["label"] for e in entries}
    per = int(record["task"]["steps_per_level"])
    kjs = kjs_levels_bits(config, batch_size, record["targets"]) \
        if record.get("targets") else None
    fig, axes = plt.subplots(1, max(1, len(names)), figsize=(2.3 * max(1, len(names)), 2.6),
                             sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names):
        mine = [e for e in entries if e["estimator"] == name]
        truth = np.array(mine[0]["true_nats"]) / LN2
        ax.plot(np.arange(truth.size * per), np.repeat(truth, per), color="black", lw=1.2,
                label="true")
        _draw_limits(ax, kjs, per, batch_size)
        ends = (np.arange(truth.size) + 1) * per - 1
        for j, e in enumerate(mine):
            v = np.array([[np.nan if x is None else x for x in row]
                          for row in e["heldout_nats"]], float) / LN2
            with warnings.catch_warnings():   # a level where every run diverged
                warnings.simplefilter("ignore", RuntimeWarning)
                mean, sd = np.nanmean(v, axis=1), np.nanstd(v, axis=1)
            ax.errorbar(ends - j * per * 0.06, mean, yerr=sd, fmt="o", ms=2.5, lw=0.9,
                        capsize=1.5, color=COLOURS.get(e["critic"]), label=e["critic"])
        ax.set_title(labels[name], fontsize=8)
        ax.set_xlabel("step", fontsize=7)
        ax.tick_params(labelsize=6)
        ax.set_ylim(-0.5, float(truth.max()) + 2.5)
    axes[0][0].set_ylabel("held-out estimate (bits)", fontsize=7)
    axes[0][0].legend(fontsize=6, loc="upper left")
    fig.suptitle(f"{record.get('name', config.name)}: {config.staircase().describe()}, batch "
                 f"size {batch_size}, held-out estimate per level, mean +/- sd over seeds",
                 fontsize=8)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
