"""The device script of issue #12 runs end to end in its --smoke mode on the CPU (tiny
sizes), so the device run is never its first run."""

from __future__ import annotations

import json
import tarfile

import pytest

from tests.checks import load_script

pytest.importorskip("torch")


def test_gpu_session_smoke(tmp_path, capsys):
    session = load_script("gpu_session")
    # the smoke run's default budget (120 s) is a cap, not a wait; on a loaded CPU the parts'
    # deadlines (shares of it) cut later sweeps, so the test gives it room to run every part
    assert session.main(["--out", str(tmp_path), "--smoke", "--precision", "bf16",
                         "--budget-s", "900"]) == 0
    record = json.loads((tmp_path / "session.json").read_text())
    assert {name: p["status"] for name, p in record["parts"].items()} == {
        "A. correctness": "ok", "B. speed and precision": "ok", "C. Fig. 1 panel": "ok",
        "C2. fp32 check at full length": "ok", "D. Fig. 3, B = 16 panel, digits": "ok"}
    assert all("error" not in r for r in record["reports"]) and len(record["reports"]) == 5
    checks = record["correctness"]
    assert checks["loss_parity"]["passed"] and checks["batched_vs_single"]["passed"]
    assert checks["graphs_vs_eager"]["passed"]        # the CPU runs the static-input loop
    speed = record["speed"]
    assert speed["chosen"]["precision"] == "bf16" and speed["forced_precision"] == "bf16"
    assert set(speed["validated"]) == {"fp32", "tf32", "bf16"}
    assert speed["sequential_panel_s"] > 0 and speed["grouped_eager_panel_s"] > 0
    assert record["panel"]["finished"] == 12 and record["panel"]["missing"] == 0
    assert record["fp32_check"]["rows"]
    with tarfile.open(tmp_path / "results.tar") as tar:
        names = set(tar.getnames())
    for sweep in ("fig1-gaussian-smoke", "fig1-gaussian-smoke-fp32-check", "fig3-cubic-smoke",
                  "fig1-gaussian-b16-smoke", "digits-smoke"):
        assert f"{sweep}/levels.json" in names and f"{sweep}/tables.md" in names
    assert "fig3-cubic-smoke/staircase_B256.png" in names
    levels = json.loads((tmp_path / "work" / "bench-results" / "fig3-cubic-smoke" /
                         "levels.json").read_text())
    assert levels["train"]["exclude"] == [["joint", 256]] and levels["missing_units"] == 0
    assert levels["train"]["precision"] == "bf16" and levels["device_names"] == ["cpu"]
