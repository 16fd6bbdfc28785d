"""Hypothesis strategies shared by the tests of ``theory`` (one place, as in dit's testing utils).

Everything here is exact: points of the simplex are tuples of :class:`fractions.Fraction`, so a
test can hand them to sympy as rationals and evaluate to any precision it wants.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

__all__ = ["simplex_points", "alpha_values", "positive_ratios", "distinct_simplex_pairs"]


def simplex_points(M: int, min_mass: Fraction | int | str = Fraction(1, 100),
                   max_weight: int = 1000) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """Points of the open simplex on classes ``0..M``.

    Each point is a tuple of ``M + 1`` Fractions, every one ``>= min_mass > 0``, summing to
    exactly 1: ``eta_z = min_mass + (1 - (M+1) min_mass) w_z / sum(w)`` with integer weights
    ``w_z`` in ``[1, max_weight]``.
    """
    if M < 1:
        raise ValueError(f"M must be >= 1, got {M}")
    floor = Fraction(min_mass)
    if floor <= 0 or (M + 1) * floor >= 1:
        raise ValueError(f"min_mass must lie in (0, 1/(M+1)), got {floor}")
    free = 1 - (M + 1) * floor

    def build(weights: list[int]) -> tuple[Fraction, ...]:
        total = sum(weights)
        return tuple(floor + free * Fraction(w, total) for w in weights)

    return st.lists(st.integers(1, max_weight), min_size=M + 1, max_size=M + 1).map(build)


Point = tuple[Fraction, ...]


def distinct_simplex_pairs(M: int, min_mass: Fraction = Fraction(1, 100)
                           ) -> st.SearchStrategy[tuple[Point, Point]]:
    """Two points of the open simplex that differ (``(eta_star, eta_hat)``)."""
    return st.tuples(simplex_points(M, min_mass), simplex_points(M, min_mass)).filter(
        lambda pair: pair[0] != pair[1])


def alpha_values(low: Fraction | int = 0, high: Fraction | int = 4, *, max_denominator: int = 12,
                 exclude: tuple[Fraction | int, ...] = (0, 1)) -> st.SearchStrategy[Fraction]:
    """Rational ``alpha`` in the half-open interval ``(low, high]``, never in ``exclude``.

    The defaults give values admissible for the power rules (``alpha`` not 0 or 1, Tables
    3-4); ``alpha_values(low=1)`` gives the pseudo-spherical domain ``alpha > 1``.
    """
    low, high = Fraction(low), Fraction(high)
    banned = {Fraction(x) for x in exclude}
    return st.fractions(min_value=low, max_value=high, max_denominator=max_denominator).filter(
        lambda a: a > low and a not in banned)


def positive_ratios(K: int, low: Fraction | int | str = Fraction(1, 100),
                    high: Fraction | int = 100, *, max_denominator: int = 1000
                    ) -> st.SearchStrategy[tuple[Fraction, ...]]:
    """``K`` exact positive ratios ``r(x_1), ..., r(x_K)`` in ``[low, high]``."""
    low, high = Fraction(low), Fraction(high)
    if low <= 0:
        raise ValueError(f"ratios must be positive, got low = {low}")
    one = st.fractions(min_value=low, max_value=high, max_denominator=max_denominator)
    return st.tuples(*[one] * K)
