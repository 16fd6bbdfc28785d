"""The cluster recipes of issue #15 (``benchmarks/cluster/``): the Slurm script is valid bash,
the KubeRay RayJob is valid YAML of kind RayJob, and the ``infonce-anchor bench`` command each
one runs is a valid command line of this CLI whose Ray options make a
:class:`~numerics.bench.distributed.RayExecutor` (no cluster is contacted: none is at hand, so
the recipes themselves have not run here)."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

from infonce_anchor.bench_cli import make_executor
from infonce_anchor.cli import build_parser

CLUSTER = Path(__file__).resolve().parent.parent / "benchmarks" / "cluster"
ROOT = CLUSTER.parent.parent


def _bench_args(command: str) -> list[str]:
    """The arguments after ``infonce-anchor`` with shell variables given sample values."""
    values = {"$config": "benchmarks/configs/fig1_gaussian.toml", "$out": "/tmp/out",
              "$head_ip:$port": "10.0.0.1:6379"}
    for key, value in values.items():
        command = command.replace(f'"{key}"', value).replace(key, value)
    words = shlex.split(command)
    return words[words.index("infonce-anchor") + 1:]


def _check(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.command == "bench" and args.executor == "ray"
    assert (ROOT / args.config).exists(), args.config
    executor = make_executor(args)
    assert executor.gpus_per_unit == 1 and executor.cpus_per_unit == 8
    assert executor.device == "cuda" and executor.threads == 8 and executor.retries == 2


def test_slurm_script_is_valid_bash_and_runs_a_valid_sweep_command():
    script = (CLUSTER / "slurm_ray.sh").read_text()
    subprocess.run(["bash", "-n", str(CLUSTER / "slurm_ray.sh")], check=True)
    command = re.search(r"^infonce-anchor bench .*?(?<!\\)$", script.replace("\\\n", " "),
                        re.M).group(0)
    argv = _bench_args(command)
    assert "--address" in argv
    _check(argv)


def test_rayjob_is_a_rayjob_whose_entrypoint_is_a_valid_sweep_command():
    yaml = pytest.importorskip("yaml")   # PyYAML ships with ray (the [distributed] extra)
    spec = yaml.safe_load((CLUSTER / "rayjob.yaml").read_text())
    assert spec["apiVersion"] == "ray.io/v1" and spec["kind"] == "RayJob"
    cluster = spec["spec"]["rayClusterSpec"]
    assert cluster["headGroupSpec"]["template"]["spec"]["containers"]
    assert cluster["workerGroupSpecs"][0]["template"]["spec"]["containers"]
    argv = _bench_args(spec["spec"]["entrypoint"])
    assert argv[argv.index("--address") + 1] == "auto"
    _check(argv)
