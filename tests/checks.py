"""Assertion helpers shared by the ``theory`` tests.

They decide ``expr == 0`` the way a referee would: a sympy proof
(:func:`theory.symbols.symbolic_zero`) first, otherwise an exact-input, high-precision evaluation
at fixed rational points, written here (not :func:`theory.symbols.numeric_zero`) so that the
fallback is independent of the code under test.  Either way the assertion can fail.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Mapping, Sequence
from fractions import Fraction

import mpmath
import sympy as sp

from theory.symbols import symbolic_zero

#: Digits used by the numeric fallback, and the largest |value| accepted as zero there.
DIGITS = 50
ZERO = mpmath.mpf(10) ** -35


def rational(x: Fraction | int | sp.Rational) -> sp.Rational:
    return sp.Rational(x.numerator, x.denominator) if isinstance(x, Fraction) else sp.Rational(x)


def rationals(values: Sequence[Fraction | int]) -> tuple[sp.Rational, ...]:
    return tuple(rational(v) for v in values)


def evaluate(expr: sp.Expr, values: Mapping[sp.Symbol, object], digits: int = DIGITS) -> mpmath.mpf:
    """``expr`` at rational ``values`` with ``digits + 10``-digit mpmath arithmetic.

    (Substituting exact rationals into sympy powers with rational exponents can make sympy
    factor huge integers; mpmath evaluation of the lambdified expression avoids that.)
    """
    expr = sp.sympify(expr)
    free = sorted(expr.free_symbols, key=str)
    missing = [s for s in free if s not in values]
    assert not missing, f"unassigned symbols {missing} in {expr}"
    fn = sp.lambdify(free, expr, modules="mpmath")
    with mpmath.workdps(digits + 10):
        args = []
        for s in free:
            q = sp.Rational(values[s]) if not isinstance(values[s], Fraction) else values[s]
            num, den = (q.numerator, q.denominator) if isinstance(q, Fraction) else (q.p, q.q)
            args.append(mpmath.mpf(num) / den)
        value = fn(*args) if free else mpmath.mpmathify(sp.N(expr, digits + 10))
        if isinstance(value, mpmath.mpc):
            assert abs(value.imag) <= mpmath.mpf(10) ** -(digits // 2), f"complex value {value}"
            value = value.real
        return +mpmath.mpf(value)


def random_values(symbols: Sequence[sp.Symbol], rng: random.Random,
                  ranges: Mapping[sp.Symbol, tuple[Fraction, Fraction]] | None = None,
                  default: tuple[Fraction, Fraction] = (Fraction(1, 20), Fraction(5))
                  ) -> dict[sp.Symbol, Fraction]:
    """An exact rational value for each symbol, uniform on a grid in its range."""
    ranges = ranges or {}
    out = {}
    for s in symbols:
        lo, hi = ranges.get(s, default)
        out[s] = lo + (hi - lo) * Fraction(rng.randint(1, 9999), 10000)
    return out


def assert_zero(expr: sp.Expr, *, points: int = 8, seed: int = 0,
                ranges: Mapping[sp.Symbol, tuple[Fraction, Fraction]] | None = None,
                fixed: Mapping[sp.Symbol, object] | None = None, label: str = "") -> str:
    """Assert ``expr == 0``: symbolically if sympy proves it, else at ``points`` rational points.

    ``fixed`` symbols keep the given value at every point; the others are drawn in ``ranges``.
    Returns ``"symbolic"`` or ``"numeric"`` (which route decided).
    """
    expr = sp.sympify(expr)
    if fixed:
        expr = expr.xreplace({s: sp.sympify(v) if not isinstance(v, Fraction) else rational(v)
                              for s, v in fixed.items()})
    if symbolic_zero(expr):
        return "symbolic"
    rng = random.Random(seed)
    free = sorted(expr.free_symbols, key=str)
    for _ in range(points):
        values = random_values(free, rng, ranges)
        value = evaluate(expr, values)
        assert abs(value) <= ZERO, (f"{label}: nonzero residual {mpmath.nstr(value, 10)} at "
                                    f"{ {str(k): str(v) for k, v in values.items()} }:\n{expr}")
    return "numeric"


def assert_nonzero_somewhere(expr: sp.Expr, values: Mapping[sp.Symbol, object],
                             at_least: float = 1e-6) -> mpmath.mpf:
    """Assert ``|expr| >= at_least`` at ``values`` (a concrete counterexample)."""
    value = evaluate(expr, values)
    assert abs(value) >= at_least, f"expected a nonzero value, got {value}"
    return value


def load_script(name: str):
    """The module ``benchmarks/<name>.py`` (scripts are not a package), loaded from its file."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def brute_kjs(q1: Sequence[float], q0: Sequence[float], K: int) -> float:
    """D_KJS = I(Z; X_1..X_K), Z uniform on [K], X_Z ~ q1 and the others ~ q0, summed over
    [n]^K (Thm 2's definition): a reference independent of ``numerics.exact``."""
    total = 0.0
    for xs in itertools.product(range(len(q1)), repeat=K):
        cond = [math.prod(q1[x] if i == z else q0[x] for i, x in enumerate(xs)) for z in range(K)]
        marginal = sum(cond) / K
        total += sum(c / K * math.log(c / marginal) for c in cond if c > 0)
    return total
