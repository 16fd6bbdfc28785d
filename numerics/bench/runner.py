"""Running a sweep (issues #5, #12): its units, trained one by one or grouped, each written to
``OUT/units/<unit>.npz`` as soon as it finishes (atomically); a rerun skips the units whose file
exists, so a stopped or crashed sweep resumes where it was."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from numerics.bench.config import SweepConfig, Unit
from numerics.bench.staircase import StaircaseRun, run_staircase_group
from theory.errors import InputError


# ------------------------------------------------------------------------------ running
def unit_path(out_dir: Path, unit: Unit) -> Path:
    """``out_dir/units/<unit name>.npz``; a name that would leave that folder is an error (the
    names are built from checked config values, so this never happens by design)."""
    units = Path(out_dir) / "units"
    path = units / f"{unit.name}.npz"
    if path.resolve().parent != units.resolve():
        raise InputError("unit", f"unit name {unit.name!r} would leave {units}")
    return path


def run_sweep(config: SweepConfig, out_dir: str | Path, *, device: object = None,
              progress: bool = True, max_units: int | None = None, log=None,
              group: bool = False, graphs: bool = False) -> dict[str, Any]:
    """Run every unit whose result is not yet in ``out_dir`` (at most ``max_units`` of them);
    returns counts and the seconds spent.  Writes ``out_dir/config.json`` for provenance.

    ``group=True`` trains the pending units that share a critic, batch size and seed block
    together in one batched critic (:func:`numerics.bench.staircase.run_staircase_group`): the same
    numbers per unit up to float rounding, one step for all (the GPU's way); ``graphs=True``
    replays each training step as a CUDA graph.  Neither changes a unit's hash.  Each unit is
    still written to its own file as soon as its group finishes."""
    out_dir = Path(out_dir)
    write_config_record(config, out_dir)
    units = config.units()
    pending = [u for u in units if not unit_path(out_dir, u).exists()]
    todo = pending if max_units is None else pending[:max_units]
    bar = _units_bar(len(todo), progress)
    seconds = 0.0
    try:
        for batch in unit_groups(todo, group):
            seconds += run_unit_group(config, batch, out_dir, device=device,
                                      progress=progress, log=log, graphs=graphs)
            if bar is not None:
                bar.update(len(batch))
    finally:
        if bar is not None:
            bar.close()
    return {"units": len(units), "already_done": len(units) - len(pending), "ran": len(todo),
            "left": len(pending) - len(todo), "seconds": seconds}


def unit_groups(units: list[Unit], group: bool) -> list[list[Unit]]:
    """The units trained together: one each, or (``group``) those of one critic, batch size
    and seed block, in the order of ``units``."""
    if not group:
        return [[u] for u in units]
    groups: dict[tuple, list[Unit]] = {}
    for u in units:
        groups.setdefault((u.critic, u.batch_size, u.first_seed, u.runs), []).append(u)
    return list(groups.values())


def write_config_record(config: SweepConfig, out_dir: Path) -> None:
    """``out_dir/config.json`` (the parsed config, for provenance) and ``out_dir/units/``."""
    (out_dir / "units").mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(
        {"name": config.name, "source": config.source, "task": config.task,
         "train": config.train, "report": config.report,
         "estimators": [e.__dict__ | {"options": dict(e.options)} for e in config.estimators]},
        indent=2, default=str))


def run_unit_group(config: SweepConfig, units: list[Unit], out_dir: Path, *, device=None,
                   progress: bool = False, log=None, graphs: bool = False) -> float:
    """Train ``units`` (one critic, batch size and seed block: a :func:`unit_groups` entry)
    together and write each one's file to ``out_dir/units``; returns the wall seconds."""
    tr = config.train
    u0 = units[0]
    runs = run_staircase_group(
        [(u.estimators[0], u.first_seed, u.runs) for u in units], u0.critic,
        config.staircase(), batch_size=u0.batch_size, lr=tr["lr"], device=device,
        hidden=tr["hidden"], layers=tr["layers"], embed=tr["embed"],
        eval_batches=tr["eval_batches"], progress=progress,
        desc=f"{'+'.join(u.train_key for u in units)}/{u0.critic}/B{u0.batch_size}",
        sampling=tr["sampling"], precision=tr["precision"], graphs=graphs)
    for unit, run in zip(units, runs):
        run.save(unit_path(out_dir, unit))
        diverged = run.meta.get("diverged_runs", [])
        if log is not None:
            log(f"{unit.name}: {run.seconds:.1f} s" +
                (f"; seeds {diverged} diverged (kept as NaN)" if diverged else ""))
    return runs[0].meta["group_seconds"]


def _units_bar(total: int, enabled: bool):
    if not enabled or total == 0:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="units", file=sys.stderr, position=0)


# ------------------------------------------------------------------------------ results
def load_units(config: SweepConfig, out_dir: str | Path
               ) -> tuple[list[tuple[Unit, StaircaseRun]], list[Unit]]:
    """The finished units of ``config`` in ``out_dir`` and the missing ones."""
    out_dir = Path(out_dir)
    done, missing = [], []
    for unit in config.units():
        path = unit_path(out_dir, unit)
        (done.append((unit, StaircaseRun.load(path))) if path.exists() else missing.append(unit))
    return done, missing
