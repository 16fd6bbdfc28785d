"""Running a sweep's units on a Ray cluster (issue #15): each unit group is one Ray task.

``infonce-anchor bench CONFIG --executor ray [--address ADDR] [--cpus-per-unit C]
[--gpus-per-unit G] [--retries N]``.  Ray (``pip install 'infonce-anchor[distributed]'``) starts
a local runtime by default, or joins a running cluster at ``--address`` (``auto``: the one this
machine belongs to, e.g. inside a Slurm allocation or a KubeRay pod).

**Where results land.**  A task trains its group (:func:`numerics.bench.runner.train_unit_group`)
and *returns* the runs; the driver writes each unit's file itself, atomically, as results
arrive (:func:`numerics.bench.runner.save_unit_runs`).  So the workers need no shared
filesystem, a file is never half-written, and no unit is written twice.  Unit files are the
serial runner's, so a sweep started serially can be finished on Ray and the reverse.

**Same numbers.**  A task sets ``torch.set_num_threads(cpus_per_unit)`` and draws everything from
the unit's seeds, as the serial runner does; on the CPU the numbers are the serial run's bit for
bit (tested) when the serial run uses the same number of threads.

**Faults.**  A task whose worker process dies (killed, out of memory, node lost) is retried up
to ``retries`` times by Ray (``max_retries``); after that, or when the task raises, the group's
units are recorded as failed in ``OUT/failed/<unit>.json`` with the reason, and the other units
go on.  A rerun retries the failed units (their files were never written) and clears the record.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from numerics.bench.config import SweepConfig, Unit
from numerics.bench.runner import failure_path, save_unit_runs, train_unit_group
from theory.errors import InputError


def _ray():
    try:
        import ray
    except ImportError:
        raise InputError("--executor", "ray is not installed: pip install "
                         "'infonce-anchor[distributed]' (or pip install ray)") from None
    return ray


@dataclass(frozen=True)
class RayExecutor:
    """Where and with what each unit group runs: ``address`` (None: a local Ray runtime with
    ``local_cpus`` CPUs, default all of them), the resources of one task, and how many times a
    task whose worker died is retried."""

    address: str | None = None
    cpus_per_unit: float = 1.0
    gpus_per_unit: float = 0.0
    retries: int = 2
    local_cpus: int | None = None

    def __post_init__(self) -> None:
        for name in ("cpus_per_unit", "gpus_per_unit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                    not (value >= 0 and math.isfinite(value)):
                raise InputError(f"--{name.replace('_', '-')}", f"must be a finite number >= 0, "
                                 f"got {value!r}")
        if self.cpus_per_unit == 0 and self.gpus_per_unit == 0:
            raise InputError("--cpus-per-unit", "a unit needs some CPU or GPU")
        if isinstance(self.retries, bool) or not isinstance(self.retries, int) or \
                self.retries < 0:
            raise InputError("--retries", f"must be an integer >= 0, got {self.retries!r}")

    @property
    def device(self) -> str:
        """The device a task trains on: CUDA when it holds a GPU, else the CPU."""
        return "cuda" if self.gpus_per_unit > 0 else "cpu"

    @property
    def threads(self) -> int:
        """Torch threads of a task: its CPUs, at least one."""
        return max(1, int(self.cpus_per_unit))

    def run(self, config: SweepConfig, batches: list[list[Unit]], out_dir: Path, *, log=None,
            bar=None, graphs: bool = False) -> tuple[float, list[dict[str, Any]]]:
        """Run every group as a Ray task; write each unit as its task returns.  Returns the
        summed group seconds and the failed units' records."""
        if not batches:
            return 0.0, []
        ray = _ray()
        started_here = self._connect(ray)
        try:
            if not self.address:
                self._check_fits(ray.cluster_resources())
            return self._run_tasks(ray, config, batches, Path(out_dir), log, bar, graphs)
        finally:
            if started_here:
                ray.shutdown()

    def _connect(self, ray) -> bool:
        """Join ``address`` or start a local runtime; True when this call started it."""
        if ray.is_initialized():
            return False
        kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                  "configure_logging": False}
        if self.address:
            ray.init(address=self.address, **kwargs)
        else:
            # Ray starts its workers at nice 15: on a busy machine a local sweep would crawl
            # (a 0.1 s unit took 28 s in the tests); a local sweep is the job, so nice 0,
            # unless the user set it
            os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(num_cpus=self.local_cpus, **kwargs)
        return True

    def _check_fits(self, resources: dict[str, float]) -> None:
        """A local runtime never grows: a task asking for more than it has would wait forever."""
        for argument, key, want in (("--cpus-per-unit", "CPU", self.cpus_per_unit),
                                     ("--gpus-per-unit", "GPU", self.gpus_per_unit)):
            have = resources.get(key, 0)
            if want > have:
                raise InputError(argument, f"{want:g} per unit, but the local Ray runtime has "
                                 f"{have:g} {key}s (use fewer, or --address a cluster)")

    def _run_tasks(self, ray, config, batches, out_dir, log, bar, graphs):
        task = ray.remote(train_group_task).options(
            num_cpus=self.cpus_per_unit, num_gpus=self.gpus_per_unit,
            max_retries=self.retries, retry_exceptions=False)
        pending = {task.remote(config, group, self.device, self.threads, graphs): group
                   for group in batches}
        seconds, failed = 0.0, []
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            group = pending.pop(ref)
            try:
                runs = ray.get(ref)
            except Exception as exc:  # noqa: BLE001 - any task failure is recorded, not raised
                failed += record_failure(out_dir, group, exc, self.retries, log)
            else:
                seconds += save_unit_runs(group, runs, out_dir, log, executor="ray")
            if bar is not None:
                bar.update(len(group))
        return seconds, failed


def train_group_task(config: SweepConfig, group: list[Unit], device: str, threads: int,
                     graphs: bool):
    """The Ray task: train one unit group on this worker and return its runs."""
    import torch
    torch.set_num_threads(threads)
    runs = train_unit_group(config, group, device=device, progress=False, graphs=graphs)
    for run in runs:
        run.meta["worker_pid"] = os.getpid()
        run.meta["torch_threads"] = threads
    return runs


def record_failure(out_dir: Path, group: list[Unit], exc: BaseException, retries: int,
                   log=None) -> list[dict[str, Any]]:
    """Write why each unit of ``group`` failed (after ``retries`` retries) and return it."""
    reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc) else ''}"
    records = []
    for unit in group:
        record = {"unit": unit.name, "reason": reason, "retries": retries,
                  "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        path = failure_path(out_dir, unit)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(record, indent=1))
        tmp.replace(path)
        records.append(record)
        if log is not None:
            log(f"{unit.name}: FAILED after {retries} retries ({reason}); rerun to retry")
    return records
