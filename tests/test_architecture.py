"""The layering of issue #10, checked on every run: the import-linter contracts in pyproject.toml
(bench > neural > exact > theory; no torch below the torch layer), no private name imported
across modules, function-level imports only where an optional dependency starts, and
``import numerics`` without torch."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("theory", "numerics", "infonce_anchor")
#: where an optional dependency starts: these may be imported inside a function
OPTIONAL = ("torch", "tqdm", "matplotlib", "sklearn", "pyarrow", "jupytext", "dit",
            "threadpoolctl", "ray")
#: modules that import torch (or matplotlib) at their top: a torch-free module (the CLI, the
#: claims) may import them inside the function that needs them
TORCH_LAYERS = ("numerics.neural", "numerics.bench", "numerics.ssl", "infonce_anchor.bench_plots",
                "infonce_anchor.ssl_report")


def python_files(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py")
                  if "__pycache__" not in p.parts)


def test_import_linter_contracts_hold():
    lint = pytest.importorskip("importlinter.cli")
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        code = lint.lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                                 no_logo=True)
    finally:
        os.chdir(cwd)
    assert code == 0, "an import-linter contract is broken (run lint-imports)"


def test_no_private_name_is_imported_from_another_module():
    found = []
    for path in python_files(*PACKAGES, "tests", "benchmarks", "notebooks"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found += [f"{path.relative_to(ROOT)}:{node.lineno}: {node.module}.{a.name}"
                          for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def _function_level_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""]
            out += [(node.lineno, n) for n in names]
    return out


def test_function_level_imports_only_start_optional_dependencies():
    bad = []
    for path in python_files(*PACKAGES):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        torch_layer = module.startswith(("numerics.neural", "numerics.bench", "numerics.ssl"))
        for line, name in _function_level_imports(path):
            optional = name.split(".")[0] in OPTIONAL
            starts_torch = not torch_layer and name.startswith(TORCH_LAYERS)
            if not (optional or starts_torch):
                bad.append(f"{path.relative_to(ROOT)}:{line}: {name}")
    assert not bad, "function-level imports of required modules:\n" + "\n".join(bad)


def test_importing_numerics_and_the_cli_does_not_import_torch():
    code = ("import sys, numerics, numerics.exact.mi, infonce_anchor.cli; "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
