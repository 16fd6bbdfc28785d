"""The K-way Jensen-Shannon divergence, the InfoNCE divergence and the anchored divergence
(``numerics.exact.kjs``), against references written here (the paper's Sec. 2.2 and 3).

References, all independent of the code under test:

* ``brute_kjs``: ``D_InfoNCE(r*)`` summed over every ``x_{1:K}`` with ``itertools.product``
  (Sec. 2.2, with the ``r* = inf`` convention of the module docstring: an ``x_1`` with
  ``q0(x_1) = 0 < q1(x_1)`` takes the whole posterior and contributes ``log K``);
* ``mixture_kjs``: the *definition* ``(1/K) sum_z D(p(x|z) || (1/K) sum_z' p(x|z'))`` over the
  product space, in mpmath at 40 digits;
* ``brute_anchored``: ``I(Z; X_{1:K})`` of the anchored class construction (Sec. 3, Eq. 1) as
  ``sum_z p(z) D(p(x|z) || p(x))`` over the product space, in mpmath at 40 digits;
* closed forms derived by hand in the comments (K = 2, K = 1 with nu = 1, the Thm 2 bound).
"""

from __future__ import annotations

import itertools
import math
import warnings

import mpmath
import numpy as np
import pytest

from numerics import (
    anchored_divergence,
    anchored_divergence_result,
    chi2,
    infonce_divergence,
    infonce_divergence_result,
    js,
    kl,
    kway_jsd,
    kway_jsd_result,
)
from theory.errors import InputError

EPS = float(np.finfo(float).eps)
METHODS = ("enumerate", "types", "laplace")


# --------------------------------------------------------------------------- references
def brute_kjs(q1, q0, K):
    """``E_{q1(x1) q0(x2..xK)}[log(K r*(x1) / sum_i r*(x_i))]`` by enumeration (floats, fsum).

    Returns ``(value, bound)`` where ``bound`` is a generous bound on this function's own
    rounding error (each term: a product of ``K`` floats and a log of a sum of ``K`` ratios)."""
    n = len(q1)
    terms, sizes = [], []
    for xs in itertools.product(range(n), repeat=K):
        w = q1[xs[0]]
        for x in xs[1:]:
            w *= q0[x]
        if w == 0:
            continue
        if q0[xs[0]] == 0:          # r*(x1) = inf: the posterior puts all its mass on slot 1
            val = math.log(K)
        else:
            ratios = [q1[x] / q0[x] for x in xs]
            val = math.log(K * ratios[0] / math.fsum(ratios))
        terms.append(w * val)
        sizes.append(w * (abs(val) + 1.0))
    return math.fsum(terms), 8 * (K + 2) * EPS * (math.fsum(sizes) + 1.0)


def product_laws(q1, q0, K):
    """``p(x_{1:K}|z)`` for ``z = 1..K`` (slot ``z`` from ``q1``, the others from ``q0``) and the
    all-``q0`` law, as dicts over ``range(n)^K`` in mpmath.  The float inputs sum to 1 only to
    within ~1e-16; like the code (which documents that it rescales), they are rescaled here,
    exactly, so that 30-digit comparisons are meaningful."""
    n = len(q1)
    a = [mpmath.mpf(x) for x in q1]
    b = [mpmath.mpf(x) for x in q0]
    a = [x / mpmath.fsum(a) for x in a]
    b = [x / mpmath.fsum(b) for x in b]
    points = list(itertools.product(range(n), repeat=K))
    slots = [{xs: mpmath.fprod(a[x] if i == z else b[x] for i, x in enumerate(xs))
              for xs in points} for z in range(K)]
    noise = {xs: mpmath.fprod(b[x] for x in xs) for xs in points}
    return points, slots, noise


def kl_dict(p, m):
    """``D(p || m)`` over a dict of mpmath masses (``0 log 0 = 0``; ``m > 0`` wherever ``p > 0``
    because every ``m`` below is a mixture containing ``p``)."""
    return mpmath.fsum(v * mpmath.log(v / m[k]) for k, v in p.items() if v > 0)


def mixture_kjs(q1, q0, K):
    """Thm 2's definition of D_KJS (Sec. 2.2), 40 digits."""
    with mpmath.workdps(40):
        points, slots, _ = product_laws(q1, q0, K)
        mix = {xs: mpmath.fsum(s[xs] for s in slots) / K for xs in points}
        return mpmath.fsum(kl_dict(s, mix) for s in slots) / K


def brute_anchored(q1, q0, K, nu):
    """``I(Z; X_{1:K}) = sum_z p(z) D(p(x|z) || p(x))`` (Sec. 3, Eq. 1), 40 digits."""
    with mpmath.workdps(40):
        nu = mpmath.mpf(nu)
        points, slots, noise = product_laws(q1, q0, K)
        laws = ([noise] if nu > 0 else []) + slots
        prior = ([nu / (K + nu)] if nu > 0 else []) + [1 / (K + nu)] * K
        mix = {xs: mpmath.fsum(p * law[xs] for p, law in zip(prior, laws)) for xs in points}
        return mpmath.fsum(p * kl_dict(law, mix) for p, law in zip(prior, laws))


def prior_entropy(K, nu):
    """``H(p(z))``, p(0) = nu/(K+nu), p(z) = 1/(K+nu): typed from Sec. 3."""
    probs = ([nu / (K + nu)] if nu > 0 else []) + [1 / (K + nu)] * K
    return -math.fsum(p * math.log(p) for p in probs)


def thm2_bound(D, K):
    """Thm 2 (Sec. 2.2) in nats, as claimed: min{log K, D - log((e^D - 1)/K + 1)}
    (refuted below: see test_thm2_kl_term_is_not_an_upper_bound)."""
    return min(math.log(K), D - math.log1p(math.expm1(D) / K))


# --------------------------------------------------------------------------- test cases
def _dirichlet(rng, n, zeros=()):
    p = rng.dirichlet(np.ones(n))
    p[list(zeros)] = 0.0
    return p / p.sum()


def pairs(n):
    """Distribution pairs on ``n`` letters: full support, zeros in q1, zeros in q0 (q1 mass off
    q0's support), a mismatch both ways, and (n >= 3) a shared zero."""
    rng = np.random.default_rng(100 + n)
    out = {
        "full": (_dirichlet(rng, n), _dirichlet(rng, n)),
        "q1-zero": (_dirichlet(rng, n, [0]), _dirichlet(rng, n)),
        "q0-zero": (_dirichlet(rng, n), _dirichlet(rng, n, [n - 1])),
        "both-ways": (_dirichlet(rng, n, [0]), _dirichlet(rng, n, [n - 1])),
    }
    if n >= 3:
        out["shared-zero"] = (_dirichlet(rng, n, [1]), _dirichlet(rng, n, [1]))
    return out


CASES = [(n, name, K) for n in (2, 3, 4) for name in pairs(n) for K in range(1, 7)]


# --------------------------------------------------------------------------- errors first
def test_unknown_method_is_rejected():
    with pytest.raises(InputError) as info:
        kway_jsd([0.5, 0.5], [0.5, 0.5], 2, method="montecarlo")
    assert info.value.argument == "method"


@pytest.mark.parametrize("K", [0, -1, 2.5, True, "3"])
def test_bad_slot_count_names_k(K):
    with pytest.raises(InputError) as info:
        kway_jsd([0.5, 0.5], [0.5, 0.5], K)
    assert info.value.argument == "K"


def test_anchored_k1_nu0_is_degenerate():
    with pytest.raises(InputError) as info:
        anchored_divergence([0.5, 0.5], [0.3, 0.7], 1, 0)
    assert info.value.argument == "nu"


def test_bad_dps_names_dps():
    with pytest.raises(InputError) as info:
        kway_jsd([0.5, 0.5], [0.3, 0.7], 2, dps=10)
    assert info.value.argument == "dps"


def test_enumeration_limit_points_to_laplace():
    q = np.full(50, 1 / 50)
    with pytest.raises(InputError, match="laplace") as info:
        kway_jsd(q, q, 6, method="enumerate")    # 50^5 configurations > 2,000,000
    assert info.value.argument == "method"


# --------------------------------------------------------------------------- three methods
@pytest.mark.parametrize("n,name,K", CASES)
def test_methods_agree_and_match_brute_force(n, name, K):
    q1, q0 = pairs(n)[name]
    results = {m: kway_jsd_result(q1, q0, K, method=m) for m in METHODS}
    for m, res in results.items():
        assert res.method == m
        assert math.isfinite(res.value) and res.error_estimate >= 0
    for a, b in itertools.combinations(METHODS, 2):
        ra, rb = results[a], results[b]
        assert abs(ra.value - rb.value) <= ra.error_estimate + rb.error_estimate, (a, b)
    ref, ref_err = brute_kjs(list(q1), list(q0), K)
    for m, res in results.items():
        assert abs(res.value - ref) <= res.error_estimate + ref_err, m


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("name", ["full", "q1-zero", "q0-zero", "both-ways", "shared-zero"])
def test_kjs_is_the_mixture_definition(name, K):
    q1, q0 = pairs(3)[name]
    ref = mixture_kjs(q1, q0, K)
    for m in METHODS:
        res = kway_jsd_result(q1, q0, K, method=m)
        assert abs(res.value - float(ref)) <= res.error_estimate + 1e-15, m


def test_disjoint_supports_give_log_k_exactly():
    # every x_1 has r* = inf: the posterior always identifies slot 1, so D_KJS = H(Z) = log K
    for q1, q0 in (([1.0, 0.0], [0.0, 1.0]), ([0.5, 0.5, 0.0], [0.0, 0.0, 1.0])):
        for K in (2, 3, 5):
            for m in METHODS:
                res = kway_jsd_result(q1, q0, K, method=m)
                assert abs(res.value - math.log(K)) <= res.error_estimate + 4 * EPS, (m, K)
            for m in METHODS:
                value = kway_jsd(q1, q0, 3, method=m, dps=20)
                with mpmath.workdps(30):
                    assert abs(value - mpmath.log(3)) < mpmath.mpf(10) ** -19, m


def test_k2_is_js_of_the_product_laws_not_of_q1_q0():
    # Derivation: at K = 2, Z is uniform on {1, 2} and p(x1, x2 | 1) = q1(x1) q0(x2),
    # p(x1, x2 | 2) = q0(x1) q1(x2), so D_KJS = I(Z; X1, X2) = JS(q1 x q0, q0 x q1), the
    # Jensen-Shannon divergence of the two product laws.  It is NOT JS(q1, q0) in general:
    # data processing (keep only X1, whose laws are q1 and q0) gives D_KJS >= JS(q1, q0),
    # strictly here.  (The paper calls D_KJS "a generalization of JSD"; JS(q1, q0) itself is the
    # anchored divergence at K = 1, nu = 1, tested below.)
    for n in (2, 3, 4):
        for name, (q1, q0) in pairs(n).items():
            res = kway_jsd_result(q1, q0, 2, method="types")
            product_js = js(np.outer(q1, q0).ravel(), np.outer(q0, q1).ravel())
            assert abs(res.value - product_js) <= res.error_estimate + 1e-15, (n, name)
            assert res.value >= js(q1, q0) - res.error_estimate
    q1, q0 = pairs(3)["full"]
    assert kway_jsd(q1, q0, 2) > js(q1, q0) + 0.01


# --------------------------------------------------------------------------- bounds
@pytest.mark.parametrize("n,name,K", [c for c in CASES if c[2] >= 2])
def test_bounds(n, name, K):
    q1, q0 = pairs(n)[name]
    res = kway_jsd_result(q1, q0, K)
    D = kl(q1, q0)
    tol = res.error_estimate
    # Prop 1 / Thm 2 (first part): 0 <= D_KJS <= min{log K, D(q1 || q0)}
    assert -tol <= res.value <= min(math.log(K), D) + tol
    if math.isfinite(D):
        # Lower bounds derived here (q1 << q0, so E_q0[r*] = 1 and E_q1[r*] = 1 + chi^2):
        # D_KJS = log K + E_q1[log r*(x1)] - E[log sum_i r*(x_i)], and by Jensen (log concave)
        # E[log sum_i r*(x_i)] <= log E[sum_i r*(x_i)] = log(K + chi^2), so
        # D_KJS >= D - log(1 + chi^2/K); Jensen on x_2..x_K alone gives
        # D_KJS >= E_q1[log(K r*/(r* + K - 1))].
        assert res.value >= D - math.log1p(chi2(q1, q0) / K) - tol
        keep = q1 > 0
        star = q1[keep] / q0[keep]
        assert res.value >= float(q1[keep] @ np.log(K * star / (star + K - 1))) - tol - 1e-15


def test_thm2_kl_term_is_not_an_upper_bound():
    # Thm 2 (Sec. 2.2) claims D_KJS <= D - log((e^D - 1)/K + 1).  It is false.
    # Closed form (by hand): q1 = (1, 0), q0 = (1/2, 1/2), K = 2.  x1 = letter 0 (r* = 2); x2 is
    # letter 0 (r* = 2) or letter 1 (r* = 0) with probability 1/2 each, giving log(2*2/4) = 0 and
    # log(2*2/2) = log 2: D_KJS = (1/2) log 2 = 0.3466 nats.  D = log 2, so the claimed bound is
    # log 2 - log(1/2 + 1) = log(4/3) = 0.2877 nats < D_KJS.
    # (The proof in App. F.2 applies Jensen's inequality in the wrong direction:
    # E[log mean_i r*(x_i)] <= log E[mean_i r*(x_i)], not >=; reversed, the same argument gives
    # the lower bound D - log(1 + chi^2/K) of test_bounds.)
    q1, q0 = [1.0, 0.0], [0.5, 0.5]
    res = kway_jsd_result(q1, q0, 2, dps=30)
    with mpmath.workdps(40):
        assert abs(res.value - mpmath.log(2) / 2) < mpmath.mpf("1e-28")
        assert res.value > mpmath.log(mpmath.mpf(4) / 3) + mpmath.mpf("0.05")
    assert thm2_bound(math.log(2), 2) == pytest.approx(math.log(4 / 3), rel=1e-15)
    # a full-support pair violates it too, at every K below, by far more than the error
    q1, q0 = pairs(2)["full"]
    D = kl(q1, q0)
    for K in (2, 3, 8, 64, 1000):
        res = kway_jsd_result(q1, q0, K)
        excess = res.value - thm2_bound(D, K)
        assert excess > 1e3 * res.error_estimate + 1e-9, K
        # the brute force (K <= 8) confirms the value independently of the code
        if K <= 8:
            ref, ref_err = brute_kjs(list(q1), list(q0), K)
            assert ref - thm2_bound(D, K) > 1e3 * ref_err


def test_k1_is_zero():
    # one slot: Z is constant, so D_KJS = I(Z; X) = 0
    for name, (q1, q0) in pairs(3).items():
        for m in METHODS:
            assert kway_jsd(q1, q0, 1, method=m) == 0.0


def test_monotone_in_k_up_to_2_20():
    rng = np.random.default_rng(7)
    for q1, q0 in ((_dirichlet(rng, 12), _dirichlet(rng, 12)),
                   (_dirichlet(rng, 12, [0, 1]), _dirichlet(rng, 12, [11]))):
        results = [kway_jsd_result(q1, q0, 2 ** j, method="laplace") for j in range(21)]
        for lo, hi in zip(results, results[1:]):
            assert hi.value >= lo.value - (lo.error_estimate + hi.error_estimate)
        assert results[-1].value > results[1].value


def test_tends_to_kl_as_k_grows():
    rng = np.random.default_rng(11)
    q1, q0 = rng.dirichlet(5 * np.ones(20)), rng.dirichlet(5 * np.ones(20))
    D = kl(q1, q0)
    res = kway_jsd_result(q1, q0, 10 ** 12, method="laplace")
    assert res.value <= D + res.error_estimate
    assert abs(res.value - D) <= 1e-9 * D
    # at K = 10^3 it is still short of D, and above the Jensen lower bound of test_bounds
    mid = kway_jsd(q1, q0, 1000, method="laplace")
    assert D - math.log1p(chi2(q1, q0) / 1000) - 1e-10 <= mid < D - 1e-6


def test_support_mismatch_is_finite_without_warnings():
    q1 = np.array([0.3, 0.2, 0.5, 0.0])
    q0 = np.array([0.0, 0.4, 0.3, 0.3])      # q1 puts 0.3 where q0 has none: KL = inf
    assert kl(q1, q0) == math.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for K in (2, 4, 7):
            for m in METHODS:
                res = kway_jsd_result(q1, q0, K, method=m)
                assert math.isfinite(res.value)
                assert 0 <= res.value <= math.log(K) + res.error_estimate
                # each off-support x_1 contributes log K: a lower bound of 0.3 log K
                assert res.value >= 0.3 * math.log(K) - res.error_estimate
            for m in METHODS:
                res = anchored_divergence_result(q1, q0, K, 0.5, method=m)
                assert math.isfinite(res.value)
        res = kway_jsd_result(q1, q0, 10 ** 6, method="laplace")
        assert 0.3 * math.log(10 ** 6) - 1e-9 <= res.value <= math.log(10 ** 6) + 1e-9


# --------------------------------------------------------------------------- mpmath path
@pytest.mark.parametrize("name", ["full", "q1-zero", "q0-zero", "both-ways"])
@pytest.mark.parametrize("method", ["enumerate", "types"])
def test_mpmath_agrees_with_float64(method, name):
    q1, q0 = pairs(3)[name]
    for K in (2, 4):
        low = kway_jsd_result(q1, q0, K, method=method)
        high = kway_jsd_result(q1, q0, K, method=method, dps=30)
        assert isinstance(high.value, mpmath.mpf) and high.dps == 30
        assert abs(high.value - mpmath.mpf(low.value)) <= low.error_estimate
        # and against the 40-digit definition, to the 30 digits asked for
        with mpmath.workdps(40):
            assert abs(high.value - mixture_kjs(q1, q0, K)) < mpmath.mpf("1e-28")


def test_mpmath_laplace_agrees_with_types_to_25_digits():
    for name in ("full", "q0-zero"):
        q1, q0 = pairs(3)[name]
        lap = kway_jsd_result(q1, q0, 3, method="laplace", dps=30)
        typ = kway_jsd_result(q1, q0, 3, method="types", dps=30)
        assert isinstance(lap.value, mpmath.mpf) and isinstance(typ.value, mpmath.mpf)
        assert abs(lap.value - typ.value) < mpmath.mpf("1e-25")
        low = kway_jsd_result(q1, q0, 3, method="laplace")
        assert abs(lap.value - mpmath.mpf(low.value)) <= low.error_estimate


def test_mpmath_types_matches_the_definition_to_28_digits():
    q1, q0 = pairs(3)["both-ways"]
    with mpmath.workdps(40):
        ref = mixture_kjs(q1, q0, 3)
    value = kway_jsd(q1, q0, 3, method="types", dps=30)
    with mpmath.workdps(40):
        assert abs(value - ref) < mpmath.mpf("1e-28")


# --------------------------------------------------------------------------- large K
def test_large_k_small_alphabet_float_vs_mpmath():
    rng = np.random.default_rng(5)
    q1, q0 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    low = kway_jsd_result(q1, q0, 10 ** 6, method="laplace")
    high = kway_jsd_result(q1, q0, 10 ** 6, method="laplace", dps=30)
    assert abs(high.value - low.value) <= max(low.error_estimate, 1e-10 * abs(high.value))


@pytest.mark.slow
def test_large_k_n30_float_vs_mpmath():
    rng = np.random.default_rng(6)
    q1, q0 = rng.dirichlet(np.ones(30)), rng.dirichlet(np.ones(30))
    low = kway_jsd_result(q1, q0, 10 ** 6, method="laplace")
    high = kway_jsd_result(q1, q0, 10 ** 6, method="laplace", dps=30)
    assert abs(high.value - low.value) <= 1e-10 * abs(high.value)
    assert abs(high.value - low.value) <= low.error_estimate


def test_large_k_large_alphabet_error_and_bounds():
    rng = np.random.default_rng(8)
    q1, q0 = rng.dirichlet(np.ones(1000)), rng.dirichlet(np.ones(1000))
    K = 10 ** 6
    res = kway_jsd_result(q1, q0, K)
    assert res.method == "laplace"      # auto: far too many type classes
    assert res.error_estimate / res.value <= 1e-10
    D = kl(q1, q0)
    assert 0 <= res.value <= min(math.log(K), D) + res.error_estimate
    assert res.value >= D - math.log1p(chi2(q1, q0) / K) - res.error_estimate


# --------------------------------------------------------------------------- anchored
ANCHORED = [(K, nu) for K, nu in [(1, 1), (1, 0.3), (2, 0), (2, 0.5), (3, 2), (4, 1)]]


@pytest.mark.parametrize("K,nu", ANCHORED)
@pytest.mark.parametrize("name", ["full", "q1-zero", "q0-zero", "both-ways", "shared-zero"])
def test_anchored_methods_agree_with_brute_force(name, K, nu):
    q1, q0 = pairs(3)[name]
    results = {m: anchored_divergence_result(q1, q0, K, nu, method=m) for m in METHODS}
    for a, b in itertools.combinations(METHODS, 2):
        ra, rb = results[a], results[b]
        assert abs(ra.value - rb.value) <= ra.error_estimate + rb.error_estimate, (a, b)
    ref = float(brute_anchored(q1, q0, K, nu))
    H = prior_entropy(K, nu)
    D = kl(q1, q0)
    for m, res in results.items():
        assert abs(res.value - ref) <= res.error_estimate + 1e-15, m
        assert -res.error_estimate <= res.value <= H + res.error_estimate
        # sum_z p(z) D(p(x|z) || q0^K) >= I(Z; X) (the mixture minimises the average KL), and
        # D(p(x|z) || q0^K) = D(q1 || q0) for z >= 1, 0 for z = 0: I <= K/(K+nu) D
        assert res.value <= K / (K + nu) * D + res.error_estimate


@pytest.mark.parametrize("name", ["full", "q1-zero", "q0-zero", "both-ways"])
def test_anchored_at_nu_0_is_kjs(name):
    q1, q0 = pairs(4)[name]
    for K in (2, 3, 5):
        for m in METHODS:
            a = anchored_divergence_result(q1, q0, K, 0, method=m)
            b = kway_jsd_result(q1, q0, K, method=m)
            assert abs(a.value - b.value) <= a.error_estimate + b.error_estimate


@pytest.mark.parametrize("name", ["full", "q1-zero", "q0-zero", "both-ways"])
def test_anchored_k1_nu1_is_js(name):
    # K = 1, nu = 1: Z uniform on {0, 1}, X ~ q0 given Z = 0 and X ~ q1 given Z = 1, so
    # I(Z; X) = (1/2) D(q1 || m) + (1/2) D(q0 || m), m = (q1 + q0)/2: Jensen-Shannon
    q1, q0 = pairs(4)[name]
    for m in METHODS:
        res = anchored_divergence_result(q1, q0, 1, 1, method=m)
        assert abs(res.value - js(q1, q0)) <= res.error_estimate + 1e-15, m


def test_anchored_mpmath_path():
    q1, q0 = pairs(3)["q0-zero"]
    ref = brute_anchored(q1, q0, 2, 0.5)
    for m in ("enumerate", "types"):
        res = anchored_divergence_result(q1, q0, 2, 0.5, method=m, dps=30)
        assert isinstance(res.value, mpmath.mpf)
        with mpmath.workdps(40):
            assert abs(res.value - ref) < mpmath.mpf("1e-28"), m


# --------------------------------------------------------------------------- InfoNCE(r)
def brute_infonce(r, q1, q0, K):
    """Sec. 2.2: E_{q1(x1) q0(x2..xK)}[log(r(x1) / ((1/K) sum_i r(x_i)))], floats."""
    terms = []
    for xs in itertools.product(range(len(q1)), repeat=K):
        w = q1[xs[0]] * math.prod(q0[x] for x in xs[1:])
        if w:
            terms.append(w * math.log(K * r[xs[0]] / math.fsum(r[x] for x in xs)))
    return math.fsum(terms)


@pytest.mark.parametrize("name", ["full", "q1-zero", "q0-zero", "both-ways"])
def test_infonce_divergence_below_kjs_for_random_critics(name):
    rng = np.random.default_rng(21)
    q1, q0 = pairs(4)[name]
    for K in (2, 3, 5):
        bound = kway_jsd_result(q1, q0, K)
        for _ in range(5):
            r = np.exp(rng.normal(0.0, 2.0, size=4))
            res = infonce_divergence_result(r, q1, q0, K)
            assert res.value <= bound.value + res.error_estimate + bound.error_estimate
            ref = brute_infonce(list(r), list(q1), list(q0), K)
            assert abs(res.value - ref) <= res.error_estimate + 1e-13
            for m in METHODS:
                other = infonce_divergence_result(r, q1, q0, K, method=m)
                assert abs(other.value - res.value) <= other.error_estimate + res.error_estimate


def test_infonce_divergence_is_scale_invariant_and_tight_at_r_star():
    rng = np.random.default_rng(22)
    q1, q0 = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    star = q1 / q0
    for K in (2, 4, 9):
        bound = kway_jsd_result(q1, q0, K)
        for c in (1e-3, 0.5, 1.0, 7.0, 1e4):
            res = infonce_divergence_result(c * star, q1, q0, K)
            assert abs(res.value - bound.value) <= res.error_estimate + bound.error_estimate + \
                1e-14
        # strictly below for a critic not proportional to r*
        r = star * np.exp(rng.normal(0.0, 1.0, size=5))
        assert infonce_divergence(r, q1, q0, K) < bound.value - 1e-6


def test_infonce_divergence_rejects_bad_critics():
    q = [0.5, 0.5]
    for critic, in [([1.0, 0.0],), ([1.0, -1.0],), ([1.0, float("nan")],), ([1.0],),
                    ([1.0, float("inf")],)]:
        with pytest.raises(InputError) as info:
            infonce_divergence(critic, q, q, 2)
        assert info.value.argument == "critic"


def test_infonce_divergence_mpmath_path_to_28_digits():
    # Sec. 2.2's D_InfoNCE, enumerated in mpmath (40 digits; laws rescaled exactly, as documented)
    q1, q0 = pairs(3)["q0-zero"]
    r = [0.7, 1.9, 0.4]
    K = 3
    with mpmath.workdps(40):
        a = [mpmath.mpf(x) for x in q1]
        b = [mpmath.mpf(x) for x in q0]
        a = [x / mpmath.fsum(a) for x in a]
        b = [x / mpmath.fsum(b) for x in b]
        rm = [mpmath.mpf(x) for x in r]
        ref = mpmath.fsum(
            a[xs[0]] * mpmath.fprod(b[x] for x in xs[1:]) *
            mpmath.log(K * rm[xs[0]] / mpmath.fsum(rm[x] for x in xs))
            for xs in itertools.product(range(3), repeat=K))
    for m in ("enumerate", "types"):
        value = infonce_divergence(r, q1, q0, K, method=m, dps=30)
        assert isinstance(value, mpmath.mpf)
        with mpmath.workdps(40):
            assert abs(value - ref) < mpmath.mpf("1e-28"), m
