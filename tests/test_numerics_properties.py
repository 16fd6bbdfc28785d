"""Hypothesis properties of the exact numerics (``numerics.exact.kjs``) over random distributions:
zeros, support mismatch both ways, near-degenerate laws (one entry ``1 - 1e-12``) and large
alphabets (up to 2000 letters, Laplace method).

Properties (Sec. 2.2: Prop 1 and Thm 2, unless noted):

* ``0 <= D_KJS <= min{log K, D(q1 || q0)}`` (Prop 1 / Thm 2), and the Jensen lower bound
  ``D - log(1 + chi^2/K)`` derived in ``test_numerics_kjs.test_bounds``;
* the Laplace method agrees with the type-class sum within the summed error estimates;
* ``D_KJS`` is invariant under a common permutation of the alphabet (it is a functional of the
  pair of laws, not of the letters' order);
* ``D_InfoNCE(r) <= D_KJS`` for every critic (Thm 2), with equality at ``r = C r*``.

Tolerances are the code's own error estimates (plus a few ulps where a reference is computed
here).  The strategies are local to this module (tests/strategies.py holds exact rationals for
``theory``; these are float64 laws).
"""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from numerics import chi2, infonce_divergence_result, kl, kway_jsd_result

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
LARGE = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EPS = float(np.finfo(float).eps)


# --------------------------------------------------------------------------- strategies
@st.composite
def laws(draw, n, zeros=True):
    """A float64 probability vector on ``n`` letters: random weights, some of them 0 (never all),
    or (one time in five) a near-degenerate law with one entry ``1 - 1e-12``."""
    if n >= 2 and draw(st.integers(0, 4)) == 0:
        top = draw(st.integers(0, n - 1))
        p = np.full(n, 1e-12 / (n - 1))
        p[top] = 1.0 - 1e-12
        return p
    weight = st.floats(1e-3, 1.0)
    if zeros:
        weight = st.one_of(st.just(0.0), weight)
    w = np.array(draw(st.lists(weight, min_size=n, max_size=n)))
    if w.sum() == 0:
        w[draw(st.integers(0, n - 1))] = 1.0
    return w / w.sum()


@st.composite
def pairs(draw, min_n=2, max_n=5, zeros=True):
    n = draw(st.integers(min_n, max_n))
    return draw(laws(n, zeros)), draw(laws(n, zeros))


@st.composite
def large_pairs(draw, min_n=200, max_n=2000):
    """Large alphabets from a seeded Dirichlet (drawing 2000 floats one by one would be slow),
    with a random block of zeros in q1 or q0 so that the supports can mismatch."""
    n = draw(st.integers(min_n, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    conc = draw(st.sampled_from([0.1, 1.0, 10.0]))
    q1, q0 = rng.dirichlet(conc * np.ones(n)), rng.dirichlet(conc * np.ones(n))
    which = draw(st.sampled_from(["none", "q1", "q0"]))
    if which != "none":
        target = q1 if which == "q1" else q0
        target[: draw(st.integers(1, n // 4))] = 0.0
        target /= target.sum()
    return q1, q0


# --------------------------------------------------------------------------- properties
def check_bounds(q1, q0, K, res):
    tol = res.error_estimate
    D = kl(q1, q0)
    assert -tol <= res.value <= min(math.log(K), D) + tol
    X = chi2(q1, q0)
    if math.isfinite(X):
        # (chi2 = sum q1^2/q0 - 1 carries ~n ulps of rounding: allowed for here)
        assert res.value >= D - math.log1p(X / K) - tol - 16 * EPS * q1.size * (1 + D + X)


@PROPERTY
@given(pair=pairs(), K=st.integers(1, 8))
def test_kjs_within_bounds_small(pair, K):
    q1, q0 = pair
    check_bounds(q1, q0, K, kway_jsd_result(q1, q0, K, method="types"))


@PROPERTY
@given(pair=pairs(max_n=30), K=st.sampled_from([10, 1000, 10 ** 6, 10 ** 9]))
def test_kjs_within_bounds_large_k(pair, K):
    q1, q0 = pair
    check_bounds(q1, q0, K, kway_jsd_result(q1, q0, K, method="laplace"))


@LARGE
@given(pair=large_pairs(), K=st.sampled_from([2, 64, 10 ** 4, 10 ** 7]))
def test_kjs_within_bounds_large_alphabet(pair, K):
    q1, q0 = pair
    res = kway_jsd_result(q1, q0, K, method="laplace")
    check_bounds(q1, q0, K, res)
    # a common permutation of the alphabet changes nothing
    perm = np.random.default_rng(K).permutation(q1.size)
    other = kway_jsd_result(q1[perm], q0[perm], K, method="laplace")
    assert abs(other.value - res.value) <= other.error_estimate + res.error_estimate


@PROPERTY
@given(pair=pairs(max_n=4), K=st.integers(2, 6))
def test_laplace_agrees_with_types(pair, K):
    q1, q0 = pair
    typ = kway_jsd_result(q1, q0, K, method="types")
    lap = kway_jsd_result(q1, q0, K, method="laplace")
    assert abs(lap.value - typ.value) <= lap.error_estimate + typ.error_estimate


@PROPERTY
@given(pair=pairs(max_n=6), K=st.integers(1, 6), data=st.data())
def test_kjs_invariant_under_common_permutation(pair, K, data):
    q1, q0 = pair
    perm = np.array(data.draw(st.permutations(range(q1.size))))
    for method in ("types", "laplace"):
        a = kway_jsd_result(q1, q0, K, method=method)
        b = kway_jsd_result(q1[perm], q0[perm], K, method=method)
        assert abs(a.value - b.value) <= a.error_estimate + b.error_estimate


@PROPERTY
@given(pair=pairs(max_n=5), K=st.integers(2, 6), data=st.data())
def test_infonce_below_kjs(pair, K, data):
    q1, q0 = pair
    n = q1.size
    logs = data.draw(st.lists(st.floats(-8.0, 8.0), min_size=n, max_size=n))
    r = np.exp(np.array(logs))
    got = infonce_divergence_result(r, q1, q0, K, method="types")
    bound = kway_jsd_result(q1, q0, K, method="types")
    assert got.value <= bound.value + got.error_estimate + bound.error_estimate
    assert got.value <= math.log(K) + got.error_estimate


@PROPERTY
@given(pair=pairs(max_n=5, zeros=False), K=st.integers(2, 6),
       scale=st.floats(1e-3, 1e3))
def test_infonce_tight_at_scaled_r_star(pair, K, scale):
    q1, q0 = pair
    assume(np.all(q1 > 0) and np.all(q0 > 0))
    got = infonce_divergence_result(scale * (q1 / q0), q1, q0, K, method="types")
    bound = kway_jsd_result(q1, q0, K, method="types")
    assert abs(got.value - bound.value) <= got.error_estimate + bound.error_estimate + \
        16 * EPS * (1 + abs(bound.value))


@PROPERTY
@given(pair=pairs(max_n=5), K=st.sampled_from([100, 10 ** 5]), data=st.data())
def test_infonce_below_kjs_laplace(pair, K, data):
    q1, q0 = pair
    n = q1.size
    logs = data.draw(st.lists(st.floats(-5.0, 5.0), min_size=n, max_size=n))
    r = np.exp(np.array(logs))
    got = infonce_divergence_result(r, q1, q0, K, method="laplace")
    bound = kway_jsd_result(q1, q0, K, method="laplace")
    assert got.value <= bound.value + got.error_estimate + bound.error_estimate
