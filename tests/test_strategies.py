"""The shared hypothesis strategies deliver what the property tests rely on."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings

from tests.strategies import (
    alpha_values,
    distinct_simplex_pairs,
    positive_ratios,
    simplex_points,
)

FAST = settings(max_examples=50, deadline=None)


# ------------------------------------------------------------------------------ error paths
@pytest.mark.parametrize("M, min_mass", [(0, Fraction(1, 100)), (1, Fraction(1, 2)),
                                         (2, Fraction(0)), (3, Fraction(-1, 10))])
def test_simplex_points_rejects_bad_arguments(M, min_mass):
    with pytest.raises(ValueError):
        simplex_points(M, min_mass)


def test_positive_ratios_rejects_nonpositive_floor():
    with pytest.raises(ValueError):
        positive_ratios(2, low=0)


# ------------------------------------------------------------------------------ properties
@FAST
@given(point=simplex_points(3, min_mass=Fraction(1, 50)))
def test_simplex_points_are_exact_and_interior(point):
    assert len(point) == 4
    assert all(isinstance(v, Fraction) for v in point)
    assert sum(point) == 1  # exactly, not approximately
    assert min(point) >= Fraction(1, 50)


@FAST
@given(pair=distinct_simplex_pairs(2))
def test_distinct_pairs_differ(pair):
    assert pair[0] != pair[1]
    assert sum(pair[0]) == sum(pair[1]) == 1


@FAST
@given(alpha=alpha_values())
def test_alpha_values_admissible_for_power_rules(alpha):
    assert isinstance(alpha, Fraction)
    assert 0 < alpha <= 4 and alpha != 1


@FAST
@given(alpha=alpha_values(low=1))
def test_alpha_values_above_one(alpha):
    assert 1 < alpha <= 4


@FAST
@given(ratios=positive_ratios(3))
def test_positive_ratios(ratios):
    assert len(ratios) == 3
    assert all(isinstance(r, Fraction) and Fraction(1, 100) <= r <= 100 for r in ratios)
