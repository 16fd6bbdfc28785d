"""Summaries of a sweep's finished units (issue #5): per estimator, critic, batch size and level
the bias / sd / MSE in bits (:func:`summary_rows`, :func:`overview_rows`), and the per-run record
the claims read (:func:`level_table`, ``levels.json``).

Issue #13: per level and batch size the record also carries what the slot objectives converge to
(:func:`sweep_targets`, ``levels.json["targets"]``: ``D_KJS(K = B - 1)``, InfoNCE's limit, and the
anchored divergence, with error bars; :mod:`numerics.bench.targets`), and the rows carry
``D_KJS`` and InfoNCE's bias against it (:func:`attach_targets`).  :func:`record_rows` rebuilds
the rows from a ``levels.json`` alone (a results folder shipped without its unit files)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from numerics.bench import targets as tg
from numerics.bench.config import SweepConfig, Unit
from numerics.bench.runner import load_units
from numerics.bench.staircase import StaircaseRun
from numerics.bench.statistics import SOURCES, level_estimates, level_statistics
from numerics.exact.units import LN2
from theory.dre import DEFAULT_NU
from theory.errors import InputError


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
        kjs = [r["bias_kjs_bits"] for r in rs if r.get("bias_kjs_bits") is not None]
        if len(kjs) == len(rs):     # InfoNCE with targets: its |bias| against D_KJS(K) too
            out[-1]["mean_abs_bias_kjs_bits"] = sum(abs(b) for b in kjs) / len(kjs)
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


# ------------------------------------------------------------------------------ from levels.json
def record_rows(record: dict[str, Any], config: SweepConfig) -> list[dict[str, Any]]:
    """:func:`summary_rows` rebuilt from a ``levels.json`` record (its per-run estimates, in the
    record's order), for a results folder without its unit files: the same numbers, since the
    record keeps every finished run's value.  ``config`` names the estimators' options."""
    by_name = {e.name: e for e in config.estimators}
    steps, lr = record["task"]["steps_per_level"], record["train"]["lr"]
    rows = []
    for e in record["entries"]:
        est = by_name.get(e["estimator"])
        if est is None:
            raise InputError("config", f"{config.source or config.name} has no estimator "
                             f"{e['estimator']!r} of the record {record.get('name')!r}")
        B = e["batch_size"]
        for source in SOURCES:
            values = np.array([[np.nan if v is None else v for v in row]
                               for row in e[f"{source}_nats"]], float)
            if np.isnan(values).all():
                continue
            for level, st in enumerate(level_statistics(values, e["true_nats"])):
                rows.append({"estimator": e["estimator"], "label": e["label"],
                             "reports": e["reports"], "source": source, "critic": e["critic"],
                             "batch_size": B, "level": level, **st.in_bits(),
                             "steps_per_level": steps, "lr": lr,
                             "loss_kwargs": json.dumps(est.loss_kwargs(B))})
    return rows


# ------------------------------------------------------------------------------ targets
TARGETS_WHAT = (
    "what the slot objectives converge to, per batch size B and level (bits): kjs = D_KJS(K), "
    "K = B - 1, the supremum of InfoNCE's held-out estimate (E_x E log(K r(x,y_1) / sum_j "
    "r(x,y_j)), y_1 ~ p(y|x), y_2..y_K ~ p(y)); anchored = I(Z; X_1:K) of the log score with "
    "anchor nu at K = B - 1, the value of the anchor's objective (its plug-in estimate targets "
    "the MI); error bars are 2 standard errors (Monte Carlo) or 2 x the exact method's error")


def _anchor_nus(config: SweepConfig, B: int) -> list[float]:
    """The anchors ``nu`` of the sweep's InfoNCE-anchor trainings at batch size ``B`` that use
    ``K = B - 1`` slots (the default)."""
    nus = set()
    for e in config.estimators:
        if e.loss != "infonce_anchor":
            continue
        kw = e.loss_kwargs(B)
        if kw["K"] in (None, B - 1):
            nus.add(float(kw["nu"]) if kw["nu"] is not None else DEFAULT_NU)
    return sorted(nus)


def sweep_targets(config: SweepConfig, batch_sizes: list[int] | None = None) -> dict[str, Any]:
    """``levels.json["targets"]``: per batch size (``config``'s by default) and level, the MI,
    ``log2 K``, ``D_KJS(K = B - 1)`` and the anchored divergence of each anchor ``nu`` of the
    sweep, in bits with standard errors and error bars (:mod:`numerics.bench.targets`).  The
    Gaussian tasks take seconds per level (Monte Carlo, 2 SE <= 0.01 bits); the items tasks are
    exact.  The cubic task has the plain task's targets (``r`` is invariant under ``y -> y^3``;
    tests/test_targets.py checks it with the cubic variable's own densities)."""
    kind = config.task["kind"]
    stair = config.staircase()
    sizes = sorted(batch_sizes or config.train["batch_sizes"])
    mi_nats = stair.level_mi_nats()
    out: dict[str, Any] = {"what": TARGETS_WHAT, "task": kind, "batch_sizes": {}}
    if kind in ("gaussian", "gaussian_cubic"):
        dim = int(config.task["dim"])
        out["method"] = (
            f"Monte Carlo over independent draws (x, y_1..y_K) of the Gaussian task, d = {dim}, "
            "log r = sum_k [-(1/2) log(1 - rho^2) - (rho^2 x_k^2 - 2 rho x_k y_k + rho^2 y_k^2)"
            " / (2 (1 - rho^2))], seeded by (d, K, level); draws set from a pilot so that 2 SE "
            f"<= {tg.MAX_ERROR_BAR_BITS} bits"
            + ("; the cubic task's targets are the plain task's (r is invariant under the "
               "invertible map y -> y^3)" if kind == "gaussian_cubic" else ""))
    else:
        out["method"] = ("exact: x's class pattern m ~ Binomial(d, 1/2), y collapsed into "
                         "ratio classes, numerics.exact.kjs on the conditional laws")
    for B in sizes:
        K = B - 1
        nus = _anchor_nus(config, B)
        levels = []
        for i, mi in enumerate(mi_nats):
            if kind in ("gaussian", "gaussian_cubic"):
                lim = tg.gaussian_slot_limits(dim, mi, K, nus)
            else:
                task = stair.level_samplers[i]
                lim = tg.items_slot_limits(task.p, [len(c) for c in task.items], task.d, K,
                                           nus)
            kjs = lim.kjs.in_bits()
            levels.append({"level": i, "mi_bits": mi / LN2, "log2_K": math.log2(K),
                           "kjs_bits": kjs["bits"], "kjs_se_bits": kjs["se_bits"],
                           "kjs_error_bar_bits": kjs["error_bar_bits"],
                           "samples": lim.kjs.samples,
                           "anchored": [{"nu": nu, **est.in_bits()}
                                        for nu, est in lim.anchored.items()]})
        out["batch_sizes"][str(B)] = {"K": K, "levels": levels}
    return out


def _kjs_at(targets: dict[str, Any] | None, B: int, level: int) -> dict[str, Any] | None:
    if not targets:
        return None
    per_B = targets["batch_sizes"].get(str(B))
    if per_B is None or level >= len(per_B["levels"]):
        return None
    return per_B["levels"][level]


def infonce_limit_applies(est, B: int) -> bool:
    """Is ``D_KJS(B - 1)`` the limit of ``est``'s estimate: InfoNCE's bound with ``K = B - 1``."""
    if est.loss != "infonce" or est.report != "bound":
        return False
    return est.loss_kwargs(B)["K"] in (None, B - 1)


def attach_targets(rows: list[dict[str, Any]], targets: dict[str, Any] | None,
                   config: SweepConfig) -> list[dict[str, Any]]:
    """Add to each row ``kjs_bits`` and ``kjs_error_bar_bits`` (its level and batch size) and,
    for InfoNCE (:func:`infonce_limit_applies`), ``bias_kjs_bits = mean - D_KJS`` (the bias
    against the MI stays ``bias_bits``); None where no target applies.  In place; returned."""
    by_name = {e.name: e for e in config.estimators}
    for r in rows:
        t = _kjs_at(targets, r["batch_size"], r["level"])
        r["kjs_bits"] = t["kjs_bits"] if t else None
        r["kjs_error_bar_bits"] = t["kjs_error_bar_bits"] if t else None
        est = by_name.get(r["estimator"])
        r["bias_kjs_bits"] = (r["mean_bits"] - t["kjs_bits"]
                              if t and est is not None and infonce_limit_applies(
                                  est, r["batch_size"]) else None)
    return rows


def with_targets(record: dict[str, Any], targets: dict[str, Any]) -> dict[str, Any]:
    """``record`` with ``targets`` set just before its ``entries`` (everything else as it was)."""
    out = {k: v for k, v in record.items() if k not in ("targets", "entries")}
    out["targets"] = targets
    out["entries"] = record["entries"]
    return out


__all__ = ["TARGETS_WHAT", "attach_targets", "infonce_limit_applies", "level_table",
           "overview_rows", "pooled_estimates", "record_rows", "summary_rows", "sweep_targets",
           "with_targets"]
