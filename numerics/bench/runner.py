"""Running a sweep (issues #5, #12): its units, trained one by one or grouped, each written to
``OUT/units/<unit>.npz`` as soon as it finishes (atomically); a rerun skips the units whose file
exists, so a stopped or crashed sweep resumes where it was."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from numerics.bench.config import SweepConfig, Unit
from numerics.bench.staircase import StaircaseRun, run_staircase_group
from theory.errors import InputError


# ------------------------------------------------------------------------------ running
def unit_path(out_dir: Path, unit: Unit, suffix: str = ".npz") -> Path:
    """``out_dir/units/<unit name><suffix>``; a name that would leave that folder is an error
    (the names are built from checked config values, so this never happens by design).  Any
    unit with a ``name`` (the SSL sweeps' too, with ``.json``)."""
    units = Path(out_dir) / "units"
    path = units / f"{unit.name}{suffix}"
    if path.resolve().parent != units.resolve():
        raise InputError("unit", f"unit name {unit.name!r} would leave {units}")
    return path


def failure_path(out_dir: Path, unit: Unit) -> Path:
    """``out_dir/failed/<unit>.json``: why a unit's last attempt failed (beside ``units/``)."""
    return Path(out_dir) / "failed" / f"{unit.name}.json"


def run_sweep(config: SweepConfig, out_dir: str | Path, *, device: object = None,
              progress: bool = True, max_units: int | None = None, log=None,
              group: bool = False, graphs: bool = False, executor=None) -> dict[str, Any]:
    """Run every unit whose result is not yet in ``out_dir`` (at most ``max_units`` of them);
    returns counts and the seconds spent.  Writes ``out_dir/config.json`` for provenance.

    ``group=True`` trains the pending units that share a critic, batch size and seed block
    together in one batched critic (:func:`numerics.bench.staircase.run_staircase_group`): the same
    numbers per unit up to float rounding, one step for all (the GPU's way); ``graphs=True``
    replays each training step as a CUDA graph.  Neither changes a unit's hash.  Each unit is
    still written to its own file as soon as its group finishes.

    ``executor``: None runs the groups here, one after another; a
    :class:`numerics.bench.distributed.RayExecutor` runs each group as a Ray task and writes
    what comes back.  Either way a unit's file is written once, atomically, by this process,
    which holds ``out_dir``'s driver lock (:func:`driver_lock`) for the whole sweep."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with driver_lock(out_dir):      # before config.json: a refused driver writes nothing
        write_config_record(config, out_dir)
        units = config.units()
        pending = [u for u in units if not unit_path(out_dir, u).exists()]
        todo = pending if max_units is None else pending[:max_units]
        bar = _units_bar(len(todo), progress)
        batches = unit_groups(todo, group)
        try:
            if executor is None:
                seconds, failed = _run_here(config, batches, out_dir, device, progress, log,
                                            graphs, bar), []
            else:
                seconds, failed = executor.run(config, batches, out_dir, log=log, bar=bar,
                                               graphs=graphs)
        finally:
            if bar is not None:
                bar.close()
    return {"units": len(units), "already_done": len(units) - len(pending), "ran": len(todo),
            "left": len(pending) - len(todo), "seconds": seconds, "failed": failed}


def _run_here(config, batches, out_dir, device, progress, log, graphs, bar) -> float:
    seconds = 0.0
    for batch in batches:
        seconds += run_unit_group(config, batch, out_dir, device=device, progress=progress,
                                  log=log, graphs=graphs)
        if bar is not None:
            bar.update(len(batch))
    return seconds


@contextmanager
def driver_lock(out_dir: Path):
    """Hold ``out_dir/.driver.lock`` (an exclusive ``flock``) while a sweep writes there; a
    second driver on the same folder gets an :class:`InputError` at once.  The kernel frees
    the lock when its holder exits, crash included.  (``flock`` is per host: two drivers on
    *different* machines sharing the folder over NFS are not excluded by it.)"""
    path = Path(out_dir) / ".driver.lock"
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise InputError("--out", f"{out_dir} is in use by another sweep driver ({holder}); "
                         "wait for it to finish or use another --out") from None
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        yield
    finally:
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


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


def train_unit_group(config: SweepConfig, units: list[Unit], *, device=None,
                     progress: bool = False, graphs: bool = False) -> list[StaircaseRun]:
    """Train ``units`` (one critic, batch size and seed block: a :func:`unit_groups` entry)
    together; their runs, in order, each with ``meta["device"]`` and ``meta["host"]``.  Writes
    nothing (a Ray worker runs this and sends the runs back to the driver)."""
    tr = config.train
    u0 = units[0]
    runs = run_staircase_group(
        [(u.estimators[0], u.first_seed, u.runs) for u in units], u0.critic,
        config.staircase(), batch_size=u0.batch_size, lr=tr["lr"], device=device,
        hidden=tr["hidden"], layers=tr["layers"], embed=tr["embed"],
        eval_batches=tr["eval_batches"], progress=progress,
        desc=f"{'+'.join(u.train_key for u in units)}/{u0.critic}/B{u0.batch_size}",
        sampling=tr["sampling"], precision=tr["precision"], graphs=graphs)
    for run in runs:
        run.meta.setdefault("device", str(device if device is not None else "default"))
        run.meta["host"] = platform.node()
    return runs


def save_unit_runs(units: list[Unit], runs: list[StaircaseRun], out_dir: Path, log=None,
                   executor: str = "serial") -> float:
    """Write each unit's run to its file (atomically; :meth:`StaircaseRun.save`); the group's
    wall seconds."""
    for unit, run in zip(units, runs):
        run.meta["executor"] = executor
        run.save(unit_path(out_dir, unit))
        failure_path(out_dir, unit).unlink(missing_ok=True)
        diverged = run.meta.get("diverged_runs", [])
        if log is not None:
            log(f"{unit.name}: {run.seconds:.1f} s on {run.meta.get('device')} "
                f"({run.meta.get('host')}, {executor})" +
                (f"; seeds {diverged} diverged (kept as NaN)" if diverged else ""))
    return runs[0].meta["group_seconds"]


def run_unit_group(config: SweepConfig, units: list[Unit], out_dir: Path, *, device=None,
                   progress: bool = False, log=None, graphs: bool = False) -> float:
    """Train ``units`` together here and write each one's file to ``out_dir/units``; returns
    the wall seconds."""
    runs = train_unit_group(config, units, device=device, progress=progress, graphs=graphs)
    return save_unit_runs(units, runs, out_dir, log)


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
