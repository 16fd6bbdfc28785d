"""Sweeps on a Ray runtime (issue #15, items 2, 3, 5): the Ray executor gives the serial run's
numbers bit for bit, a sweep resumes across executors, a worker killed mid-unit is retried (or
recorded in ``OUT/failed/`` and rerun), two drivers cannot share a results folder, and the
command's Ray options are checked.

Everything runs on a real local Ray runtime (2 CPUs, shared by the tests of this module), and
every expected number comes from an independent serial run (one torch thread, as the Ray tasks
with ``cpus_per_unit = 1``)."""

from __future__ import annotations

import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ray = pytest.importorskip("ray")

from numerics.bench import runner
from numerics.bench.config import SweepConfig
from numerics.bench.distributed import RayExecutor
from numerics.bench.runner import failure_path, run_sweep, unit_path
from numerics.bench.staircase import StaircaseRun
from theory.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "benchmarks" / "configs" / "smoke.toml"
TASK_TITLE = "ray::train_group_task"      # a Ray worker's process title while it runs the task


# ------------------------------------------------------------------------------ configs
def smoke_raw(**task) -> dict:
    raw = tomllib.loads(SMOKE.read_text())
    raw["task"].update(task)
    return raw


def write_toml(raw: dict, path: Path) -> Path:
    """A (flat, two-level) config dict as TOML, for the command line."""
    def value(v):
        return json.dumps(v) if not isinstance(v, bool) else str(v).lower()
    lines = [f"name = {value(raw['name'])}"]
    for section in ("task", "train", "report"):
        lines += ["", f"[{section}]"] + [f"{k} = {value(v)}" for k, v in raw[section].items()]
    path.write_text("\n".join(lines) + "\n")
    return path


#: Three units of the smoke sweep, shortened (about 0.1 s each on one thread).
SMALL = smoke_raw(steps_per_level=30)
#: Two units of a few seconds each (3000 steps), so that a kill lands mid-unit.
LONG = smoke_raw(steps_per_level=1000)
LONG["name"] = "long"
LONG["train"]["estimators"] = ["nwj", "infonce"]


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The serial runs here use one torch thread, as a Ray task with one CPU does."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def ray_runtime():
    """One local Ray runtime (2 CPUs) for the module; RayExecutor reuses an initialised one.

    Ray runs its workers at niceness 15 by default: on a busy machine (a CI run beside this
    one) they would get a few per cent of a core and the module would take many minutes, so
    the workers here run at the tests' own priority."""
    if ray.is_initialized():
        ray.shutdown()
    with pytest.MonkeyPatch.context() as env:
        env.delenv("RAY_ADDRESS", raising=False)         # a local runtime, never a cluster
        env.setenv("RAY_worker_niceness", "0")
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield ray
        finally:
            ray.shutdown()


@pytest.fixture(scope="module")
def small():
    return SweepConfig.from_dict(SMALL)


@pytest.fixture(scope="module")
def long():
    return SweepConfig.from_dict(LONG)


def serial_reference(cfg: SweepConfig, out: Path) -> dict[str, StaircaseRun]:
    run_sweep(cfg, out, device="cpu", progress=False)
    return {u.name: StaircaseRun.load(unit_path(out, u)) for u in cfg.units()}


@pytest.fixture(scope="module")
def small_ref(small, tmp_path_factory):
    return serial_reference(small, tmp_path_factory.mktemp("small_ref"))


@pytest.fixture(scope="module")
def long_ref(long, tmp_path_factory):
    return serial_reference(long, tmp_path_factory.mktemp("long_ref"))


# ------------------------------------------------------------------------------ helpers
def assert_equals_reference(cfg: SweepConfig, out: Path, ref: dict[str, StaircaseRun]) -> dict:
    """Every unit of ``cfg`` is in ``out`` and each of its arrays equals the reference's bit
    for bit (dtype, shape and bytes: NaN where the reference has NaN, the same zeros)."""
    runs = {}
    for unit in cfg.units():
        run = StaircaseRun.load(unit_path(out, unit))
        for name in StaircaseRun.ARRAYS:
            a, b = getattr(run, name), getattr(ref[unit.name], name)
            assert a.dtype == b.dtype and a.shape == b.shape, (unit.name, name)
            assert a.tobytes() == b.tobytes(), (
                f"{unit.name} {name}: differs from the serial run (max |diff| "
                f"{np.nanmax(np.abs(a - b)) if a.size else 0})")
        runs[unit.name] = run
    return runs


def unit_seconds(ref: dict[str, StaircaseRun]) -> float:
    return min(run.meta["group_seconds"] for run in ref.values())


def stamps(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


def leftovers(out: Path) -> list[str]:
    """Temporary or stray files in ``units/`` and ``failed/``."""
    bad = []
    for sub, ext in (("units", ".npz"), ("failed", ".json")):
        folder = out / sub
        if folder.exists():
            bad += [f"{sub}/{p.name}" for p in folder.iterdir()
                    if p.name.startswith(".") or ".tmp" in p.name or p.suffix != ext]
    return bad


def failed_files(out: Path) -> list[str]:
    folder = out / "failed"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _stat(pid: int) -> int | None:
    """The parent pid of ``pid`` from /proc, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1])


def descendants(root: int) -> set[int]:
    parent = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            ppid = _stat(int(entry.name))
            if ppid is not None:
                parent[int(entry.name)] = ppid
    found, frontier = set(), {root}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - found
        found |= frontier
    return found


def title(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.split(b"\0")[0].decode(errors="replace").strip()


def torch_loaded(pid: int) -> bool:
    try:
        return "libtorch" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


class WorkerKiller(threading.Thread):
    """Waits for a Ray worker of *this* test process (the local runtime is its child) to run
    the unit task, lets it train for ``after`` seconds, and SIGKILLs it, once."""

    def __init__(self, after: float = 1.0, timeout: float = 120.0):
        super().__init__(daemon=True)
        self.after, self.timeout = after, timeout
        self.killed: int | None = None
        self.title = ""
        self.stop = threading.Event()

    def run(self) -> None:
        seen: dict[int, float] = {}
        end = time.monotonic() + self.timeout
        while not self.stop.is_set() and time.monotonic() < end:
            now = time.monotonic()
            for pid in descendants(os.getpid()):
                if title(pid) != TASK_TITLE or not torch_loaded(pid):
                    continue
                if now - seen.setdefault(pid, now) < self.after:
                    continue
                name = title(pid)                 # still in the task: training, mid-unit
                if name == TASK_TITLE:
                    os.kill(pid, signal.SIGKILL)
                    self.killed, self.title = pid, name
                    return
            time.sleep(0.05)


def kill_one_worker_during(call, seconds: float):
    """Run ``call`` while a :class:`WorkerKiller` kills one worker a third of ``seconds`` (how
    long a unit took serially), at most a second, after it began training."""
    killer = WorkerKiller(after=min(1.0, seconds / 3))
    killer.start()
    try:
        result = call()
    finally:
        killer.stop.set()
        killer.join()
    assert killer.killed is not None, "no worker was seen running the unit task"
    assert killer.title == TASK_TITLE
    return result, killer.killed


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("RAY_ADDRESS", None)
    return subprocess.run([sys.executable, "-m", "infonce_anchor.cli", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False)


# ------------------------------------------------------------------------------ 1. same numbers
@pytest.mark.parametrize("how", ["run_sweep", "command"])
def test_a_ray_run_equals_the_serial_run_bit_for_bit(how, ray_runtime, small, small_ref, tmp_path,
                                                     capsys):
    if how == "run_sweep":
        result = run_sweep(small, tmp_path, progress=False, executor=RayExecutor())
    else:
        from infonce_anchor.cli import main
        toml = write_toml(SMALL, tmp_path.parent / f"{tmp_path.name}.toml")
        assert main(["bench", str(toml), "--out", str(tmp_path), "--quiet", "--no-plots",
                     "--json", "--executor", "ray", "--cpus-per-unit", "1",
                     "--retries", "1"]) == 0
        result = json.loads(capsys.readouterr().out)
        result["left"] = result["missing"]
    assert (result["ran"], result["left"], result["failed"]) == (3, 0, [])
    # the reference has NaN (the bound of a Type 3 loss): compared bit for bit as well
    assert any(np.isnan(getattr(run, name)).any() for run in small_ref.values()
               for name in StaircaseRun.ARRAYS)
    runs = assert_equals_reference(small, tmp_path, small_ref)
    for run in runs.values():
        meta = run.meta
        assert meta["executor"] == "ray" and meta["device"] == "cpu"
        assert meta["torch_threads"] == 1 and meta["host"] == platform.node()
        assert isinstance(meta["worker_pid"], int) and meta["worker_pid"] != os.getpid()
    for run in small_ref.values():
        assert run.meta["executor"] == "serial" and "worker_pid" not in run.meta
    assert leftovers(tmp_path) == [] and failed_files(tmp_path) == []


# ------------------------------------------------------------------------------ 2. resume
@pytest.mark.parametrize("first, then", [("serial", "ray"), ("ray", "serial")])
def test_a_sweep_resumes_across_executors(first, then, ray_runtime, small, small_ref, tmp_path):
    executors = {"serial": None, "ray": RayExecutor(retries=0)}
    done = run_sweep(small, tmp_path, device="cpu", progress=False, max_units=1,
                     executor=executors[first])
    assert (done["ran"], done["left"], done["failed"]) == (1, 2, [])
    before = stamps(tmp_path / "units")
    assert len(before) == 1
    rest = run_sweep(small, tmp_path, device="cpu", progress=False, executor=executors[then])
    assert (rest["already_done"], rest["ran"], rest["left"], rest["failed"]) == (1, 2, 0, [])
    after = stamps(tmp_path / "units")
    for name, stamp in before.items():              # the finished unit was not retrained
        assert after[name] == stamp
    runs = assert_equals_reference(small, tmp_path, small_ref)
    assert [runs[u.name].meta["executor"] for u in small.units()] == [first, then, then]
    assert leftovers(tmp_path) == [] and failed_files(tmp_path) == []


# ------------------------------------------------------------------------------ 3. faults
def test_a_killed_worker_is_retried_and_gives_the_same_numbers(ray_runtime, long, long_ref,
                                                               tmp_path):
    result, killed = kill_one_worker_during(lambda: run_sweep(
        long, tmp_path, progress=False, executor=RayExecutor(retries=1)),
        unit_seconds(long_ref))
    assert (result["ran"], result["left"], result["failed"]) == (2, 0, [])
    runs = assert_equals_reference(long, tmp_path, long_ref)
    # the killed worker was mid-unit: that unit's result came from another worker
    assert killed not in {run.meta["worker_pid"] for run in runs.values()}
    assert failed_files(tmp_path) == [] and leftovers(tmp_path) == []


def test_a_killed_worker_without_retries_is_recorded_and_rerun(ray_runtime, long, long_ref,
                                                               tmp_path):
    out = tmp_path / "out"
    log = []
    result, killed = kill_one_worker_during(lambda: run_sweep(
        long, out, progress=False, log=log.append, executor=RayExecutor(retries=0)),
        unit_seconds(long_ref))
    units = {u.name: u for u in long.units()}
    assert len(result["failed"]) == 1 and result["ran"] == 2
    lost = result["failed"][0]["unit"]
    other = next(name for name in units if name != lost)
    assert failed_files(out) == [f"{lost}.json"]
    record = json.loads(failure_path(out, units[lost]).read_text())
    assert record["unit"] == lost and record["retries"] == 0
    assert record["reason"].startswith("WorkerCrashedError"), record["reason"]
    assert any(lost in line and "FAILED" in line for line in log)
    assert not unit_path(out, units[lost]).exists()          # nothing half-written
    assert leftovers(out) == []
    other_run = StaircaseRun.load(unit_path(out, units[other]))   # the other unit finished
    assert other_run.meta["worker_pid"] != killed
    for name in StaircaseRun.ARRAYS:
        assert getattr(other_run, name).tobytes() == getattr(long_ref[other], name).tobytes()
    # a rerun (here, and on Ray) trains the lost unit only, equals the reference, clears failed/
    kept = unit_path(out, units[other])
    stamp = (kept.read_bytes(), kept.stat().st_mtime_ns)
    for how, executor in (("serial", None), ("ray", RayExecutor(retries=0))):
        again = tmp_path / how
        shutil.copytree(out, again)
        rerun = run_sweep(long, again, device="cpu", progress=False, executor=executor)
        assert (rerun["already_done"], rerun["ran"], rerun["failed"]) == (1, 1, []), how
        assert_equals_reference(long, again, long_ref)
        assert failed_files(again) == [] and leftovers(again) == []
        assert StaircaseRun.load(unit_path(again, units[lost])).meta["executor"] == how
        kept = unit_path(again, units[other])            # copied with its mtime, not retrained
        assert (kept.read_bytes(), kept.stat().st_mtime_ns) == stamp


# ------------------------------------------------------------------------------ 4. two drivers
def test_a_second_driver_on_a_folder_in_use_stops_at_once(ray_runtime, small, small_ref,
                                                          tmp_path, capsys):
    from infonce_anchor.cli import main
    run_sweep(small, tmp_path, device="cpu", progress=False, max_units=1)
    before = stamps(tmp_path / "units")
    config = tmp_path / "config.json"
    config_stamp = (config.read_bytes(), config.stat().st_mtime_ns)
    toml = write_toml(SMALL, tmp_path.parent / f"{tmp_path.name}.toml")
    with runner.driver_lock(tmp_path):
        for executor in (None, RayExecutor()):
            start = time.monotonic()
            with pytest.raises(InputError) as info:
                run_sweep(small, tmp_path, device="cpu", progress=False, executor=executor)
            assert time.monotonic() - start < 5
            assert info.value.argument == "--out" and "in use" in info.value.rule
            assert str(os.getpid()) in info.value.rule          # who holds it
        assert main(["bench", str(toml), "--out", str(tmp_path), "--quiet", "--no-plots",
                     "--executor", "ray"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and err.startswith("error: --out:") and "in use" in err
        # another process (the command) is turned away too
        done = cli("bench", str(toml), "--out", str(tmp_path), "--quiet", "--no-plots")
        assert done.returncode == 2, done.stderr
        err = done.stderr.strip()
        assert "\n" not in err and err.startswith("error: --out:") and "in use" in err
        assert stamps(tmp_path / "units") == before
        assert (config.read_bytes(), config.stat().st_mtime_ns) == config_stamp
    # released: a run works and finishes the sweep
    result = run_sweep(small, tmp_path, progress=False, executor=RayExecutor())
    assert (result["already_done"], result["ran"], result["failed"]) == (1, 2, [])
    assert stamps(tmp_path / "units").items() >= before.items()
    assert_equals_reference(small, tmp_path, small_ref)


# ------------------------------------------------------------------------------ 5. CLI errors
@pytest.mark.parametrize("args, argument", [
    (["--cpus-per-unit", "2"], "--cpus-per-unit"),
    (["--address", "auto"], "--address"),
    (["--retries", "1"], "--retries"),
    (["--executor", "serial", "--gpus-per-unit", "1"], "--gpus-per-unit"),
    (["--executor", "ray", "--cpus-per-unit", "-1"], "--cpus-per-unit"),
    (["--executor", "ray", "--cpus-per-unit", "x"], "--cpus-per-unit"),
    (["--executor", "ray", "--cpus-per-unit", "nan"], "--cpus-per-unit"),
    (["--executor", "ray", "--cpus-per-unit", "inf"], "--cpus-per-unit"),
    (["--executor", "ray", "--cpus-per-unit", "0"], "--cpus-per-unit"),
    (["--executor", "ray", "--gpus-per-unit", "-0.5"], "--gpus-per-unit"),
    (["--executor", "ray", "--retries", "-1"], "--retries"),
    (["--executor", "ray", "--retries", "x"], "--retries"),
    (["--executor", "ray", "--retries", "1.5"], "--retries"),
    (["--executor", "ray", "--device", "cpu"], "--device"),
    (["--report-only", "--executor", "ray"], "--executor"),
    (["--summarize-only", "--cpus-per-unit", "2"], "--executor"),
])
def test_bad_executor_options_are_one_line_errors(args, argument, tmp_path, capsys):
    from infonce_anchor.cli import main
    out = tmp_path / "o"
    assert main(["bench", str(SMOKE), "--out", str(out), "--quiet", "--no-plots", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"error: {argument}:"), err
    assert not out.exists()                    # refused before anything is written


def test_an_unknown_executor_is_refused_by_the_parser(capsys):
    from infonce_anchor.cli import main
    with pytest.raises(SystemExit) as info:
        main(["bench", str(SMOKE), "--executor", "dask"])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--executor" in err


@pytest.mark.parametrize("kwargs, argument", [
    ({"cpus_per_unit": -1}, "--cpus-per-unit"),
    ({"cpus_per_unit": float("inf")}, "--cpus-per-unit"),
    ({"cpus_per_unit": float("nan")}, "--cpus-per-unit"),
    ({"gpus_per_unit": "1"}, "--gpus-per-unit"),
    ({"cpus_per_unit": 0, "gpus_per_unit": 0}, "--cpus-per-unit"),
    ({"retries": -1}, "--retries"),
    ({"retries": 1.0}, "--retries"),
    ({"retries": True}, "--retries"),
])
def test_executor_settings_are_checked(kwargs, argument):
    with pytest.raises(InputError) as info:
        RayExecutor(**kwargs)
    assert info.value.argument == argument


@pytest.mark.parametrize("resource", ["CPU", "GPU"])
def test_a_unit_larger_than_the_local_runtime_is_refused_not_left_waiting(
        resource, ray_runtime, small, tmp_path):
    """A task asking for more than the local runtime has would wait forever."""
    have = ray_runtime.cluster_resources().get(resource, 0)
    kwargs = {"CPU": {"cpus_per_unit": have + 1}, "GPU": {"gpus_per_unit": have + 1}}[resource]
    start = time.monotonic()
    with pytest.raises(InputError) as info:
        run_sweep(small, tmp_path, progress=False, executor=RayExecutor(**kwargs))
    assert time.monotonic() - start < 10
    assert info.value.argument == f"--{resource.lower()}s-per-unit"
    assert list((tmp_path / "units").iterdir()) == [] and failed_files(tmp_path) == []


def test_without_ray_the_executor_says_how_to_install_it(monkeypatch, small, tmp_path, capsys):
    from infonce_anchor.cli import main
    monkeypatch.setitem(sys.modules, "ray", None)         # `import ray` fails
    with pytest.raises(InputError) as info:
        RayExecutor().run(small, [small.units()[:1]], tmp_path)
    assert info.value.argument == "--executor" and "pip install" in info.value.rule
    out = tmp_path / "o"
    assert main(["bench", str(SMOKE), "--out", str(out), "--quiet", "--no-plots",
                 "--executor", "ray"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: --executor:") and "pip install" in err
    assert list((out / "units").iterdir()) == []
