"""Thm 2 corrected (issue #13): the envelope ``U_K(D)``, its closed-form bound, the vanishing
family, the chi^2 lower bound, the search, their claims and the shipped search results.

Every expected value is computed here, independently of :mod:`numerics.exact.envelope`:
``D_KJS`` as ``I(Z; X_{1:K})`` summed over every slot configuration (Thm 2's definition), the
binomial sums term by term in mpmath or exact fractions, and at ``K = 10^6`` a moment (delta
method) expansion of ``E log(1 + B)`` with its truncation error stated.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import math
import tomllib
from fractions import Fraction
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from infonce_anchor.claims.catalogue import load
from infonce_anchor.claims.registry import run_claim
from numerics.exact import envelope as env
from numerics.exact.kjs import kway_jsd
from tests.checks import brute_kjs
from theory import bounds
from theory.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
LN2 = math.log(2)
SHIPPED = ROOT / "infonce_anchor" / "shipped_results" / "envelope-search.json"


# ------------------------------------------------------------------------ independent values


def direct_envelope(D: float, K: int, digits: int = 40) -> float:
    """``log K - sum_j C(K-1, j) p^j (1-p)^(K-1-j) log(1 + j)``, term by term in mpmath."""
    with mpmath.workdps(digits):
        p = mpmath.exp(-mpmath.mpf(D))
        n = K - 1
        e_log = mpmath.fsum(mpmath.binomial(n, j) * p**j * (1 - p) ** (n - j) * mpmath.log(1 + j)
                            for j in range(K))
        return float(mpmath.log(K) - e_log)


def delta_method_envelope(D: float, K: int) -> float:
    """``log K - E log(1 + B)`` from the moments of ``B ~ Bin(K-1, p)``: ``E log(m + X)``,
    ``X = B - EB``, ``m = 1 + EB``, expanded to the fourth central moment.  The first term left
    out is ``mu_5/(5 m^5) - mu_6/(6 m^6)``, below ``1e-10`` for ``K = 10^6`` and ``p >= 2^-8``."""
    n, p = K - 1, math.exp(-D)
    q = 1 - p
    m = 1 + n * p
    mu2, mu3 = n * p * q, n * p * q * (q - p)
    mu4 = n * p * q * (1 + 3 * (n - 2) * p * q)
    return math.log(K) - (math.log(m) - mu2 / (2 * m**2) + mu3 / (3 * m**3) - mu4 / (4 * m**4))


def kl(q1, q0) -> float:
    return sum(a * math.log(a / b) for a, b in zip(q1, q0) if a > 0)


def chi2(q1, q0) -> float:
    return sum(a * a / b for a, b in zip(q1, q0) if b > 0) - 1


# ------------------------------------------------------------------------ the envelope
@pytest.mark.parametrize("D", [0.3, math.log(4), 3.0])
@pytest.mark.parametrize("K", [1, 2, 3, 4, 5, 6])
def test_the_point_mass_family_has_the_envelope_as_d_kjs(D, K):
    q1, q0 = env.envelope_pair(D)
    assert list(q1) == [1.0, 0.0] and q0[0] == pytest.approx(math.exp(-D), rel=1e-15)
    assert kl(q1, q0) == pytest.approx(D, rel=1e-14)
    expected = brute_kjs(q1, q0, K)
    assert env.kjs_envelope(D, K) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert kway_jsd(q1, q0, K) == pytest.approx(expected, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("K", [2, 3, 4])
def test_every_constant_ratio_pair_attains_the_envelope(K):
    # r = q1/q0 = 2 on supp q1 = {0, 1}: KL = log 2
    q0, q1 = [0.2, 0.3, 0.5], [0.4, 0.6, 0.0]
    assert brute_kjs(q1, q0, K) == pytest.approx(env.kjs_envelope(math.log(2), K), rel=1e-12)


@pytest.mark.parametrize("D", [1e-10, 1e-3, 0.5 * LN2, 2 * LN2, 8 * LN2, 50.0])
@pytest.mark.parametrize("K", [2, 3, 17, 64, 1000])
def test_envelope_against_the_binomial_sum_term_by_term(D, K):
    expected = direct_envelope(D, K)
    got = env.kjs_envelope_result(D, K)
    assert got.value == pytest.approx(expected, rel=1e-13)
    assert abs(got.value - expected) <= got.error_estimate + 1e-300


@pytest.mark.parametrize("d_bits", [0.5, 2.0, 8.0])
def test_envelope_at_a_million_slots_against_the_moment_expansion(d_bits):
    D, K = d_bits * LN2, 10**6
    expected = delta_method_envelope(D, K)
    assert env.kjs_envelope(D, K) == pytest.approx(expected, abs=1e-10)
    exact = env.kjs_envelope(D, K, dps=30)
    assert isinstance(exact, mpmath.mpf) and float(exact) == pytest.approx(expected, abs=1e-10)


def test_the_mpmath_path_carries_the_digits_asked_for():
    D = 2 * LN2
    a, b = env.kjs_envelope(D, 64, dps=30), env.kjs_envelope(D, 64, dps=50)
    with mpmath.workdps(60):
        p = mpmath.exp(-mpmath.mpf(D))  # D is the float nearest 2 log 2: p is not 1/4 exactly
        ref = mpmath.log(64) - mpmath.fsum(mpmath.binomial(63, j) * p**j * (1 - p) ** (63 - j)
                                           * mpmath.log(1 + j) for j in range(64))
        assert abs(b - ref) < mpmath.mpf(10) ** -48
        assert abs(a - ref) < mpmath.mpf(10) ** -28


def test_the_paper_example_values():
    # D = 2 bits: p = 1/4
    assert env.kjs_envelope(2 * LN2, 4) / LN2 == pytest.approx(1.3239896483360873, rel=1e-14)
    assert env.kjs_envelope(2 * LN2, 64) / LN2 == pytest.approx(direct_envelope(2 * LN2, 64) / LN2,
                                                                rel=1e-14)
    assert round(env.kjs_envelope(2 * LN2, 4) / LN2, 3) == 1.324
    assert round(env.kjs_envelope(2 * LN2, 64) / LN2, 3) == 1.966


def test_the_binomial_inverse_moment_by_exact_summation():
    # E[1/(1+B)] = (1 - (1-p)^K)/(K p), B ~ Bin(K-1, p), in exact fractions
    for p in (Fraction(1, 3), Fraction(1, 4), Fraction(7, 9)):
        for K in range(1, 31):
            n = K - 1
            lhs = sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) / (j + 1) for j in range(K))
            assert lhs == (1 - (1 - p) ** K) / (K * p)


@pytest.mark.parametrize("D", [1e-6, 0.1, 0.5 * LN2, 2 * LN2, 8 * LN2, 40.0])
def test_closed_form_bound_sits_between_the_envelope_and_min_log_k_d(D):
    for K in [1, 2, 3, 4, 7, 16, 64, 1000, 10**5]:
        closed = env.envelope_upper_bound(D, K)
        with mpmath.workdps(40):
            p = mpmath.exp(-mpmath.mpf(D))
            direct = float(D + mpmath.log(1 - (1 - p) ** K))
        assert closed == pytest.approx(direct, rel=1e-13, abs=1e-15)
        assert env.kjs_envelope(D, K) <= closed * (1 + 1e-14) + 1e-300
        assert closed <= min(math.log(K), D) * (1 + 1e-15)
    # strictly below min{log K, D} where float64 resolves the gap
    assert env.envelope_upper_bound(2 * LN2, 4) < min(math.log(4), 2 * LN2) - 0.1


def test_limits_of_the_envelope():
    # D -> 0: C = K-1-B ~ Bin(K-1, 1 - e^-D) is 1 with probability ~ (K-1) D and 0 otherwise,
    # so U = E log(K/(K - C)) ~ (K-1) D log(K/(K-1))
    for K in (2, 5, 100):
        assert env.kjs_envelope(1e-9, K) / 1e-9 == pytest.approx(
            (K - 1) * math.log(K / (K - 1)), rel=1e-6)
    # D -> oo: log K - U = E log(1 + B) = P(B = 1) log 2 + P(B = 2) log 3 + O(p^3)
    p = math.exp(-20.0)
    for K in (2, 5, 100):
        gap = math.log(K) - env.kjs_envelope(20.0, K)
        expected = ((K - 1) * p * (1 - p) ** (K - 2) * math.log(2)
                    + math.comb(K - 1, 2) * p**2 * (1 - p) ** max(K - 3, 0) * math.log(3))
        assert gap == pytest.approx(expected, rel=1e-6)  # float: |error of U| ~ 1e-15 nats
        assert env.kjs_envelope(60.0, K) == pytest.approx(math.log(K), rel=1e-15)
    # K -> oo: D - U ~ (e^D - 1)/(2K) (= chi^2/(2K) on this family)
    D = 2 * LN2
    assert (D - env.kjs_envelope(D, 10**6)) / (3 / 2e6) == pytest.approx(1, rel=1e-3)
    assert env.kjs_envelope(0.0, 7) == 0.0 and env.kjs_envelope(3.0, 1) == 0.0


def test_envelope_increases_in_k_and_in_d():
    Ks = list(range(1, 70)) + [100, 1000, 10**4, 10**5]
    for D in (0.01, 0.5 * LN2, 2 * LN2, 8 * LN2):
        values = [env.kjs_envelope(D, K) for K in Ks]
        assert all(b > a for a, b in itertools.pairwise(values))
    Ds = np.linspace(0.01, 20, 60)
    for K in (2, 4, 64):
        values = [env.kjs_envelope(float(D), K) for D in Ds]
        assert all(b > a for a, b in itertools.pairwise(values))


# ------------------------------------------------------------------------ the infimum
@pytest.mark.parametrize("eps", [1.0, 0.5, 0.1, 0.02])
def test_vanishing_pair_has_kl_d_and_d_kjs_at_most_eps_log_k(eps):
    D = 2 * LN2
    q1, q0 = env.vanishing_pair(D, eps)
    assert kl(q1, q0) == pytest.approx(D, rel=1e-13)
    # q1 = (1 - eps) q0 + eps delta_0
    assert q1[0] == pytest.approx((1 - eps) * q0[0] + eps, rel=1e-15)
    assert q1[1] == pytest.approx((1 - eps) * q0[1], rel=1e-15, abs=1e-300)
    for K in (2, 3, 4):
        assert brute_kjs(q1, q0, K) <= eps * math.log(K) * (1 + 1e-14)
    if eps == 1.0:  # the constant-ratio pair
        assert brute_kjs(q1, q0, 4) == pytest.approx(env.kjs_envelope(D, 4), rel=1e-12)


def test_vanishing_family_goes_to_zero():
    D = 2 * LN2
    values = [brute_kjs(*env.vanishing_pair(D, eps), 4) for eps in (0.5, 0.1, 0.02, 0.005)]
    assert all(b < a for a, b in itertools.pairwise(values))
    assert 0 < values[-1] <= 0.005 * math.log(4)


# ------------------------------------------------------------------------ chi^2 lower bound
def test_chi2_lower_bound_on_random_pairs_by_brute_force():
    rng = np.random.default_rng(2026)
    violations, below_paper = 0, 0
    for n, K in itertools.product((2, 3), (1, 2, 3, 4)):
        for _ in range(6):
            q1, q0 = rng.dirichlet(np.ones(n)), rng.dirichlet(np.full(n, 0.5))
            if rng.random() < 0.3:
                q1[0] = 0.0
                q1 /= q1.sum()
            D, c2 = kl(q1, q0), chi2(q1, q0)
            lower = D - math.log1p(c2 / K)
            assert env.chi2_lower_bound(q1, q0, K) == pytest.approx(lower, rel=1e-12, abs=1e-14)
            kjs = brute_kjs(q1, q0, K)
            violations += kjs < lower - 1e-12
            # the paper's expression replaces chi^2 by e^D - 1 <= chi^2: never below the bound
            paper = D - math.log1p(math.expm1(D) / K)
            assert paper >= lower - 1e-12
            below_paper += kjs < paper - 1e-9
    assert violations == 0
    assert below_paper > 0  # ... and D_KJS can fall below it, so it is no lower bound


def test_chi2_lower_bound_tight_cases():
    q = [0.2, 0.3, 0.5]
    assert env.chi2_lower_bound(q, q, 5) == pytest.approx(0.0, abs=1e-15)
    # K = 1 and r = 2 on supp q1: D = log 2, chi^2 = 1, bound = 0 = D_KJS
    assert env.chi2_lower_bound([0.4, 0.6, 0.0], q, 1) == pytest.approx(0.0, abs=1e-15)
    # on the constant-ratio family chi^2 = e^D - 1: Thm 2's expression, below U_K for K >= 2
    D = 2 * LN2
    q1, q0 = env.envelope_pair(D)
    for K in (2, 4, 64):
        paper = D - math.log((math.exp(D) - 1) / K + 1)
        assert env.chi2_lower_bound(q1, q0, K) == pytest.approx(paper, rel=1e-13)
        assert paper < env.kjs_envelope(D, K) - 1e-3
    assert env.chi2_lower_bound(q1, q0, 4) / LN2 == pytest.approx(2 - math.log2(1.75), rel=1e-13)


# ------------------------------------------------------------------------ the search
def test_search_finds_the_envelope_and_reports_the_excess_honestly():
    D, K = 2 * LN2, 4
    a = env.search_envelope(D, K, letters=(2, 3), starts=2, seed=5)
    assert a.runs == 4 and a.letters in (2, 3)
    assert abs(a.kl - D) <= env.KL_TOLERANCE
    assert a.kjs == pytest.approx(brute_kjs(a.q1, a.q0, K), abs=1e-12)
    assert a.kl == pytest.approx(kl(a.q1, a.q0), abs=1e-15)
    assert a.envelope == pytest.approx(direct_envelope(a.kl, K), rel=1e-13)
    assert a.excess == pytest.approx(a.kjs - a.envelope, abs=1e-15)
    assert a.excess <= a.kjs_error and a.max_excess <= a.max_excess_error
    assert a.kjs == pytest.approx(direct_envelope(D, K), abs=1e-6)  # it reaches U_K(D)
    b = env.search_envelope(D, K, letters=(2, 3), starts=2, seed=5)
    assert a.as_dict() == b.as_dict()


def test_the_shipped_search_results():
    data = json.loads(SHIPPED.read_text())
    rows = data["rows"]
    assert len(rows) == 3 * 4 * 4 and data["counterexamples"] == 0
    assert {(r["D_bits"], r["K"], r["letters"]) for r in rows} == set(
        itertools.product((0.5, 2.0, 8.0), (2, 4, 16, 64), (2, 3, 4, 5)))
    for r in rows:
        assert abs(r["kl_nats"] - r["D_nats"]) <= env.KL_TOLERANCE * max(1, r["D_nats"])
        assert r["excess_nats"] <= r["kjs_error_nats"]
        if r["K"] <= 4 and r["letters"] <= 3:  # brute force is cheap here
            kjs = brute_kjs(r["q1"], r["q0"], r["K"])
            assert kjs == pytest.approx(r["kjs_nats"], abs=1e-12)
            assert kjs <= direct_envelope(kl(r["q1"], r["q0"]), r["K"]) + 1e-12


def test_the_shipped_search_is_package_data():
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["infonce_anchor"]
    assert any(fnmatch.fnmatch("shipped_results/envelope-search.json", p) for p in patterns)


# ------------------------------------------------------------------------ input errors
@pytest.mark.parametrize("call, argument", [
    (lambda: env.kjs_envelope(-1.0, 4), "D"),
    (lambda: env.kjs_envelope(float("nan"), 4), "D"),
    (lambda: env.kjs_envelope(float("inf"), 4), "D"),
    (lambda: env.kjs_envelope("2", 4), "D"),
    (lambda: env.kjs_envelope(True, 4), "D"),
    (lambda: env.kjs_envelope(1.0, 0), "K"),
    (lambda: env.kjs_envelope(1.0, 2.5), "K"),
    (lambda: env.kjs_envelope(1.0, 4, dps=5), "dps"),
    (lambda: env.envelope_upper_bound(-0.1, 4), "D"),
    (lambda: env.envelope_upper_bound(1.0, 0), "K"),
    (lambda: env.envelope_pair(-1.0), "D"),
    (lambda: env.envelope_pair(800.0), "D"),
    (lambda: env.vanishing_pair(0.0, 0.5), "D"),
    (lambda: env.vanishing_pair(1.0, 0.0), "eps"),
    (lambda: env.vanishing_pair(1.0, 1.5), "eps"),
    (lambda: env.vanishing_pair(2 * LN2, 0.001), "eps"),  # q0's letter would underflow
    (lambda: env.chi2_lower_bound([0.5, 0.5], [1.0, 0.0], 2), "q0"),
    (lambda: env.chi2_lower_bound([0.5, 0.6], [0.5, 0.5], 2), "q1"),
    (lambda: env.chi2_lower_bound([0.5, 0.5], [0.5, 0.5], 0), "K"),
    (lambda: env.search_envelope(0.0, 4), "D"),
    (lambda: env.search_envelope(1.0, 4, letters=(1, 2)), "letters"),
    (lambda: env.search_envelope(1.0, 4, letters=()), "letters"),
    (lambda: env.search_envelope(1.0, 4, starts=0), "starts"),
    (lambda: env.search_envelope(1.0, 4, seed=-1), "seed"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.argument == argument


# ------------------------------------------------------------------------ symbolic forms
def test_theory_envelope_is_the_binomial_sum():
    for K in (1, 2, 5):
        expr = bounds.kjs_envelope(K, sp.log(4))
        assert float(expr) == pytest.approx(direct_envelope(math.log(4), K), rel=1e-14, abs=1e-15)
    p = bounds.P
    assert sp.expand(bounds.kjs_envelope_in_p(3) - (sp.log(3) - 2 * p * (1 - p) * sp.log(2)
                                                    - p**2 * sp.log(3))) == 0
    closed = bounds.envelope_upper_bound(sp.log(4), sp.Integer(4))
    assert float(closed) == pytest.approx(math.log(4) + math.log(1 - 0.75**4), rel=1e-14)
    lower = bounds.chi2_lower_bound(sp.log(4), sp.Integer(3), sp.Integer(4))
    assert float(lower) == pytest.approx(math.log(4) - math.log(1.75), rel=1e-14)
    with pytest.raises(InputError):
        bounds.kjs_envelope_in_p(0)


# ------------------------------------------------------------------------ the claims
def outcome(claim_id: str):
    result = run_claim(load()[claim_id])
    assert not result.crashed, result.outcome.evidence
    return result.outcome


def test_claim_thm2_envelope_is_verified_and_calls_maximality_a_conjecture():
    c = load()["thm2.envelope"]
    assert c.layer == "exact" and "no pair found exceeds" in c.statement
    out = outcome("thm2.envelope")
    assert out.status == "verified-exact"
    assert "conjecture" in out.evidence
    assert out.details["exact"]["random_violations"] == 0
    assert out.details["search"]["stored_maximisers"] == 48
    assert out.details["search"]["max_excess_nats"] <= 0
    assert out.details["U_bits_at_D_2_bits"]["4"] == pytest.approx(
        direct_envelope(2 * LN2, 4) / LN2, rel=1e-13)


def test_claim_thm2_lower_bound_is_verified():
    out = outcome("thm2.lower-bound")
    assert out.status == "verified-symbolic"
    assert out.details["violations"] == 0 and all(out.details["steps"]["step1"])
    assert out.details["cases"] >= 300


def test_the_refuted_thm2_claims_name_what_is_true():
    c = outcome("thm2.c")
    assert c.status == "refuted" and "U_K(D)" in c.correction
    w = outcome("thm2.worst-case")
    assert w.status == "refuted" and "U_K(D)" in w.correction
    assert "1.324 bits at K = 4" in w.correction and "1.966 bits at K = 64" in w.correction
