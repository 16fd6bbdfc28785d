"""The exact-numerics claims of the report (layer ``exact``; in ``infonce_anchor/claims/bounds.py``,
``objectives.py`` and ``estimators.py``), one test each.

Each test runs the claim's check and asserts its status and the evidence it carries; where the
check reports a counterexample, the counterexample is re-derived here independently (brute-force
mutual information over the product space, or a closed form).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from infonce_anchor.claims.catalogue import load
from infonce_anchor.claims.registry import run_claim


def outcome(claim_id: str):
    result = run_claim(load()[claim_id])
    assert not result.crashed, result.outcome.evidence
    return result.outcome


def mutual_information_zx(q1, q0, K: int) -> float:
    """``I(Z; X_{1:K})``, ``Z`` uniform on ``[K]``, by summing over ``[n]^K`` (Thm 2's
    definition of D_KJS, independent of ``numerics``)."""
    q1, q0 = np.asarray(q1, float), np.asarray(q0, float)
    total = 0.0
    for xs in itertools.product(range(q1.size), repeat=K):
        cond = [np.prod([q1[x] if i == z else q0[x] for i, x in enumerate(xs)]) for z in range(K)]
        marginal = sum(cond) / K
        total += sum(c / K * math.log(c / marginal) for c in cond if c > 0)
    return total


def test_exact_claims_are_registered_with_the_exact_layer():
    ids = {"thm2.a", "thm2.b", "thm2.c", "thm2.worst-case", "thm3.minimise", "thm6.exact",
           "thm19.exact", "thm7.a", "thm7.c", "sec3.3.lee-shin", "sec3.3.alpha-not-bound",
           "sec3.3.mlinfonce", "appendix-a", "prop1.exact", "eq5.exact"}
    claims = load()
    for claim_id in ids:
        assert claims[claim_id].layer == "exact" and claims[claim_id].check is not None


def test_thm2_a_infonce_below_kjs():
    out = outcome("thm2.a")
    assert out.status == "verified-exact"
    assert out.details["max_excess_nats"] <= 0


def test_thm2_b_equality_exactly_on_the_ray_of_r_star():
    out = outcome("thm2.b")
    assert out.status == "verified-exact"
    assert out.details["max_equality_gap"] < 1e-12 and out.details["min_strict_gap"] > 0


def test_thm2_c_refuted_with_an_independent_counterexample():
    out = outcome("thm2.c")
    assert out.status == "refuted"
    c = out.details["counterexample"]
    # brute force over the product space; KL((1,0)||(1/2,1/2)) = log 2
    kjs = mutual_information_zx(c["q1"], c["q0"], c["K"])
    D = math.log(2)
    kl_term = D - math.log((math.exp(D) - 1) / c["K"] + 1)
    assert kjs == pytest.approx(math.log(2) / 2, abs=1e-15)
    assert kjs > kl_term + 0.05
    assert c["D_KJS_nats"] == pytest.approx(kjs, abs=1e-15)


def test_thm2_worst_case_exceeds_the_quoted_bounds():
    out = outcome("thm2.worst-case")
    assert out.status == "refuted"
    for K, quoted in ((4, 1.19), (64, 1.93)):
        row = out.details[str(K)]
        assert math.floor(row["bound_bits"] * 100) / 100 == quoted
        # re-derive the binary maximiser's value: q1 = (1, 0), q0 = (1/4, 3/4) has KL = 2 bits
        # and D_KJS = log K - E log(1 + Bin(K - 1, 1/4)) (slots holding letter 0)
        e_log = sum(math.comb(K - 1, k) * 0.25 ** k * 0.75 ** (K - 1 - k) * math.log(1 + k)
                    for k in range(K))
        point_mass = (math.log(K) - e_log) / math.log(2)
        assert row["max_found_bits"] >= point_mass - 1e-9
        assert point_mass > row["bound_bits"]


def test_thm3_minimiser_is_r_star():
    out = outcome("thm3.minimise")
    assert out.status == "verified-exact"
    runs = out.details["runs"]
    assert all(r["max |log r - log r* - C|"] < 1e-4 for r in runs)
    assert all(abs(r["C"]) < 1e-4 for r in runs if r["nu"] > 0)


def test_appendix_a_minimiser_is_the_pmi_ratio():
    assert outcome("appendix-a").status == "verified-exact"


@pytest.mark.parametrize("claim_id", ["thm6.exact", "thm19.exact"])
def test_bregman_identities_hold_exactly(claim_id):
    out = outcome(claim_id)
    assert out.status == "verified-exact", out.evidence


def test_thm7_limit_converges():
    out = outcome("thm7.a")
    assert out.status == "verified-exact"
    for run in out.details["runs"]:
        errors = run["errors_at_K=1e1,1e3,1e5,1e7"]
        assert errors == sorted(errors, reverse=True)  # shrinking with K
        assert errors[-1] < 1e-5


def test_thm7_equality_condition():
    assert outcome("thm7.c").status == "verified-exact"


def test_lee_shin_refuted_and_counterexample_recomputed():
    out = outcome("sec3.3.lee-shin")
    assert out.status == "refuted"
    c = out.details["counterexample"]
    q1, q0, K, alpha = np.array(c["q1"]), np.array(c["q0"]), c["K"], c["alpha"]
    r = np.array(c["argmax_r"])
    # D_alpha(r) by brute force over x_{1:K}
    value = 0.0
    for xs in itertools.product(range(q1.size), repeat=K):
        w = q1[xs[0]] * np.prod(q0[list(xs[1:])])
        value += w * math.log(r[xs[0]] / (alpha * r[xs[0]] +
                                          (1 - alpha) / (K - 1) * r[list(xs[1:])].sum()))
    m = alpha * q1 + (1 - alpha) * q0
    skew = float(np.sum(q1 * np.log(q1 / m)))
    assert value == pytest.approx(c["sup_D_alpha"], rel=1e-9)
    assert value > skew


def test_alpha_below_one_over_k_is_not_a_bound():
    out = outcome("sec3.3.alpha-not-bound")
    assert out.status == "verified-exact"
    d = out.details
    assert d["alpha"] < 1 / d["K"] and d["D_alpha"] > d["KL"]


def test_mlinfonce_below_kl():
    out = outcome("sec3.3.mlinfonce")
    assert out.status == "verified-exact"
    assert all(r["sup_D_ML"] <= r["KL"] + 1e-9 for r in out.details["runs"])


def test_prop1_exact():
    out = outcome("prop1.exact")
    assert out.status == "verified-exact"
    assert out.details["max_minus_log_k"] <= 0 and out.details["max_minus_kl"] <= 0


def test_eq5_exact_is_below_kl_and_monotone():
    out = outcome("eq5.exact")
    assert out.status == "verified-exact"
    assert out.details["max_minus_kl"] < 0 and out.details["max_increase"] <= 0
