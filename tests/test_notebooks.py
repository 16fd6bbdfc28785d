"""Every notebook under ``notebooks/`` is a jupytext percent-format ``.py`` file that runs.

Each is executed as a plain script (``python path``) in a fresh temporary directory with
``MPLBACKEND=Agg`` and the repository root on ``PYTHONPATH``; it must exit with status 0.  The
notebooks assert their own numbers (e.g. ``L(r) >= L(r*)``), so a wrong result fails here too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.py"))

#: The jupytext header of a percent-format script (jupytext's own writer emits these lines).
PERCENT_HEADER = ("# ---", "# jupyter:", "#   jupytext:", "#     text_representation:",
                  "#       extension: .py", "#       format_name: percent")


def test_there_are_notebooks() -> None:
    assert (ROOT / "notebooks" / "from_generator_to_objective.py") in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_jupytext_percent_header(path: Path) -> None:
    lines = path.read_text().splitlines()
    assert lines[0] == "# ---"
    end = lines.index("# ---", 1)  # the header is closed
    header = lines[:end + 1]
    for expected in PERCENT_HEADER:
        assert expected in header, f"{path.name}: header lacks {expected!r}"
    body = lines[end + 1:]
    assert any(line.startswith("# %% [markdown]") for line in body)
    assert any(line.rstrip() == "# %%" for line in body)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_parses_as_percent_format_with_jupytext(path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path)
    kinds = {cell.cell_type for cell in nb.cells}
    assert kinds == {"markdown", "code"}
    assert nb.metadata["jupytext"]["text_representation"]["format_name"] == "percent"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_as_a_script(path: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"{path.name} exited with {done.returncode}\n--- stdout ---\n{done.stdout[-4000:]}"
        f"\n--- stderr ---\n{done.stderr[-4000:]}")
    assert "Traceback" not in done.stderr
    # the story notebook reports its objective values in nats and shows L(r) - L(r*)
    if path.name == "from_generator_to_objective.py":
        assert "nats" in done.stdout
        assert "L(perturbed r) - L(r*)" in done.stdout
