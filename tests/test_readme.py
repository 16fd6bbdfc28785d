"""Every Python example of the README runs (issue #10): each ```python block is executed as
written, in a scratch folder that sees the repository's ``benchmarks/`` (the benchmark example
reads a shipped config and writes ``bench-results/``).  The exact-numerics block uses names the
README leaves to the reader (``q1, q0, K, nu, r, f``); they are bound here first."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
#: the names the README's exact-numerics example takes as given
GIVEN = {"q1": np.array([0.5, 0.3, 0.2]), "q0": np.array([0.2, 0.3, 0.5]), "K": 4, "nu": 1.0,
         "r": np.array([2.5, 1.0, 0.4]), "f": lambda u: u * np.log(u)}


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch, request):
    block = BLOCKS[index]
    if "torch" in block or "numerics.bench" in block or "numerics.neural" in block:
        torch = pytest.importorskip("torch")
        threads = torch.get_num_threads()
        torch.set_num_threads(1)     # small matmuls: one thread is faster, also on a busy machine
        request.addfinalizer(lambda: torch.set_num_threads(threads))
    (tmp_path / "benchmarks").symlink_to(ROOT / "benchmarks")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": f"readme_{index}", **GIVEN, "math": math}
    exec(compile(block, f"README.md python block {index}", "exec"), namespace)  # raises if broken
