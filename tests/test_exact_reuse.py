"""What the exact layer keeps between calls (type-class tables, Gauss-Legendre rules) and the
blocked Laplace quadrature: reused or re-blocked work gives the same numbers, bit for bit, and
the input checks still name what is wrong."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from numerics.exact import enumeration, laplace
from numerics.exact.distributions import as_distribution
from numerics.exact.divergences import kl
from theory.errors import InputError


# ------------------------------------------------------------------------------ type classes
def _brute_force_types(n: int, slots: int) -> list[tuple[int, ...]]:
    """Count vectors in lexicographic order of the bars (the order of ``type_counts``)."""
    rows = []
    for cuts in itertools.combinations(range(slots + n - 1), n - 1):
        bounds = (-1,) + cuts + (slots + n - 1,)
        rows.append(tuple(bounds[i + 1] - bounds[i] - 1 for i in range(n)))
    return rows


@pytest.mark.parametrize("n, slots", [(1, 0), (1, 4), (2, 0), (2, 5), (3, 4), (5, 3), (6, 1)])
def test_type_counts_are_every_count_vector_in_order(n, slots):
    counts = enumeration.type_counts(n, slots)
    assert counts.dtype == np.int64 and counts.shape == (enumeration.count_types(n, slots), n)
    assert [tuple(row) for row in counts] == _brute_force_types(n, slots)
    assert (counts.sum(axis=1) == slots).all()


def test_kept_type_tables_are_read_only_and_equal_to_fresh_ones(monkeypatch):
    kept = enumeration.type_counts(3, 6)
    assert enumeration.type_counts(3, 6) is kept
    with pytest.raises(ValueError):
        kept[0, 0] = 99
    monkeypatch.setattr(enumeration, "CACHED_CELLS", 0)   # every table built afresh
    fresh = enumeration.type_counts(3, 6)
    assert fresh is not kept and np.array_equal(fresh, kept)


@pytest.mark.parametrize("cached_cells", [0, enumeration.CACHED_CELLS])
@pytest.mark.parametrize("n, slots", [(1, 3), (2, 7), (4, 5)])
def test_log_type_probabilities_match_log_multinomial(monkeypatch, cached_cells, n, slots):
    monkeypatch.setattr(enumeration, "CACHED_CELLS", cached_cells)
    log_p = np.log(np.random.default_rng(n + slots).dirichlet(np.ones(n)))
    counts = enumeration.type_counts(n, slots)
    expected = enumeration.log_multinomial(counts, log_p)
    assert np.array_equal(enumeration.log_type_probabilities(n, slots, log_p), expected)
    assert math.isclose(float(np.exp(expected).sum()), 1.0, rel_tol=1e-12)


# ------------------------------------------------------------------------------ Laplace
def test_gauss_legendre_rule_is_kept_read_only():
    x, w = laplace.gauss_legendre(laplace.FINE)
    assert laplace.gauss_legendre(laplace.FINE)[0] is x
    assert math.isclose(float(w.sum()), 2.0, rel_tol=1e-14)
    with pytest.raises(ValueError):
        x[0] = 0.0


def _slots(seed: int, n: int, scale: float = 1.0) -> laplace.Slots:
    rng = np.random.default_rng(seed)
    return laplace.Slots(rng.dirichlet(np.ones(n)) * scale, np.exp(rng.normal(0, 1.5, n)))


@pytest.mark.parametrize("n", [1, 3, 40])
@pytest.mark.parametrize("K", [1, 2, 64, 10**6])
def test_quadrature_does_not_depend_on_how_nodes_are_blocked(monkeypatch, n, K):
    """Integrands evaluated ``BLOCK`` nodes at a time (the smallest blocks) or ``CELLS / n`` at a
    time give the same values and error estimates, bit for bit."""
    first, rest = _slots(n, n, 0.8), _slots(n + 1, n)
    a, b = first.values ** 0.5, rest.values ** 0.5

    def moments():
        return [laplace.expected_log(0.5, first, rest, K),
                laplace.expected_log(0.0, laplace.Slots(first.weights / first.mass, first.values),
                                     rest, K, first_slots=2),
                laplace.expected_inverse_power(0.5, 1.5, first, rest, K, a_first=a, b_rest=b,
                                               constant=0.3),
                laplace.expected_fractional_power(0.5, 0.5, first, rest, K, a_first=a)]
    default = moments()
    monkeypatch.setattr(laplace, "CELLS", laplace.BLOCK)
    assert moments() == default


# ------------------------------------------------------------------------------ input checks
@pytest.mark.parametrize("p, rule", [
    ([math.nan, 1.0], "finite numbers"), ([math.inf, 0.5], "finite numbers"),
    ([-math.inf, 0.5], "finite numbers"), ([math.inf, -math.inf], "finite numbers"),
    ([-0.25, 1.25], "must be >= 0"), ([math.nan, -1.0], "finite numbers"),
    ([0.5, 0.6], "sum to 1")])
def test_distribution_checks_name_the_first_rule_broken(p, rule):
    with pytest.raises(InputError) as info:
        as_distribution(p, "q1")
    assert info.value.argument == "q1" and rule in info.value.rule


def test_kl_values_and_infinity_off_support():
    assert kl([0.5, 0.5], [1.0, 0.0]) == math.inf
    assert kl([1.0, 0.0], [0.5, 0.5]) == math.log(2)
    q1, q0 = np.array([0.2, 0.3, 0.5]), np.array([0.5, 0.25, 0.25])
    assert kl(q1, q0) == float(np.sum(q1 * (np.log(q1) - np.log(q0))))
