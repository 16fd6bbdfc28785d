"""Symbols of the paper and the symbolic plumbing shared by every module of ``theory``.

Conventions (the paper's Sec. 3.4 and Eq. 6):

* classes ``Z = {0, ..., M}``; class probabilities ``eta_0, ..., eta_M`` (symbols ``eta0`` ...);
* odds ``rho = (1, rho_1, ..., rho_M)`` with ``rho_z = eta_z / eta_0`` (symbols ``rho1`` ...);
* every symbol is declared positive, which is what the paper assumes (interior of the simplex,
  ``R_+^M``).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from functools import lru_cache, wraps
from typing import TypeVar

import mpmath
import sympy as sp
from sympy.core.exprtools import decompose_power
from sympy.core.function import AppliedUndef
from sympy.polys.domains import QQ
from sympy.polys.orderings import lex
from sympy.polys.rings import PolyRing

from theory.errors import InputError

T = TypeVar("T")

ALPHA = sp.Symbol("alpha", positive=True)
NU = sp.Symbol("nu", positive=True)
K_SYM = sp.Symbol("K", positive=True, integer=True)


def check_classes(M: object, argument: str = "classes") -> int:
    """Validate the number ``M`` (classes are ``0..M``): an integer ``>= 1``."""
    if isinstance(M, bool) or not isinstance(M, (int, sp.Integer)) or int(M) < 1:
        raise InputError(argument, f"M must be an integer >= 1 (classes 0..M), got {M!r}")
    return int(M)


def memoised(maxsize: int | None) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """``functools.lru_cache`` for pure functions of immutable arguments (rules, generators,
    sympy expressions); a call with an unhashable argument is computed without the cache."""
    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        cached = lru_cache(maxsize=maxsize)(fn)

        @wraps(fn)
        def call(*args: object) -> T:
            try:
                hash(args)
            except TypeError:
                return fn(*args)
            return cached(*args)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call
    return decorate


@lru_cache(maxsize=None)
def class_probabilities(M: int) -> tuple[sp.Symbol, ...]:
    """The class-probability symbols ``(eta0, ..., etaM)``."""
    check_classes(M)
    return tuple(sp.Symbol(f"eta{z}", positive=True) for z in range(M + 1))


@lru_cache(maxsize=None)
def odds_symbols(M: int) -> tuple[sp.Symbol, ...]:
    """The free odds symbols ``(rho1, ..., rhoM)``; ``rho_0 = 1`` is not a symbol."""
    check_classes(M)
    return tuple(sp.Symbol(f"rho{z}", positive=True) for z in range(1, M + 1))


def odds_of(eta: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """``rho_z = eta_z / eta_0`` for ``z = 1..M`` (Eq. 6)."""
    return tuple(e / eta[0] for e in eta[1:])


def probabilities_of(rho: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """``eta = rho / ||rho||_1`` with ``rho = (1, rho_1, ..., rho_M)`` (App. D.2)."""
    total = 1 + sp.Add(*rho)
    return (1 / total,) + tuple(r / total for r in rho)


def simplex_substitution(eta: Sequence[sp.Symbol]) -> dict[sp.Symbol, sp.Expr]:
    """Eliminate ``eta_0 = 1 - sum_{z>=1} eta_z`` (the simplex constraint)."""
    return {eta[0]: 1 - sp.Add(*eta[1:])}


# ---------------------------------------------------------------------------------------------
# Canonical form for expressions that contain undefined functions (generic Psi, Phi, lambda)
# ---------------------------------------------------------------------------------------------

def _undefined_at_point(e: sp.Expr) -> tuple[sp.Function, tuple[int, ...], tuple[sp.Expr, ...]] | None:
    """``(f, derivative positions, point)`` for ``f(point)``, its derivatives, and ``Subs`` of them."""
    if isinstance(e, AppliedUndef):
        return e.func, (), e.args
    if isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef):
        args = e.expr.args
        positions: list[int] = []
        for var, count in e.variable_count:
            where = [i for i, a in enumerate(args) if a == var]
            if len(where) != 1 or any(var in a.free_symbols for i, a in enumerate(args)
                                      if i != where[0]):
                return None
            positions += [where[0]] * int(count)
        return e.expr.func, tuple(sorted(positions)), args
    if isinstance(e, sp.Subs):
        inner = _undefined_at_point(e.expr)
        if inner is None:
            return None
        func, positions, args = inner
        mapping = dict(zip(e.variables, e.point))
        return func, positions, tuple(a.xreplace(mapping) for a in args)
    return None


#: Bound on the memo of :func:`cancelled_coordinate` (points repeat across every check).
POINT_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=POINT_CACHE_SIZE)
def cancelled_coordinate(p: sp.Expr) -> sp.Expr:
    """``sympy.cancel(p)``, memoised: the same few point coordinates (``rho_z / (1 + sum rho)``,
    ``eta_z / eta_0`` ...) are put over a common denominator thousands of times per run, and
    ``cancel`` is a pure function of its (immutable, hashable) argument."""
    return sp.cancel(p)


#: Bound on the memo of :func:`simplified`.
SIMPLIFY_CACHE_SIZE = 1024


@lru_cache(maxsize=SIMPLIFY_CACHE_SIZE)
def simplified(expr: sp.Expr) -> sp.Expr:
    """``sympy.simplify(expr)``, memoised (a pure function of an immutable expression): tidying
    re-simplifies what ``simplify`` returned unchanged, and the same residuals and losses come
    back in several checks."""
    return sp.simplify(expr)


def _point_function(func: sp.Function, positions: tuple[int, ...]) -> sp.Function:
    if not positions:
        return func
    return sp.Function(f"{func.__name__}_d{'_'.join(map(str, positions))}")


def canonical(expr: sp.Expr) -> sp.Expr:
    """Canonical form in which equal values of generic functions compare equal.

    Every undefined function, each of its derivatives and each ``Subs`` of those becomes a plain
    undefined function evaluated at a point: ``d^2 f / dx_0 dx_1`` at ``p`` is ``f_d0_1(p)``.
    Points are put over a common denominator (``sympy.cancel``).  After this, substituting into
    the point (e.g. the simplex constraint) is plain substitution.
    """
    def is_target(e: sp.Expr) -> bool:
        return isinstance(e, (sp.Subs, sp.Derivative, AppliedUndef)) and \
            _undefined_at_point(e) is not None

    def to_point(e: sp.Expr) -> sp.Expr:
        func, positions, point = _undefined_at_point(e)  # type: ignore[misc]
        return _point_function(func, positions)(*[cancelled_coordinate(p) for p in point])

    return expr.replace(is_target, to_point)


def cancel_points(expr: sp.Expr) -> sp.Expr:
    """Put every argument of every undefined function over a common denominator."""
    return expr.replace(lambda e: isinstance(e, AppliedUndef),
                        lambda e: e.func(*[cancelled_coordinate(a) for a in e.args]))


def generic_function_of(e: sp.Expr) -> bool:
    """True when ``e`` contains an undefined (generic) function."""
    return bool(e.atoms(AppliedUndef))


# ---------------------------------------------------------------------------------------------
# Zero test of a rational function of generators (the fast path of ``symbolic_zero``)
# ---------------------------------------------------------------------------------------------

class _Declined(Exception):
    """The expression is not handled by :func:`rational_zero` (it falls back to sympy)."""


def _split_logs(expr: sp.Expr) -> sp.Expr:
    """``expr`` with ``log(a b) = log(a) + log(b)``, ``log(a^k) = k log(a)`` applied where sympy
    knows the factors positive (``sympy.expand_log`` without ``force``: a valid identity).

    Declined when a logarithm's argument is not known to be positive: there the law does not
    hold, and sympy's ``cancel`` rewrites such arguments (``1 - x`` as ``-(x - 1)``) differently
    at different occurrences, so it can miss identities that a consistent reading would prove;
    declining keeps the fast path from proving checks that ``cancel`` leaves to the numerics.
    """
    logs = expr.atoms(sp.log)
    if not logs:
        return expr
    if not all(L.args[0].is_positive for L in logs):
        raise _Declined
    expr = expr.xreplace({L: sp.expand_log(L) for L in logs})
    if not all(L.args[0].is_positive for L in expr.atoms(sp.log)):
        raise _Declined
    return expr


def _collect_generators(e: sp.Expr, found: dict[sp.Expr, int]) -> None:
    """Index the generators of ``e``: what is not a rational number, a sum, a product or an
    integer power.  A power ``b**(k t)`` (``k`` rational) is the generator ``b**t`` to the ``k``,
    as in sympy's polynomial conversion (``decompose_power``)."""
    if e.is_Rational:
        return
    if e.is_Add or e.is_Mul or (e.is_Pow and e.exp.is_Integer):
        for a in (e.args if not e.is_Pow else (e.base,)):
            _collect_generators(a, found)
        return
    if e.is_Number or not e.is_commutative:  # floats, infinities: not exact rational arithmetic
        raise _Declined
    base, _ = decompose_power(e)
    found.setdefault(base, len(found))


def _fraction(e: sp.Expr, ring: PolyRing, index: dict[sp.Expr, int]):
    """``e`` as ``(numerator, {denominator factor: exponent})`` over ``ring`` (exact: every step
    is a ring identity; common denominators multiply the factors with their largest exponent)."""
    if e.is_Rational:
        return ring(e), {}
    if e.is_Add:
        parts = [_fraction(a, ring, index) for a in e.args]
        common: dict = {}
        for _, den in parts:
            for f, k in den.items():
                common[f] = max(common.get(f, 0), k)
        numerator = ring.zero
        for num, den in parts:
            for f, k in common.items():
                if k > den.get(f, 0):
                    num = num * f ** (k - den.get(f, 0))
            numerator += num
        return numerator, common
    if e.is_Mul:
        numerator, denominator = ring.one, {}
        for a in e.args:
            num, den = _fraction(a, ring, index)
            numerator = numerator * num
            for f, k in den.items():
                denominator[f] = denominator.get(f, 0) + k
        return numerator, denominator
    if e.is_Pow and e.exp.is_Integer:
        k = int(e.exp)
        num, den = _fraction(e.base, ring, index)
        if k >= 0:
            return num ** k, {f: j * k for f, j in den.items()}
        if not num:
            raise _Declined  # a division by zero
        numerator = ring.one
        for f, j in den.items():
            numerator = numerator * f ** (-j * k)
        return numerator, {num: -k}
    base, k = decompose_power(e)
    g = ring.gens[index[base]]
    return (g ** k, {}) if k >= 0 else (ring.one, {g: -k})


def rational_zero(expr: sp.Expr) -> bool:
    """True when ``expr``, read as a rational function of its generators, is 0.

    Logarithms of positive products are split first (:func:`_split_logs`).  Generators are the
    parts that are not rational numbers, sums, products or integer powers (symbols,
    ``f(point)``, ``x**alpha``, ``log(x)``); they are treated as independent indeterminates.
    ``expr`` is put over a common denominator with exact polynomial arithmetic (``sympy.polys``
    rings over QQ); a numerator that is the zero polynomial proves ``expr = 0`` for every value
    of the generators where no denominator factor vanishes, which is what ``sympy.cancel``
    proves, only without its expression-level rewriting.  False means *not proved* (including
    expressions this test declines: floats, logs of arguments of unknown sign).
    """
    found: dict[sp.Expr, int] = {}
    try:
        expr = _split_logs(expr)
        _collect_generators(expr, found)
        if not found:
            return expr == 0
        ring = PolyRing([sp.Dummy() for _ in found], QQ, lex)
        numerator, _ = _fraction(expr, ring, found)
    except _Declined:
        return False
    return not numerator


#: Above this ``count_ops`` only the cheap simplification is tried.
SYMBOLIC_ZERO_SIZE = 400


def symbolic_zero(expr: sp.Expr, *, effort: str = "full") -> bool:
    """True when sympy proves ``expr == 0``; False means *not proved*, not *nonzero*.

    First :func:`rational_zero` (a common denominator with polynomial arithmetic, fast); then
    ``effort="cheap"`` tries common-denominator cancellation (with logs and powers expanded);
    ``"full"`` also tries ``sympy.simplify`` on small expressions.
    """
    expr = canonical(sp.sympify(expr))
    if expr == 0 or rational_zero(expr):
        return True
    steps = [lambda e: sp.cancel(sp.together(e))]
    small = sp.count_ops(expr) <= SYMBOLIC_ZERO_SIZE  # the stronger steps blow up on large input
    if small:
        steps.append(lambda e: sp.cancel(sp.together(sp.expand(sp.powsimp(sp.expand_power_base(
            sp.expand_log(sp.expand(e), force=True), force=True), force=True)))))
    if effort == "full" and small:
        steps += [
            sp.expand,
            lambda e: sp.expand(sp.powsimp(sp.expand_power_base(e, force=True), force=True)),
            lambda e: simplified(sp.expand_log(e, force=True))]
    for step in steps:
        try:
            expr = cancel_points(step(expr))
        except (TypeError, ValueError, NotImplementedError):  # pragma: no cover - sympy limits
            continue
        if expr == 0:
            return True
    return False


def random_simplex_point(M: int, rng: random.Random, *, margin: Fraction = Fraction(1, 50)
                         ) -> tuple[Fraction, ...]:
    """A random rational point of the open simplex on classes ``0..M`` (exact arithmetic)."""
    weights = [Fraction(rng.randint(1, 1000)) for _ in range(M + 1)]
    total = sum(weights)
    point = [margin + (1 - (M + 1) * margin) * w / total for w in weights]
    return tuple(point)


def as_rationals(values: Iterable[float | Fraction]) -> tuple[sp.Rational, ...]:
    """Exact sympy rationals (floats are converted through their shortest decimal string)."""
    return tuple(sp.Rational(str(v)) if isinstance(v, float) else sp.Rational(v) for v in values)


#: Values of ``alpha`` used by numeric zero tests (admissible for every catalogue family).
NUMERIC_ALPHAS = (Fraction(3, 2), Fraction(2), Fraction(3))


def numeric_zero(expr: sp.Expr, *, samples: int = 20, digits: int = 50, seed: int = 0
                 ) -> tuple[bool, float]:
    """Evaluate ``expr`` at random points to ``digits`` digits: ``(all ~ 0, max |value|)``.

    Every free symbol except ``alpha`` gets an independent value in ``(1/50, 9/(10 n))`` for ``n``
    free symbols, so that any subset of them sums to less than 1 (points stay inside a simplex
    whose first coordinate was eliminated); ``alpha`` cycles through :data:`NUMERIC_ALPHAS`.
    Zero means ``|value| <= 10^(-digits/2)``.
    """

    free = sorted(expr.free_symbols, key=str)
    others = [s for s in free if s != ALPHA]
    rng = random.Random(seed)
    upper = Fraction(9, 10 * max(1, len(others)))
    fn = sp.lambdify(free, expr, modules="mpmath")
    worst = mpmath.mpf(0)
    with mpmath.workdps(digits + 10):
        for i in range(samples):
            values = {s: Fraction(1, 50) + (upper - Fraction(1, 50)) *
                      Fraction(rng.randint(1, 10**6), 10**6) for s in others}
            values[ALPHA] = NUMERIC_ALPHAS[i % len(NUMERIC_ALPHAS)]
            args = [mpmath.mpf(values[s].numerator) / values[s].denominator for s in free]
            try:
                value = fn(*args)
            except (ZeroDivisionError, ValueError, OverflowError):
                return False, float("nan")
            if mpmath.isnan(value) or mpmath.isinf(value):
                return False, float("nan")
            worst = max(worst, abs(value))
    return bool(worst <= mpmath.mpf(10) ** (-(digits // 2))), float(worst)
