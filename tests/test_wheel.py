"""A wheel install prints the same report as the source tree (issue #11): the shipped benchmark
results are package data.

* Default run: the wheel is built and unpacked into a folder, and ``verify --json`` for the
  benchmark claims runs from another directory with that folder first on the path (this
  environment's dependencies, no editable finder), against the source tree's statuses.
* ``slow``: a fresh virtual environment, the wheel installed with its dependencies, and the
  whole ``verify --json`` compared claim by claim with the source tree's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH_CLAIMS = ["sec2.2.*", "fig1", "fig1.batch-size", "fig3", "sec4.1.*"]
#: run the CLI from the unpacked wheel only: drop the editable install's import hook first
FROM_WHEEL = """
import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__
                    and "editable" not in getattr(f, "__name__", "")]
sys.path[:] = [p for p in sys.path if p and "__editable__" not in p]
sys.path.insert(0, sys.argv[1])
import infonce_anchor
assert infonce_anchor.__file__.startswith(sys.argv[1]), infonce_anchor.__file__
from infonce_anchor.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


def build_wheel(out: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)]
    try:
        import setuptools  # noqa: F401  (build without fetching it)
        cmd.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    subprocess.run(cmd, check=True, capture_output=True)
    return next(out.glob("infonce_anchor-*.whl"))


def statuses(report: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["claims"]}


def source_report(*only: str) -> dict:
    argv = [sys.executable, "-m", "infonce_anchor.cli", "verify", "--json"]
    argv += ["--only", *only] if only else []
    out = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def test_the_wheel_ships_the_benchmark_results_and_reports_the_same(tmp_path):
    import zipfile
    wheel = build_wheel(tmp_path / "dist")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        zf.extractall(tmp_path / "site")
    shipped = sorted((ROOT / "infonce_anchor" / "shipped_results").glob("*/levels.json"))
    assert shipped and all(f"infonce_anchor/shipped_results/{p.parent.name}/levels.json" in names
                           for p in shipped)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "INFONCE_ANCHOR_BENCH_RESULTS"}
    out = subprocess.run([sys.executable, "-c", FROM_WHEEL, str(tmp_path / "site"), "verify",
                          "--json", "--only", *BENCH_CLAIMS], cwd=elsewhere, env=env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    wheel_report = json.loads(out.stdout)
    assert statuses(wheel_report) == statuses(source_report(*BENCH_CLAIMS))
    assert all("no benchmark results found" not in c["evidence"]
               for c in wheel_report["claims"])


@pytest.mark.slow
def test_a_fresh_venv_with_the_wheel_prints_the_same_report(tmp_path):
    wheel = build_wheel(tmp_path / "dist")
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0", f"{wheel}[dev]"],
                   check=True, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    out = subprocess.run([str(env_dir / "bin" / "infonce-anchor"), "verify", "--json"],
                         cwd=elsewhere, capture_output=True, text=True, check=True).stdout
    wheel_report, source = json.loads(out), source_report()
    assert statuses(wheel_report) == statuses(source)
    assert wheel_report["summary"] == source["summary"]
