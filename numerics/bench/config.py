"""Benchmark sweep configs (TOML; issues #5, #12): the schema, its checks and the units a config
expands into.

A config names a task (a staircase of Sec. 4.1 / App. G.1), the estimators (catalogue names of
:data:`numerics.bench.estimators.ESTIMATORS` or variants), critics, batch sizes and seeds.  It expands
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
    critics = ["joint", "separable"]   # or bilinear, separable_pd (PD factorisation)
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
                               # the critic; losses in float32): see numerics.neural.train
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
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from numerics.bench import tasks
from numerics.bench.estimators import (
    ESTIMATORS,
    FIGURE1,
    OPTION_NAMES,
    BenchEstimator,
    make_estimator,
)
from numerics.neural.architecture import (
    CRITICS,
    DEFAULT_EMBED,
    DEFAULT_HIDDEN,
    DEFAULT_LAYERS,
    FEATURE_CRITICS,
    PAPER_CRITICS,
)
from numerics.neural.device import PRECISIONS
from theory.errors import InputError, require_int

TASK_KINDS = ("gaussian", "gaussian_cubic", "digits", "items")


TASK_DEFAULTS: dict[str, Any] = {"levels_bits": [2.0, 4.0, 6.0, 8.0, 10.0],
                                 "steps_per_level": 4000, "dim": 10, "d": 10}


TRAIN_DEFAULTS: dict[str, Any] = {
    "estimators": list(FIGURE1), "critics": list(PAPER_CRITICS), "batch_sizes": [64],
    "seeds": 20, "first_seed": 0, "runs_per_unit": 20, "lr": 1e-4, "hidden": DEFAULT_HIDDEN,
    "layers": DEFAULT_LAYERS, "embed": DEFAULT_EMBED,
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
        cfg = cls.from_dict(read_toml(path), base_dir=path.parent)
        cfg.source = str(path)
        return cfg

    @classmethod
    def from_dict(cls, raw: dict[str, Any], base_dir: Path | None = None) -> "SweepConfig":
        known = {"name", "task", "train", "report", "variants"}
        reject_unknown_keys(raw, known, "config")
        name = check_sweep_name(raw.get("name"))
        task = config_section(raw, "task", {"kind", "levels_bits", "steps_per_level", "dim", "d",
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
        train = config_section(raw, "train", set(TRAIN_DEFAULTS), TRAIN_DEFAULTS)
        report = config_section(raw, "report", set(REPORT_DEFAULTS), REPORT_DEFAULTS)
        _check_train(train)
        _check_report(report)
        estimators = _estimators(train["estimators"], raw.get("variants", {}))
        return cls(name, task, train, report, estimators)

    # ---------------------------------------------------------------- task
    def staircase(self):
        """The task's :class:`numerics.bench.tasks.Staircase` (built once)."""
        if self._staircase is None:
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


#: a sweep's name becomes a folder name (``bench-results/<name>``): letters, digits, ``.``, ``_``
#: and ``-``, starting with a letter or digit, at most 64 characters
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_sweep_name(name: object) -> str:
    """The config's ``name`` if it is a safe folder name (:data:`NAME_PATTERN`), so that no
    config can make a sweep write outside its results directory (``../x``, ``a/b``, ``/abs``)."""
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise InputError("name", f"must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                         f"letter or digit (it names the results folder), got {name!r}")
    return name


def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise InputError("task.path", f"cannot read {path} ({exc.strerror})") from None


def _check_task(task: dict[str, Any]) -> None:
    levels = task["levels_bits"]
    if not isinstance(levels, list) or not levels or any(
            isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b)
            or b < 0 for b in levels):
        raise InputError("task.levels_bits", f"must be a non-empty list of finite numbers >= 0 "
                         f"(bits), got {levels!r}")
    require_int(task["steps_per_level"], "task.steps_per_level")
    require_int(task["dim"], "task.dim")
    require_int(task["d"], "task.d")
    classes = task.get("classes", [0, 1])
    if not isinstance(classes, list) or len(classes) != 2 or any(
            isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= 9 for c in classes) \
            or classes[0] == classes[1]:
        raise InputError("task.classes", f"must be two different digits 0-9, got {classes!r}")


def _check_report(report: dict[str, Any]) -> None:
    w = report["window"]
    if isinstance(w, bool) or not isinstance(w, (int, float)) or not 0 < w <= 1:
        raise InputError("report.window", f"must be a number in (0, 1], got {w!r}")
    require_int(report["smooth_span"], "report.smooth_span")


def read_toml(path: Path) -> dict[str, Any]:
    """A sweep config file's TOML; an unreadable or invalid file is an InputError naming
    ``config`` (the benchmark's and the SSL sweeps' configs)."""
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError("config", f"no such file: {path}") from None
    except OSError as exc:
        raise InputError("config", f"cannot read {path} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError("config", f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError("config", f"{path} is not valid TOML ({exc})") from None


def reject_unknown_keys(section: dict, known: set[str], where: str) -> None:
    """An InputError naming ``where`` if ``section`` has a key not in ``known``."""
    bad = sorted(set(section) - known)
    if bad:
        raise InputError(where, f"unknown key(s) {bad}; expected {sorted(known)}")


def config_section(raw: dict, name: str, known: set[str], defaults: dict) -> dict[str, Any]:
    """The table ``[name]`` of a config over a deep copy of its ``defaults`` (keys checked
    against ``known``)."""
    section = raw.get(name, {})
    if not isinstance(section, dict):
        raise InputError(name, f"[{name}] must be a table")
    reject_unknown_keys(section, known, name)
    return {**json.loads(json.dumps(defaults)), **section}


def _check_train(tr: dict[str, Any]) -> None:
    for key in ("seeds", "runs_per_unit", "hidden", "layers", "embed", "eval_batches"):
        require_int(tr[key], f"train.{key}")
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
                                 f"{', '.join(FEATURE_CRITICS)}")
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
            reject_unknown_keys(spec, set(OPTION_NAMES), f"variants.{n}")
            _check_options(spec, f"variants.{n}", base)
            out.append(make_estimator(n, base, label, **spec))
        else:
            out.append(make_estimator(n))
    unused = sorted(set(variants) - set(names))
    if unused:
        raise InputError("variants", f"variant(s) {unused} are not in train.estimators")
    return out
