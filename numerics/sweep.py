"""Benchmark sweeps from TOML configs, stored as they finish and resumed (issue #5).

A config names a task (a staircase of SPEC §7), the estimators (catalogue names of
:data:`numerics.benchmark.ESTIMATORS` or variants), critics, batch sizes and seeds.  It expands
into *units*: one training (a ``(loss, options)`` shared by every estimator that reads it) x
critic x batch size x a block of seeds trained together by the batched trainer.  Each finished
unit is written to ``OUT/units/<unit>.npz`` at once (atomically); a rerun skips the units whose
file exists, so a stopped or crashed sweep resumes where it was.  The unit's file name carries a
hash of every setting that changes its numbers, so editing the config never reuses a stale
result.  Example (the keys and their defaults)::

    name = "fig1-gaussian"
    [task]
    kind = "gaussian"          # gaussian | gaussian_cubic | digits | items
    levels_bits = [2, 4, 6, 8, 10]
    steps_per_level = 4000
    dim = 10                   # gaussian tasks: dimension of x and y
    d = 10                     # digits / items: binary sources
    path = "emb.npz"           # items: arrays class0, class1 (e.g. text embeddings)
    [train]
    estimators = ["nwj", "js", "nwj_plugin", "js_plugin", "drf", "infonce", "spherical",
                  "infonce_anchor"]
    critics = ["joint", "separable"]
    batch_sizes = [64]
    seeds = 20                 # seeds first_seed .. first_seed + seeds - 1
    first_seed = 0
    runs_per_unit = 20         # seeds trained together (batched)
    lr = 1e-4
    hidden = 512
    layers = 2
    embed = 16
    eval_batches = 16
    sampling = "per-run"       # or "unit": one generator per unit (fewer GPU launches)
    precision = "fp32"         # or "tf32" (TF32 matmuls on CUDA) or "bf16" (bf16 autocast of
                               # the critic; losses in float32): see numerics.training
    exclude = [["joint", 256]] # [critic, batch size] pairs not run, by design (a stated cut)
    [report]
    window = 0.25              # training estimate: mean over the last quarter of each level
    smooth_span = 200          # EMA span of the plotted curves
    [variants.anchor_nu_0p1]   # an estimator variant: base + options
    base = "infonce_anchor"
    nu = 0.1
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numerics.benchmark import (ESTIMATORS, OPTION_NAMES, BenchEstimator, StaircaseRun,
                                make_estimator, run_staircase_group)
from theory.errors import InputError

TASK_KINDS = ("gaussian", "gaussian_cubic", "digits", "items")
TASK_DEFAULTS: dict[str, Any] = {"levels_bits": [2.0, 4.0, 6.0, 8.0, 10.0],
                                 "steps_per_level": 4000, "dim": 10, "d": 10}
TRAIN_DEFAULTS: dict[str, Any] = {
    "estimators": ["nwj", "js", "nwj_plugin", "js_plugin", "drf", "infonce", "spherical",
                   "infonce_anchor"],
    "critics": ["joint", "separable"], "batch_sizes": [64], "seeds": 20, "first_seed": 0,
    "runs_per_unit": 20, "lr": 1e-4, "hidden": 512, "layers": 2, "embed": 16,
    "eval_batches": 16, "sampling": "per-run", "precision": "fp32", "exclude": []}
REPORT_DEFAULTS: dict[str, Any] = {"window": 0.25, "smooth_span": 200}


@dataclass(frozen=True)
class Unit:
    """One training of a sweep: ``estimators`` all read the run of ``train_key``."""

    train_key: str
    estimators: tuple[BenchEstimator, ...]
    critic: str
    batch_size: int
    first_seed: int
    runs: int
    digest: str

    @property
    def name(self) -> str:
        last = self.first_seed + self.runs - 1
        return (f"{self.train_key}__{self.critic}__B{self.batch_size}__"
                f"s{self.first_seed}-{last}__{self.digest}")


@dataclass
class SweepConfig:
    """A parsed, validated config (see the module docstring)."""

    name: str
    task: dict[str, Any]
    train: dict[str, Any]
    report: dict[str, Any]
    estimators: list[BenchEstimator]
    source: str = ""
    _staircase: Any = field(default=None, repr=False)

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_file(cls, path: str | Path) -> "SweepConfig":
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise InputError("config", f"no such file: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise InputError("config", f"{path} is not valid TOML ({exc})") from None
        cfg = cls.from_dict(raw, base_dir=path.parent)
        cfg.source = str(path)
        return cfg

    @classmethod
    def from_dict(cls, raw: dict[str, Any], base_dir: Path | None = None) -> "SweepConfig":
        known = {"name", "task", "train", "report", "variants"}
        _no_unknown(raw, known, "config")
        name = raw.get("name")
        if not isinstance(name, str) or not name:
            raise InputError("name", "the config needs a name (a non-empty string)")
        task = _section(raw, "task", {"kind", "levels_bits", "steps_per_level", "dim", "d",
                                      "path", "classes"}, TASK_DEFAULTS)
        if task.get("kind") not in TASK_KINDS:
            raise InputError("task.kind", f"must be one of {', '.join(TASK_KINDS)}, got "
                             f"{task.get('kind')!r}")
        if task["kind"] == "items":
            if "path" not in task:
                raise InputError("task.path", "the items task needs path = an .npz file with "
                                 "arrays class0 and class1")
            if base_dir is not None and not Path(task["path"]).is_absolute():
                task["path"] = str((base_dir / task["path"]).resolve())
        _check_task(task)
        train = _section(raw, "train", set(TRAIN_DEFAULTS), TRAIN_DEFAULTS)
        report = _section(raw, "report", set(REPORT_DEFAULTS), REPORT_DEFAULTS)
        _check_train(train)
        _check_report(report)
        estimators = _estimators(train["estimators"], raw.get("variants", {}))
        return cls(name, task, train, report, estimators)

    # ---------------------------------------------------------------- task
    def staircase(self):
        """The task's :class:`numerics.tasks.Staircase` (built once)."""
        if self._staircase is None:
            from numerics import tasks
            t = self.task
            levels = tuple(float(b) for b in t["levels_bits"])
            steps = t["steps_per_level"]
            if t["kind"] in ("gaussian", "gaussian_cubic"):
                self._staircase = tasks.GaussianStaircase(levels, steps, int(t["dim"]),
                                                          cubic=t["kind"] == "gaussian_cubic")
            else:
                items = tasks.digits_items(tuple(t.get("classes", (0, 1)))) \
                    if t["kind"] == "digits" else tasks.items_from_file(t["path"])
                self._staircase = tasks.ItemsStaircase(items, int(t["d"]), levels, steps,
                                                       name=t["kind"])
        return self._staircase

    # ---------------------------------------------------------------- units
    def units(self) -> list[Unit]:
        """Every training of the sweep, in order: batch size, critic, training, seed block."""
        by_key: dict[str, list[BenchEstimator]] = {}
        for e in self.estimators:
            by_key.setdefault(e.train_key, []).append(e)
        tr = self.train
        out = []
        cut = {(c, B) for c, B in tr["exclude"]}
        for B in tr["batch_sizes"]:
            for critic in tr["critics"]:
                if (critic, B) in cut:
                    continue
                for key, ests in by_key.items():
                    for first in range(tr["first_seed"], tr["first_seed"] + tr["seeds"],
                                       tr["runs_per_unit"]):
                        runs = min(tr["runs_per_unit"], tr["first_seed"] + tr["seeds"] - first)
                        digest = self._digest(ests[0], critic, B)
                        out.append(Unit(key, tuple(ests), critic, B, first, runs, digest))
        return out

    def _digest(self, est: BenchEstimator, critic: str, B: int) -> str:
        """A hash of everything that changes a unit's numbers (not its seeds: those are in
        the name)."""
        t = self.task
        task = {"kind": t["kind"], "levels_bits": [float(b) for b in t["levels_bits"]],
                "steps_per_level": t["steps_per_level"]}
        task.update({k: t[k] for k in (("dim",) if "gaussian" in t["kind"] else
                                       ("d", "classes")) if k in t})
        if t["kind"] == "items":   # the file's content, so an edited file is not reused
            task["items_sha256"] = _file_digest(t["path"])
        payload = {"task": task, "loss": est.loss, "kw": est.loss_kwargs(B), "critic": critic,
                   "B": B, **{k: self.train[k] for k in ("lr", "hidden", "layers", "embed",
                                                         "eval_batches")}}
        # defaults stay out of the hash, so results made before these keys existed still match
        payload.update({k: self.train[k] for k in ("sampling", "precision")
                        if self.train[k] != TRAIN_DEFAULTS[k]})
        text = json.dumps(payload, sort_keys=True, default=float)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError("task.path", f"cannot read {path} ({exc.strerror})") from None


def _positive_int(value: object, key: str, minimum: int = 1) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InputError(key, f"must be an integer >= {minimum}, got {value!r}")


def _check_task(task: dict[str, Any]) -> None:
    import math
    levels = task["levels_bits"]
    if not isinstance(levels, list) or not levels or any(
            isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b)
            or b < 0 for b in levels):
        raise InputError("task.levels_bits", f"must be a non-empty list of finite numbers >= 0 "
                         f"(bits), got {levels!r}")
    _positive_int(task["steps_per_level"], "task.steps_per_level")
    _positive_int(task["dim"], "task.dim")
    _positive_int(task["d"], "task.d")
    classes = task.get("classes", [0, 1])
    if not isinstance(classes, list) or len(classes) != 2 or any(
            isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 9 for c in classes) \
            or classes[0] == classes[1]:
        raise InputError("task.classes", f"must be two different digits 0-9, got {classes!r}")


def _check_report(report: dict[str, Any]) -> None:
    w = report["window"]
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w <= 1:
        raise InputError("report.window", f"must be a number in (0, 1], got {w!r}")
    _positive_int(report["smooth_span"], "report.smooth_span")


def _no_unknown(section: dict, known: set[str], where: str) -> None:
    bad = sorted(set(section) - known)
    if bad:
        raise InputError(where, f"unknown key(s) {bad}; expected {sorted(known)}")


def _section(raw: dict, name: str, known: set[str], defaults: dict) -> dict[str, Any]:
    section = raw.get(name, {})
    if not isinstance(section, dict):
        raise InputError(name, f"[{name}] must be a table")
    _no_unknown(section, known, name)
    return {**json.loads(json.dumps(defaults)), **section}


def _check_train(tr: dict[str, Any]) -> None:
    from numerics.torch_critics import CRITICS
    from numerics.training import PRECISIONS
    for key in ("seeds", "runs_per_unit", "hidden", "layers", "embed", "eval_batches"):
        _positive_int(tr[key], f"train.{key}")
    if isinstance(tr["first_seed"], bool) or not isinstance(tr["first_seed"], int) or \
            tr["first_seed"] < 0:
        raise InputError("train.first_seed", f"must be an integer >= 0, got {tr['first_seed']!r}")
    if tr["sampling"] not in ("per-run", "unit"):
        raise InputError("train.sampling", f"must be per-run or unit, got {tr['sampling']!r}")
    if tr["precision"] not in PRECISIONS:
        raise InputError("train.precision", f"must be one of {', '.join(PRECISIONS)}, got "
                         f"{tr['precision']!r}")
    _check_exclude(tr)
    if not isinstance(tr["lr"], (int, float)) or not tr["lr"] > 0:
        raise InputError("train.lr", f"must be a number > 0, got {tr['lr']!r}")
    for key, allowed in (("critics", CRITICS), ("estimators", None)):
        v = tr[key]
        if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
            raise InputError(f"train.{key}", "must be a non-empty list of names")
        if allowed is not None:
            bad = [x for x in v if x not in allowed or x == "tabular"]
            if bad:
                raise InputError(f"train.{key}", f"unknown or unusable critic(s) {bad}; use "
                                 "joint, separable or bilinear")
    bs = tr["batch_sizes"]
    if not isinstance(bs, list) or not bs or any(isinstance(b, bool) or not isinstance(b, int)
                                                 or b < 2 for b in bs):
        raise InputError("train.batch_sizes", f"must be a list of integers >= 2, got {bs!r}")
    for key in ("batch_sizes", "critics", "estimators"):
        if len(set(tr[key])) != len(tr[key]):   # a repeat would be trained and pooled twice
            raise InputError(f"train.{key}", f"lists {tr[key]!r} with a repeat")


def _check_exclude(tr: dict[str, Any]) -> None:
    """``exclude``: a list of ``[critic, batch size]`` pairs of the sweep, each left out by
    design (e.g. a joint critic at B = 256 that a device budget cannot afford)."""
    ex = tr["exclude"]
    if not isinstance(ex, list) or any(
            not isinstance(p, list) or len(p) != 2 or p[0] not in tr["critics"]
            or p[1] not in tr["batch_sizes"] for p in ex):
        raise InputError("train.exclude", f"must be a list of [critic, batch size] pairs of "
                         f"this sweep's critics and batch sizes, got {ex!r}")


def _check_options(spec: dict[str, Any], where: str, base: str) -> None:
    """Types and ranges of a variant's options, before anything trains."""
    import math
    for key, v in spec.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InputError(f"{where}.{key}", f"must be a finite number, got {v!r}")
    if "K" in spec and (not float(spec["K"]).is_integer() or spec["K"] < 1):
        raise InputError(f"{where}.K", f"must be an integer >= 1, got {spec['K']!r}")
    for key in ("nu", "nu_over_k", "tau"):
        if key in spec and spec[key] < 0:
            raise InputError(f"{where}.{key}", f"must be >= 0, got {spec[key]!r}")
    if "alpha" in spec and base == "alpha_infonce" and not 0 < spec["alpha"] <= 1:
        raise InputError(f"{where}.alpha", f"alpha-InfoNCE needs alpha in (0, 1], got "
                         f"{spec['alpha']!r}")
    if base in ("infonce", "alpha_infonce") and (spec.get("nu") or spec.get("nu_over_k")):
        raise InputError(f"{where}.nu", f"{base} has no anchor (nu = 0)")


def _estimators(names: list[str], variants: dict[str, Any]) -> list[BenchEstimator]:
    if not isinstance(variants, dict):
        raise InputError("variants", "[variants.NAME] tables, each with base = ESTIMATOR")
    out = []
    for n in names:
        if n in variants:
            spec = dict(variants[n])
            if not isinstance(spec.get("base"), str):
                raise InputError(f"variants.{n}.base", "a variant needs base = a catalogue "
                                 f"estimator ({', '.join(ESTIMATORS)})")
            base, label = spec.pop("base"), spec.pop("label", None)
            _no_unknown(spec, set(OPTION_NAMES), f"variants.{n}")
            _check_options(spec, f"variants.{n}", base)
            out.append(make_estimator(n, base, label, **spec))
        else:
            out.append(make_estimator(n))
    unused = sorted(set(variants) - set(names))
    if unused:
        raise InputError("variants", f"variant(s) {unused} are not in train.estimators")
    return out


# ------------------------------------------------------------------------------ running
def unit_path(out_dir: Path, unit: Unit) -> Path:
    return out_dir / "units" / f"{unit.name}.npz"


def run_sweep(config: SweepConfig, out_dir: str | Path, *, device: object = None,
              progress: bool = True, max_units: int | None = None, log=None,
              group: bool = False, graphs: bool = False) -> dict[str, Any]:
    """Run every unit whose result is not yet in ``out_dir`` (at most ``max_units`` of them);
    returns counts and the seconds spent.  Writes ``out_dir/config.json`` for provenance.

    ``group=True`` trains the pending units that share a critic, batch size and seed block
    together in one batched critic (:func:`numerics.benchmark.run_staircase_group`): the same
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
    import sys
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


def pooled_estimates(done: list[tuple[Unit, StaircaseRun]], window: float):
    """Per ``(estimator, critic, batch size)``: the estimator, the first run (for the truth and
    settings) and, per source, the ``(levels, runs)`` estimates in nats with every finished seed
    block of that training side by side."""
    import numpy as np

    from numerics.benchmark import SOURCES, level_estimates
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
    import numpy as np

    from numerics.benchmark import level_statistics
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
    import numpy as np

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


__all__ = ["SweepConfig", "Unit", "level_table", "load_units", "overview_rows",
           "pooled_estimates", "run_sweep", "run_unit_group", "summary_rows", "unit_groups",
           "unit_path", "write_config_record"]
