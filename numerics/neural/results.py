"""Result files of :func:`numerics.neural.train.train`: CSV (or Parquet with pyarrow), one row per
run, units in the column names."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterable

from numerics.neural.train import TrainResult
from theory.errors import InputError


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
