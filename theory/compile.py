"""Compile symbolic objectives to numpy, mpmath or torch callables: one source of truth.

``numerics`` evaluates the expressions derived here instead of restating them by hand.  The
symbolic layer never imports torch itself: sympy's printer loads it when the torch backend is
asked for (``numerics.neural.losses`` does).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from theory.dre import DREObjective
from theory.errors import InputError

BACKENDS = ("numpy", "mpmath", "torch")


def compile_expr(expr: sp.Expr, symbols: Sequence[sp.Symbol], backend: str = "numpy"
                 ) -> Callable[..., object]:
    """``expr`` as a function of ``symbols`` (positional) for ``backend``."""
    if backend not in BACKENDS:
        raise InputError("backend", f"must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "torch" and importlib.util.find_spec("torch") is None:  # pragma: no cover
        raise InputError("backend", "torch is not installed (pip install "
                         "'infonce-anchor[torch]')")
    return sp.lambdify(tuple(symbols), expr, modules=backend)


@dataclass(frozen=True)
class CompiledTerm:
    """One term ``weight * E_law[integrand]`` with both parts compiled."""

    sampling: str
    symbols: tuple[str, ...]
    weight: Callable[..., object]
    integrand: Callable[..., object]
    weight_symbols: tuple[str, ...]


def compile_objective(objective: DREObjective, backend: str = "numpy") -> list[CompiledTerm]:
    """Every term of a DRE objective, compiled; arguments in the order of ``symbols``."""
    out = []
    for term in objective.terms:
        syms = tuple(sorted(term.integrand.free_symbols, key=str))
        wsyms = tuple(sorted(term.weight.free_symbols, key=str))
        out.append(CompiledTerm(term.sampling, tuple(map(str, syms)),
                                compile_expr(term.weight, wsyms, backend),
                                compile_expr(term.integrand, syms, backend),
                                tuple(map(str, wsyms))))
    return out
