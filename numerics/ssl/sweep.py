"""SSL sweeps (Sec. 4.3, Table 2): a TOML config, its units, a resumable runner, the summary.

A config names the data, the encoder, the objectives (:data:`numerics.ssl.objectives.OBJECTIVES`)
and the references, the seeds and the training settings.  It expands into *units*: one method
(an objective, ``random`` or ``supervised``) x one seed.  Each finished unit is written to
``OUT/units/<unit>.json`` at once (a temporary file renamed), and a rerun skips the units whose
file exists, so a stopped sweep resumes where it was.  A unit's file name carries a hash of every
setting that changes its numbers, so an edited config never reuses a stale result.  Example
(the keys and their defaults)::

    name = "ssl-digits"
    [data]
    dataset = "digits"       # digits | cifar10 | cifar100
    data_dir = ""            # cifar: the folder holding the python-pickle archive
    test_fraction = 0.25     # digits: the fixed stratified split (CIFAR has its own)
    split_seed = 0
    augment = "digits"       # digits | cifar | none  (numerics.ssl.augment)
    [train]
    encoder = "small_conv"   # small_conv | resnet18
    width = 0                # small_conv only: its first width, 0 = 32 (features: 4 x width)
    objectives = ["infonce", "infonce_anchor", "spherical", "js", "chi2"]
    references = ["random", "supervised"]
    seeds = 5                # seeds first_seed .. first_seed + seeds - 1
    first_seed = 0
    steps = 600
    batch_size = 256
    lr = 1e-3
    weight_decay = 1e-6
    [probe]
    C = 1.0                  # inverse L2 penalty of the logistic regression
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from numerics.bench.config import (
    check_sweep_name,
    config_section,
    read_toml,
    reject_unknown_keys,
)
from numerics.bench.runner import unit_path as bench_unit_path
from numerics.ssl.augment import augment_by_name
from numerics.ssl.data import ImageDataset, load_dataset
from numerics.ssl.encoders import ENCODERS
from numerics.ssl.objectives import OBJECTIVES, objective
from numerics.ssl.probe import encode, linear_probe
from numerics.ssl.statistics import REFERENCE_LABELS
from numerics.ssl.train import TrainSettings, pretrain, random_encoder, train_supervised
from theory.errors import InputError, require_int

#: the baselines a sweep can add to the objectives
REFERENCES = tuple(REFERENCE_LABELS)
DATASETS = ("digits", "cifar10", "cifar100")
DATA_DEFAULTS = {"dataset": "digits", "data_dir": "", "test_fraction": 0.25, "split_seed": 0,
                 "augment": "digits"}
TRAIN_DEFAULTS = {"encoder": "small_conv", "width": 0, "objectives": list(OBJECTIVES),
                  "references": list(REFERENCES), "seeds": 5, "first_seed": 0, "steps": 600,
                  "batch_size": 256, "lr": 1e-3, "weight_decay": 1e-6}
PROBE_DEFAULTS = {"C": 1.0}


@dataclass(frozen=True)
class SSLUnit:
    """One method trained (or not, for ``random``) with one seed, then probed."""

    method: str
    seed: int
    digest: str

    @property
    def name(self) -> str:
        return f"{self.method}_s{self.seed}_{self.digest}"


@dataclass(frozen=True)
class SSLConfig:
    name: str
    data: dict[str, Any]
    train: dict[str, Any]
    probe: dict[str, Any]
    source: str = ""

    @property
    def methods(self) -> list[str]:
        return list(self.train["objectives"]) + list(self.train["references"])

    @property
    def seeds(self) -> list[int]:
        first = self.train["first_seed"]
        return list(range(first, first + self.train["seeds"]))

    @property
    def labels(self) -> dict[str, str]:
        """What each method is called in tables."""
        return {m: OBJECTIVES[m].label if m in OBJECTIVES else REFERENCE_LABELS[m]
                for m in self.methods}

    def settings(self) -> TrainSettings:
        keys = ("encoder", "steps", "batch_size", "lr", "weight_decay")
        return TrainSettings(**{k: self.train[k] for k in keys},
                             width=self.train["width"] or None)

    def units(self) -> list[SSLUnit]:
        return [SSLUnit(m, s, self.unit_digest(m)) for m in self.methods for s in self.seeds]

    def unit_digest(self, method: str) -> str:
        """A hash of every setting that changes ``method``'s numbers (not the seed count, nor
        where the data lie: ``data_dir``)."""
        train = {k: v for k, v in self.train.items()
                 if k not in ("objectives", "references", "seeds", "first_seed")}
        data = {k: v for k, v in self.data.items() if k != "data_dir"}
        what = {"method": method, "data": data, "train": train, "probe": self.probe,
                "objective": asdict(OBJECTIVES[method]) if method in OBJECTIVES else None}
        return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()[:10]


# ------------------------------------------------------------------------------ the config
def load_config(path: str | Path) -> SSLConfig:
    """Read and check a TOML config; every error names the key and the rule it broke."""
    raw = read_toml(Path(path))
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], source: str = "") -> SSLConfig:
    reject_unknown_keys(raw, {"name", "data", "train", "probe"}, "config")
    name = check_sweep_name(raw.get("name"))
    data = config_section(raw, "data", set(DATA_DEFAULTS), DATA_DEFAULTS)
    train = config_section(raw, "train", set(TRAIN_DEFAULTS), TRAIN_DEFAULTS)
    probe = config_section(raw, "probe", set(PROBE_DEFAULTS), PROBE_DEFAULTS)
    _check_data(data)
    _check_train(train)
    if not isinstance(probe["C"], (int, float)) or isinstance(probe["C"], bool) \
            or not probe["C"] > 0:
        raise InputError("probe.C", f"must be a positive number, got {probe['C']!r}")
    return SSLConfig(name, data, train, probe, source)


def _check_data(data: dict[str, Any]) -> None:
    if data["dataset"] not in DATASETS:
        raise InputError("data.dataset", f"must be one of {', '.join(DATASETS)}, got "
                         f"{data['dataset']!r}")
    if not isinstance(data["data_dir"], str):
        raise InputError("data.data_dir", f"must be a folder path (a string), got "
                         f"{data['data_dir']!r}")
    if data["dataset"] != "digits" and not data["data_dir"]:
        raise InputError("data.data_dir", f"{data['dataset']} is read from a local folder "
                         "holding its python-pickle archive (no download); set data_dir")
    require_int(data["split_seed"], "data.split_seed", minimum=0)
    fraction = data["test_fraction"]
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or \
            not 0 < fraction < 1:
        raise InputError("data.test_fraction", f"must be in (0, 1), got {data['test_fraction']!r}")
    augment_by_name(data["augment"])


def _check_train(train: dict[str, Any]) -> None:
    if train["encoder"] not in ENCODERS:
        raise InputError("train.encoder", f"must be one of {', '.join(ENCODERS)}, got "
                         f"{train['encoder']!r}")
    for name in train["objectives"]:
        objective(name)
    for name in train["references"]:
        if name not in REFERENCES:
            raise InputError("train.references", f"must be among {', '.join(REFERENCES)}, got "
                             f"{name!r}")
    if not train["objectives"] and not train["references"]:
        raise InputError("train.objectives", "the sweep trains nothing: name an objective")
    for key in ("seeds", "first_seed"):
        value = train[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < (key == "seeds"):
            raise InputError(f"train.{key}", f"must be an integer >= {int(key == 'seeds')}, "
                             f"got {value!r}")
    width = train["width"]
    if isinstance(width, bool) or not isinstance(width, int) or width < 0 or \
            (width and train["encoder"] != "small_conv"):
        raise InputError("train.width", f"must be an integer >= 1 for small_conv (0: its "
                         f"default 32), and 0 for {train['encoder']}; got {width!r}")
    keys = ("encoder", "steps", "batch_size", "lr", "weight_decay")
    try:
        TrainSettings(**{k: train[k] for k in keys})
    except InputError as exc:
        raise InputError(f"train.{exc.argument}", exc.rule) from None


# ------------------------------------------------------------------------------ running
def unit_path(out_dir: Path, unit: SSLUnit) -> Path:
    """``out_dir/units/<unit>.json``, never outside that folder
    (:func:`numerics.bench.runner.unit_path`)."""
    return bench_unit_path(out_dir, unit, ".json")


def datasets(config: SSLConfig) -> tuple[ImageDataset, ImageDataset]:
    d = config.data
    return load_dataset(d["dataset"], d["data_dir"] or None, test_fraction=d["test_fraction"],
                        seed=d["split_seed"])


def run_unit(config: SSLConfig, unit: SSLUnit, train_set: ImageDataset,
             test_set: ImageDataset, *, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Train (or initialise) the unit's encoder, probe it; the unit's record."""
    start = time.perf_counter()
    settings, augment = config.settings(), augment_by_name(config.data["augment"])
    if unit.method == "random":
        trained = random_encoder(train_set, settings, unit.seed)
    elif unit.method == "supervised":
        trained = train_supervised(train_set, augment, settings, unit.seed, device=device)
    else:
        trained = pretrain(objective(unit.method), train_set, augment, settings, unit.seed,
                           device=device)
    encoder = trained.encoder.to(device)
    feats = [encode(encoder, s.images, device=device) for s in (train_set, test_set)]
    probe = linear_probe(feats[0], train_set.labels.numpy(), feats[1], test_set.labels.numpy(),
                         C=config.probe["C"], seed=unit.seed)
    losses = trained.losses[np.isfinite(trained.losses)]
    tail = losses[-max(1, len(losses) // 10):] if len(losses) else losses
    return {"method": unit.method, "seed": unit.seed, "digest": unit.digest, **probe,
            "diverged_at": trained.diverged_at,
            "final_loss": float(tail.mean()) if len(tail) else None,
            "first_loss": float(losses[0]) if len(losses) else None,
            "feature_sd": float(np.median(feats[1].std(axis=0))),
            "train_seconds": trained.seconds, "seconds": time.perf_counter() - start,
            "device": str(device), "torch": torch.__version__}


def write_unit(path: Path, record: dict[str, Any]) -> None:
    """Write atomically: a temporary file renamed, so no reader sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record, indent=1))
    tmp.replace(path)


def run_sweep(config: SSLConfig, out_dir: str | Path, *, device: torch.device | str = "cpu",
              max_units: int | None = None, log=None) -> dict[str, Any]:
    """Run every unit whose file is not yet in ``out_dir`` (at most ``max_units``)."""
    out_dir = Path(out_dir)
    (out_dir / "units").mkdir(parents=True, exist_ok=True)
    (out_dir / "config.json").write_text(json.dumps(
        {"name": config.name, "source": config.source, "data": config.data,
         "train": config.train, "probe": config.probe}, indent=2))
    units = config.units()
    pending = [u for u in units if not unit_path(out_dir, u).exists()]
    todo = pending if max_units is None else pending[:max_units]
    seconds = 0.0
    if todo:
        train_set, test_set = datasets(config)
        for i, unit in enumerate(todo, 1):
            record = run_unit(config, unit, train_set, test_set, device=device)
            write_unit(unit_path(out_dir, unit), record)
            seconds += record["seconds"]
            if log is not None:
                log(f"[{i}/{len(todo)}] {unit.method} seed {unit.seed}: top-1 "
                    f"{100 * record['top1']:.2f} %, top-5 {100 * record['top5']:.2f} % "
                    f"({record['seconds']:.1f} s)")
    return {"units": len(units), "already_done": len(units) - len(pending), "ran": len(todo),
            "left": len(pending) - len(todo), "seconds": seconds}


def load_records(config: SSLConfig, out_dir: str | Path) -> tuple[list[dict], list[SSLUnit]]:
    """The finished units' records and the missing units."""
    done, missing = [], []
    for unit in config.units():
        path = unit_path(Path(out_dir), unit)
        (done.append(json.loads(path.read_text())) if path.exists() else missing.append(unit))
    return done, missing
