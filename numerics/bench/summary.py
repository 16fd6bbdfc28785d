"""Summaries of a sweep's finished units (issue #5): per estimator, critic, batch size and level
the bias / sd / MSE in bits (:func:`summary_rows`, :func:`overview_rows`), and the per-run record
the claims read (:func:`level_table`, ``levels.json``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from numerics.bench.config import SweepConfig, Unit
from numerics.bench.runner import load_units
from numerics.bench.staircase import StaircaseRun
from numerics.bench.statistics import SOURCES, level_estimates, level_statistics


def pooled_estimates(done: list[tuple[Unit, StaircaseRun]], window: float):
    """Per ``(estimator, critic, batch size)``: the estimator, the first run (for the truth and
    settings) and, per source, the ``(levels, runs)`` estimates in nats with every finished seed
    block of that training side by side."""

    groups: dict[tuple, list] = {}
    for unit, run in done:
        for est in unit.estimators:
            groups.setdefault((est.name, unit.critic, unit.batch_size), []).append((est, run))
    return {key: (items[0][0], items[0][1],
                  {src: np.concatenate([level_estimates(run, est, src, window)
                                        for est, run in items], axis=1) for src in SOURCES})
            for key, items in groups.items()}


def summary_rows(config: SweepConfig, out_dir: str | Path) -> list[dict[str, Any]]:
    """Per estimator, critic, batch size, source and level: bias / sd / MSE in bits over every
    finished seed (seed blocks of one training pooled)."""

    done, _ = load_units(config, out_dir)
    rows = []
    for (name, critic, B), (est, first, by_source) in pooled_estimates(
            done, float(config.report["window"])).items():
        for source, values in by_source.items():
            if np.isnan(values).all():
                continue
            for level, st in enumerate(level_statistics(values, first.level_mi_nats)):
                rows.append({"estimator": name, "label": est.label, "reports": est.report,
                             "source": source, "critic": critic, "batch_size": B,
                             "level": level, **st.in_bits(),
                             "steps_per_level": first.settings["steps_per_level"],
                             "lr": first.settings["lr"],
                             "loss_kwargs": json.dumps(first.settings["loss_kwargs"])})
    return rows


def overview_rows(rows: list[dict[str, Any]], source: str = "heldout") -> list[dict[str, Any]]:
    """Per estimator, critic and batch size: the mean over the levels of ``|bias|`` (bits) and
    of the MSE (bits^2), from :func:`summary_rows` rows of one ``source``."""
    groups: dict[tuple, list] = {}
    for r in rows:
        if r["source"] == source:
            groups.setdefault((r["estimator"], r["label"], r["critic"], r["batch_size"]),
                              []).append(r)
    out = []
    for (name, label, critic, B), rs in groups.items():
        out.append({"estimator": name, "label": label, "critic": critic, "batch_size": B,
                    "mean_abs_bias_bits": sum(abs(r["bias_bits"]) for r in rs) / len(rs),
                    "mean_mse_bits2": sum(r["mse_bits2"] for r in rs) / len(rs),
                    "top_level_mean_bits": rs[-1]["mean_bits"],
                    "top_level_true_bits": rs[-1]["true_bits"],
                    "runs": min(r["runs"] for r in rs)})
    return out


def level_table(config: SweepConfig, out_dir: str | Path) -> dict[str, Any]:
    """The per-run, per-level estimates (nats) of every finished estimator: the compact record
    (``levels.json``) from which the claims recompute their statistics.  Layout: ``{"settings":
    ..., "entries": [{estimator, label, reports, critic, batch_size, true_nats, heldout_nats,
    train_nats}]}`` with ``(levels, runs)`` nested lists; NaN (a diverged run) as None."""

    done, missing = load_units(config, out_dir)

    def listed(a):
        return [[None if not np.isfinite(v) else float(v) for v in row] for row in a]
    entries = []
    for (name, critic, B), (est, first, by_source) in pooled_estimates(
            done, float(config.report["window"])).items():
        entries.append({
            "estimator": name, "label": est.label, "reports": est.report, "critic": critic,
            "batch_size": B, "true_nats": [float(v) for v in first.level_mi_nats],
            **{f"{src}_nats": listed(values) for src, values in by_source.items()}})
    devices = sorted({run.meta.get("device", "?") for _, run in done})
    device_names = sorted({run.meta.get("device_name", "?") for _, run in done})
    return {"name": config.name, "task": config.task, "train": config.train,
            "report": config.report, "devices": devices, "device_names": device_names,
            "missing_units": len(missing),
            "train_seconds": round(sum(run.seconds for _, run in done), 1),
            "entries": entries}


__all__ = ["level_table", "overview_rows", "pooled_estimates", "summary_rows"]
