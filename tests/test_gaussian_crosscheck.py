"""Smoke test of ``benchmarks/gaussian_crosscheck.py`` (the GPU-scale Gaussian cross-check)."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

pytest.importorskip("torch")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gaussian_crosscheck.py"


def test_crosscheck_runs_and_reports_every_cell(capsys):
    spec = importlib.util.spec_from_file_location("gaussian_crosscheck", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rc = module.main(["--levels-bits", "1", "--steps", "5", "--runs", "2", "--hidden", "8",
                      "--batch", "4", "--device", "cpu", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["device"].startswith("CPU")
    assert [r["estimator"] for r in out["rows"]] == ["infonce", "infonce_anchor", "js"]
    for r in out["rows"]:
        assert r["true_mi_nats"] == pytest.approx(math.log(2))
        assert math.isfinite(r["estimate_mean_nats"])
    # InfoNCE's minibatch bound never exceeds log K
    assert out["rows"][0]["estimate_mean_nats"] <= math.log(3) + 1e-9
