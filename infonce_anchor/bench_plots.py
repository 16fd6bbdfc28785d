"""Staircase plots in the style of Figures 1 and 3 (issue #5): one panel per estimator, the
true MI staircase, the ``log2 K`` line (``K = B - 1``), and per critic the mean over seeds of the
smoothed stepwise estimate with a band of one standard deviation.  Bits on the axes."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from numerics.bench.statistics import smooth
from numerics.exact.units import LN2

COLOURS = {"joint": "tab:blue", "separable": "tab:orange", "bilinear": "tab:green"}


def staircase_figure(config, done: list, batch_size: int, path: str | Path) -> Path:
    """Write the PNG for one batch size of a sweep (``done``: finished ``(unit, run)`` pairs)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ests = list(config.estimators)
    span = int(config.report["smooth_span"])
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
        ax.axhline(math.log2(batch_size - 1), color="grey", ls="--", lw=0.8, label="log2 K")
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
