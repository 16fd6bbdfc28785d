"""Summaries of an SSL sweep's unit records (numpy / scipy only: the claims report reads them
without torch).

A record is one unit's result (:func:`numerics.ssl.sweep.run_unit`): ``method``, ``seed``,
``top1`` / ``top5`` (fractions), ``diverged_at``.  Accuracies are reported in percent.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

#: what the references are called in tables
REFERENCE_LABELS = {"random": "random encoder", "supervised": "supervised"}


def summary_rows(methods: list[str], labels: dict[str, str], records: list[dict]
                 ) -> list[dict[str, Any]]:
    """Per method (in the order of ``methods``): seeds done, diverged seeds, top-1 / top-5 mean
    and sample sd over seeds (%)."""
    rows = []
    for method in methods:
        mine = [r for r in records if r["method"] == method]
        row: dict[str, Any] = {"method": method, "label": labels.get(method, method),
                               "seeds": len(mine),
                               "diverged": sum(r.get("diverged_at") is not None for r in mine)}
        for key in ("top1", "top5"):
            values = 100 * np.array([r[key] for r in mine], dtype=float)
            row[f"{key}_mean"] = float(values.mean()) if len(values) else None
            row[f"{key}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else None
        rows.append(row)
    return rows


def paired_differences(records: list[dict], a: str, b: str, key: str = "top1"
                       ) -> dict[str, Any]:
    """``a - b`` in accuracy points, paired by seed (one seed starts every method from the same
    encoder and batches): the mean, the sample sd, ``n`` and the 95 % t interval of the mean,
    ``mean -+ t_{0.975, n-1} sd / sqrt(n)``."""
    by_seed = {m: {r["seed"]: 100 * r[key] for r in records if r["method"] == m} for m in (a, b)}
    seeds = sorted(set(by_seed[a]) & set(by_seed[b]))
    diffs = np.array([by_seed[a][s] - by_seed[b][s] for s in seeds], dtype=float)
    n = len(diffs)
    result: dict[str, Any] = {"a": a, "b": b, "key": key, "n": n,
                              "mean": float(diffs.mean()) if n else None, "sd": None,
                              "ci95": None}
    if n >= 2:
        sd = float(diffs.std(ddof=1))
        half = float(stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n))
        result.update(sd=sd, ci95=[result["mean"] - half, result["mean"] + half])
    return result
