"""Population values of the Table 1 / Sec. 3.3 estimators (``numerics.exact.estimators``), mutual
information from joint tables (``numerics.exact.mi``) and the classical divergences
(``numerics.exact.divergences``).

References are typed here from Sec. 2.2, Table 1 and Sec. 3.3 as plain loops over the alphabet (one
``math.fsum`` per expectation) or, for the slot estimators, as sums over every configuration with
``itertools.product``; closed forms derived by hand are explained where they are used.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.special import xlogy

from numerics import (
    anchored_divergence,
    chi2,
    f_divergence,
    infonce_divergence,
    js,
    kl,
    kway_jsd,
    population_estimator,
)
from numerics.exact.mi import (
    mi_anchored_divergence,
    mi_kway_jsd,
    mutual_information,
    pmi,
)
from theory.errors import InputError

EPS = float(np.finfo(float).eps)


# --------------------------------------------------------------------------- references
def E(q, values):
    """``E_q[values]`` over the support of ``q`` (values may be inf/NaN off the support)."""
    return math.fsum(float(p) * float(v) for p, v in zip(q, values) if p > 0)


def softplus(x):
    return math.log1p(math.exp(x)) if x < 30 else x + math.log1p(math.exp(-x))


def brute_slots(q1, q0, K, term):
    """``E_{q1(x1) q0(x2..xK)}[term(x_1..x_K)]`` over every configuration."""
    total = []
    for xs in itertools.product(range(len(q1)), repeat=K):
        w = q1[xs[0]] * math.prod(q0[x] for x in xs[1:])
        if w:
            total.append(w * term(xs))
    return math.fsum(total)


def pairs():
    """Full-support pairs (every critic finite and positive, KL finite)."""
    rng = np.random.default_rng(41)
    return [(rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))) for n in (2, 3, 5)]


def critics(n, count=5, seed=42):
    rng = np.random.default_rng(seed + n)
    return [np.exp(rng.normal(0.0, 1.5, n)) for _ in range(count)]


# --------------------------------------------------------------------------- errors first
Q1, Q0, R = [0.2, 0.3, 0.5], [0.5, 0.25, 0.25], [1.0, 2.0, 0.5]


@pytest.mark.parametrize("name,kwargs,argument", [
    ("bogus", {}, "name"),
    ("smile", {}, "tau"),
    ("smile", {"tau": 0.0}, "tau"),
    ("infonce", {}, "K"),
    ("infonce", {"K": 0}, "K"),
    ("alpha_infonce", {"K": 3}, "alpha"),
    ("alpha_infonce", {"K": 3, "alpha": 0.0}, "alpha"),
    ("alpha_infonce", {"K": 3, "alpha": 1.5}, "alpha"),
    ("alpha_infonce", {"K": 1, "alpha": 0.5}, "K"),
    ("mlinfonce", {"K": 3}, "positives"),
    ("mlinfonce", {"K": 3, "positives": 0}, "K"),
])
def test_bad_estimator_arguments(name, kwargs, argument):
    with pytest.raises(InputError) as info:
        population_estimator(name, R, Q1, Q0, **kwargs)
    assert info.value.argument == argument


@pytest.mark.parametrize("critic", [[1.0, 0.0, 1.0], [1.0, -1.0, 1.0], [1.0, float("nan"), 1.0],
                                    [1.0, 2.0]])
def test_bad_critic(critic):
    with pytest.raises(InputError) as info:
        population_estimator("dv", critic, Q1, Q0)
    assert info.value.argument == "critic"


def test_bad_laws():
    with pytest.raises(InputError) as info:
        population_estimator("dv", R, [0.2, 0.3, 0.6], Q0)
    assert info.value.argument == "q1"
    with pytest.raises(InputError) as info:
        kl(Q1, [0.5, 0.5])
    assert info.value.argument == "q0"


# --------------------------------------------------------------------------- Table 1
def by_hand(name, r, q1, q0, tau=None):
    """Table 1, typed as loops: (loss, estimate)."""
    c = [math.log(x) for x in r]
    e_c = E(q1, c)
    dv = e_c - math.log(E(q0, [math.exp(x) for x in c]))
    nwj = e_c - E(q0, [math.exp(x) for x in c]) + 1
    l_js = E(q1, [softplus(-x) for x in c]) + E(q0, [softplus(x) for x in c])
    if name in ("dv", "mine"):
        return -dv, dv
    if name == "nwj":
        return -nwj, nwj
    if name == "js":
        return l_js, nwj
    if name == "smile":
        clipped = [min(max(x, -tau), tau) for x in c]
        return l_js, e_c - math.log(E(q0, [math.exp(x) for x in clipped]))
    if name == "js_plugin":
        return l_js, e_c
    if name == "drf":
        return -2 * E(q1, [math.exp(x) for x in c]) + E(q0, [math.exp(2 * x) for x in c]), e_c
    if name == "fdime_kl":
        return -nwj, e_c
    raise AssertionError(name)


@pytest.mark.parametrize("name", ["dv", "mine", "nwj", "js", "smile", "js_plugin", "drf", "fdime_kl"])
def test_table1_single_slot_estimators(name):
    for q1, q0 in pairs():
        for r in critics(q1.size):
            tau = 0.8
            got = population_estimator(name, r, q1, q0, tau=tau if name == "smile" else None)
            loss, estimate = by_hand(name, list(r), list(q1), list(q0), tau)
            assert got.name == name
            assert got.loss == pytest.approx(loss, rel=1e-13, abs=1e-14)
            assert got.estimate == pytest.approx(estimate, rel=1e-13, abs=1e-14)


def test_estimators_with_zeros_in_the_laws():
    # the expectations run over each law's support: q1 = 0 letters never enter E_q1
    q1, q0 = np.array([0.0, 0.4, 0.6]), np.array([0.3, 0.0, 0.7])
    r = np.array([2.0, 0.5, 1.5])
    for name in ("dv", "nwj", "js", "js_plugin", "drf"):
        got = population_estimator(name, r, q1, q0)
        loss, estimate = by_hand(name, list(r), list(q1), list(q0))
        assert got.loss == pytest.approx(loss, rel=1e-13)
        assert got.estimate == pytest.approx(estimate, rel=1e-13)


def test_dv_tighter_than_nwj_and_both_below_kl():
    # DV - NWJ = E_q0[r] - 1 - log E_q0[r] >= 0 (log x <= x - 1); both <= KL (Table 1 bounds)
    for q1, q0 in pairs():
        D = kl(q1, q0)
        for r in critics(q1.size, count=10):
            dv = population_estimator("dv", r, q1, q0).estimate
            nwj = population_estimator("nwj", r, q1, q0).estimate
            assert dv >= nwj - 1e-14
            assert dv <= D + 1e-14
            assert nwj <= D + 1e-14


def test_dv_tight_at_any_multiple_of_r_star_nwj_only_at_r_star():
    for q1, q0 in pairs():
        D = kl(q1, q0)
        star = q1 / q0
        for C in (0.01, 0.5, 1.0, 3.0, 100.0):
            dv = population_estimator("dv", C * star, q1, q0).estimate
            nwj = population_estimator("nwj", C * star, q1, q0).estimate
            assert dv == pytest.approx(D, rel=1e-12, abs=1e-14)
            # NWJ(C r*) = D + log C - C + 1 (E_q0[r*] = 1): equal to D only at C = 1
            assert nwj == pytest.approx(D + math.log(C) - C + 1, rel=1e-12, abs=1e-13)
            if C != 1.0:
                assert nwj < D - 1e-6


def test_smile_with_large_tau_is_dv_and_js_estimate_is_nwj():
    for q1, q0 in pairs():
        for r in critics(q1.size):
            c_max = float(np.max(np.abs(np.log(r))))
            smile = population_estimator("smile", r, q1, q0, tau=c_max + 1).estimate
            assert smile == pytest.approx(population_estimator("dv", r, q1, q0).estimate,
                                          rel=1e-14, abs=1e-15)


def test_drf_minimised_at_r_star():
    # -2 E_q1[r] + E_q0[r^2] = E_q0[(r - r*)^2] - E_q0[r*^2]: minimum -(1 + chi^2) at r = r*
    for q1, q0 in pairs():
        star = q1 / q0
        best = population_estimator("drf", star, q1, q0).loss
        assert best == pytest.approx(-(1 + chi2(q1, q0)), rel=1e-12)
        for r in critics(q1.size):
            assert population_estimator("drf", r, q1, q0).loss >= best - 1e-12


# --------------------------------------------------------------------------- slot estimators
def test_infonce_and_anchor_estimators_by_brute_force():
    for q1, q0 in pairs()[:2]:
        n = q1.size
        for r in critics(n, count=3):
            for K in (2, 3):
                got = population_estimator("infonce", r, q1, q0, K=K)
                ref = brute_slots(q1, q0, K, lambda xs: math.log(
                    K * r[xs[0]] / math.fsum(r[x] for x in xs)))
                assert got.estimate == pytest.approx(ref, rel=1e-12, abs=1e-13)
                assert got.loss == pytest.approx(math.log(K) - ref, rel=1e-12, abs=1e-13)
                # Eq. 4 typed from Sec. 3, anchored (nu = 0.7) and by default (nu = 1)
                for nu in (0.7, None):
                    v = 1.0 if nu is None else nu
                    joint = brute_slots(q1, q0, K, lambda xs: math.log(
                        r[xs[0]] / (v + math.fsum(r[x] for x in xs))))
                    noise = brute_slots(q0, q0, K, lambda xs: math.log(
                        v / (v + math.fsum(r[x] for x in xs))))
                    loss = -K / (K + v) * joint - v / (K + v) * noise
                    got = population_estimator("infonce_anchor", r, q1, q0, K=K, nu=nu)
                    assert got.loss == pytest.approx(loss, rel=1e-12, abs=1e-13)
                    assert got.estimate == pytest.approx(E(q1, np.log(r)), rel=1e-13)


def brute_alpha(r, q1, q0, K, alpha):
    """Sec. 3.3: E[log(r(x1) / (alpha r(x1) + (1-alpha)/(K-1) sum_{i>=2} r))]."""
    return brute_slots(q1, q0, K, lambda xs: math.log(r[xs[0]] / (
        alpha * r[xs[0]] + (1 - alpha) / (K - 1) * math.fsum(r[x] for x in xs[1:]))))


def test_alpha_infonce_by_brute_force_and_at_alpha_1_over_k():
    for q1, q0 in pairs()[:2]:
        for r in critics(q1.size, count=3):
            for K in (2, 3, 4):
                for alpha in (0.05, 0.5 / K, 1.0 / K, 0.6):
                    got = population_estimator("alpha_infonce", r, q1, q0, K=K, alpha=alpha)
                    ref = brute_alpha(r, q1, q0, K, alpha)
                    assert got.estimate == pytest.approx(ref, rel=1e-9, abs=1e-10)
                    assert got.loss == -got.estimate
                # alpha = 1/K: alpha r1 + (1-alpha)/(K-1) S = (1/K)(r1 + S): InfoNCE
                at = population_estimator("alpha_infonce", r, q1, q0, K=K, alpha=1 / K)
                assert at.estimate == pytest.approx(infonce_divergence(r, q1, q0, K,
                                                                       method="types"),
                                                    rel=1e-9, abs=1e-10)
            # alpha = 1: log(r1/r1) = 0
            assert population_estimator("alpha_infonce", r, q1, q0, K=3,
                                        alpha=1.0).estimate == 0.0


def test_alpha_infonce_at_large_k_matches_infonce_laplace():
    rng = np.random.default_rng(43)
    q1, q0 = rng.dirichlet(np.ones(30)), rng.dirichlet(np.ones(30))
    r = np.exp(rng.normal(0.0, 1.0, 30))
    K = 10 ** 5
    at = population_estimator("alpha_infonce", r, q1, q0, K=K, alpha=1 / K).estimate
    assert at == pytest.approx(infonce_divergence(r, q1, q0, K, method="laplace"), abs=1e-9)


def brute_ml(r, q1, q0, n, m):
    """D_ML (module docstring of numerics.exact.estimators): n positives x_i ~ q1, n(m-1) negatives
    y_k ~ q0, E[(1/n) sum_i log(n m r(x_i) / (sum_j r(x_j) + sum_k r(y_k)))]."""
    size = len(q1)
    total = []
    for xs in itertools.product(range(size), repeat=n):
        for ys in itertools.product(range(size), repeat=n * (m - 1)):
            w = math.prod(q1[x] for x in xs) * math.prod(q0[y] for y in ys)
            if not w:
                continue
            S = math.fsum([r[x] for x in xs] + [r[y] for y in ys])
            total.append(w * math.fsum(math.log(n * m * r[x] / S) for x in xs) / n)
    return math.fsum(total)


def test_mlinfonce_one_positive_is_infonce():
    for q1, q0 in pairs():
        for r in critics(q1.size, count=3):
            for m in (2, 3, 6):
                got = population_estimator("mlinfonce", r, q1, q0, K=m, positives=1).estimate
                assert got == pytest.approx(infonce_divergence(r, q1, q0, m), abs=1e-10)


def test_mlinfonce_by_brute_force():
    q1, q0 = pairs()[1]                       # n = 3 letters
    for r in critics(3, count=3) + [q1 / q0]:
        for positives, m in ((2, 2), (2, 3), (3, 2)):
            got = population_estimator("mlinfonce", r, q1, q0, K=m, positives=positives)
            ref = brute_ml(r, q1, q0, positives, m)
            assert got.estimate == pytest.approx(ref, rel=1e-9, abs=1e-10)
            assert got.loss == -got.estimate
            # each term log(n m r(x_i)/S) <= log(n m) since r(x_i) <= S
            assert got.estimate <= math.log(positives * m) + 1e-12


def test_mlinfonce_below_kl():
    # Song & Ermon (2020b), Sec. 3.3: D_ML(r) <= D(q1 || q0), checked on random critics
    # and at r* (where it approaches D as the number of candidates grows)
    for q1, q0 in pairs():
        D = kl(q1, q0)
        for r in critics(q1.size, count=3) + [q1 / q0]:
            for positives, m in ((2, 2), (3, 4), (20, 50)):
                got = population_estimator("mlinfonce", r, q1, q0, K=m, positives=positives)
                assert got.estimate <= D + 1e-9


# --------------------------------------------------------------------------- numerics.exact.mi
def test_mutual_information_of_independent_table_is_zero():
    rng = np.random.default_rng(44)
    px, py = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(3))
    joint = np.outer(px, py)
    assert abs(mutual_information(joint)) <= 1e-15
    assert abs(mi_kway_jsd(joint, 4)) <= 1e-10
    np.testing.assert_allclose(pmi(joint), 0.0, atol=1e-14)


def test_mutual_information_of_diagonal_table_is_entropy():
    # p(x, y) = p(x) [x = y]: I(X; Y) = H(X)
    rng = np.random.default_rng(45)
    p = rng.dirichlet(np.ones(5))
    joint = np.diag(p)
    H = -math.fsum(x * math.log(x) for x in p)
    assert mutual_information(joint) == pytest.approx(H, rel=1e-13)
    # and on the diagonal the PMI is -log p(x); off it -inf
    values = pmi(joint)
    np.testing.assert_allclose(np.diag(values), -np.log(p), rtol=1e-13)
    assert np.all(np.isneginf(values[~np.eye(5, dtype=bool)]))


def mi_by_hand(joint):
    px, py = joint.sum(axis=1), joint.sum(axis=0)
    return math.fsum(joint[i, j] * math.log(joint[i, j] / (px[i] * py[j]))
                     for i in range(joint.shape[0]) for j in range(joint.shape[1])
                     if joint[i, j] > 0)


def test_mi_slot_divergences():
    rng = np.random.default_rng(46)
    joint = rng.dirichlet(np.ones(12)).reshape(4, 3)
    joint[0, 1] = 0.0
    joint /= joint.sum()
    I = mi_by_hand(joint)
    assert mutual_information(joint) == pytest.approx(I, rel=1e-13)
    px, py = joint.sum(axis=1), joint.sum(axis=0)
    for K in (2, 3, 8, 1000):
        value = mi_kway_jsd(joint, K)
        assert -1e-12 <= value <= min(math.log(K), I) + 1e-10
        # the average over y of D_KJS(p(x|y), p(x)), computed column by column here
        by_col = math.fsum(py[y] * kway_jsd(joint[:, y] / py[y], px, K) for y in range(3))
        assert value == pytest.approx(by_col, rel=1e-13, abs=1e-15)
        assert mi_anchored_divergence(joint, K, 0.0) == pytest.approx(value, abs=1e-10)
        anchored = mi_anchored_divergence(joint, K, 1.0)
        by_col = math.fsum(py[y] * anchored_divergence(joint[:, y] / py[y], px, K, 1.0)
                           for y in range(3))
        assert anchored == pytest.approx(by_col, rel=1e-13, abs=1e-15)


def test_mi_rejects_bad_tables():
    for bad in ([0.5, 0.5], [[0.5, 0.6]], [[0.5, float("nan")]], [[-0.5, 1.5]]):
        with pytest.raises(InputError) as info:
            mutual_information(bad)
        assert info.value.argument == "joint"


# --------------------------------------------------------------------------- divergences
def test_kl_and_chi2_closed_forms():
    for q1, q0 in pairs():
        D = math.fsum(a * math.log(a / b) for a, b in zip(q1, q0))
        X = math.fsum((a - b) ** 2 / b for a, b in zip(q1, q0))       # E_q0[(r* - 1)^2]
        assert kl(q1, q0) == pytest.approx(D, rel=1e-13)
        assert chi2(q1, q0) == pytest.approx(X, rel=1e-12, abs=1e-15)
        assert kl(q1, q1) == 0.0 and abs(chi2(q0, q0)) <= 1e-15
        # log(1 + chi^2) >= KL (Jensen), the inequality Thm 2's proof relies on
        assert math.log1p(chi2(q1, q0)) >= kl(q1, q0)


def test_kl_and_chi2_infinite_off_support_finite_otherwise():
    assert kl([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == math.inf
    assert chi2([0.5, 0.5, 0.0], [0.0, 0.5, 0.5]) == math.inf
    # q1 = 0 where q0 > 0 is harmless: 0 log 0 = 0
    assert kl([0.0, 1.0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-15)
    assert chi2([0.0, 1.0], [0.5, 0.5]) == pytest.approx(1.0, rel=1e-15)


def test_f_divergence_generators():
    cases = pairs() + [(np.array([0.0, 0.4, 0.6]), np.array([0.3, 0.3, 0.4]))]
    for q1, q0 in cases:
        # f(t) = t log t (xlogy handles t = 0) gives KL; f(t) = (t - 1)^2 gives chi^2
        assert f_divergence(lambda t: xlogy(t, t), q1, q0) == pytest.approx(kl(q1, q0),
                                                                            rel=1e-13)
        assert f_divergence(lambda t: (t - 1) ** 2, q1, q0) == pytest.approx(
            chi2(q1, q0), rel=1e-12, abs=1e-15)
    # off q0's support: infinite slope -> inf; a finite slope adds slope * q1(q0 = 0)
    q1, q0 = np.array([0.3, 0.3, 0.4]), np.array([0.0, 0.5, 0.5])
    assert f_divergence(lambda t: xlogy(t, t), q1, q0) == math.inf
    # Jensen-Shannon's generator f(t) = t log t - (1 + t) log((1 + t)/2), f(t)/t -> log 2,
    # gives 2 JS(q1, q0) (JS = (1/2) D(q1||m) + (1/2) D(q0||m)), also off the support
    f_js = lambda t: xlogy(t, t) - (1 + t) * np.log((1 + t) / 2)   # noqa: E731
    for a, b in pairs() + [(q1, q0), (q0, q1)]:
        m = (a + b) / 2
        by_hand = 0.5 * math.fsum(x * math.log(x / y) for x, y in zip(a, m) if x > 0) + \
            0.5 * math.fsum(x * math.log(x / y) for x, y in zip(b, m) if x > 0)
        assert js(a, b) == pytest.approx(by_hand, rel=1e-13)
        assert f_divergence(f_js, a, b, slope_at_infinity=math.log(2)) == pytest.approx(
            2 * by_hand, rel=1e-12)
    assert js([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2), rel=1e-15)


def test_normalize_flag():
    q1, q0 = [2.0, 3.0, 5.0], [1.0, 1.0, 2.0]
    with pytest.raises(InputError):
        kl(q1, q0)
    a, b = np.array(q1) / 10, np.array(q0) / 4
    assert kl(q1, q0, normalize=True) == pytest.approx(kl(a, b), rel=1e-15)
    assert kway_jsd(q1, q0, 3, normalize=True) == pytest.approx(kway_jsd(a, b, 3), rel=1e-14)
