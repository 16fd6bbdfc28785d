"""Assertion helpers shared by the ``theory`` tests.

They decide ``expr == 0`` the way a referee would: a sympy proof
(:func:`theory.symbols.symbolic_zero`) first, otherwise an exact-input, high-precision evaluation
at fixed rational points, written here (not :func:`theory.symbols.numeric_zero`) so that the
fallback is independent of the code under test.  Either way the assertion can fail.
"""

from __future__ import annotations

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
    """``expr`` at exact rational ``values`` to ``digits`` significant digits (real part checked)."""
    exact = sp.sympify(expr).xreplace({s: rational(v) if isinstance(v, Fraction) else
                                       sp.sympify(v) for s, v in values.items()})
    leftover = exact.free_symbols
    assert not leftover, f"unassigned symbols {leftover} in {exact}"
    number = sp.N(exact, digits, maxn=400)
    re, im = number.as_real_imag()
    assert abs(sp.N(im, 10)) <= 10 ** -(digits // 2), f"complex value {number}"
    with mpmath.workdps(digits + 10):
        return mpmath.mpf(str(re))


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
