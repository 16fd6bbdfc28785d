"""DRE objectives L^lambda_{K;nu} (Sec. 3, Sec. 3.4, Prop 20, Tables 1 and 5-7).

The explicit-K objective (``dre_objective``) and the symbolic-K one (``general_objective``) are
derived by different code paths; these tests make them agree after the aggregates of
``p_theta = (nu, r_1, ..., r_K)`` are written out.  InfoNCE, JS and Table 5 references are
typed in from Table 1, Sec. 3 (Eq. 4) and Table 5.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings

from tests.checks import assert_nonzero_somewhere, assert_zero, rationals
from tests.strategies import positive_ratios
from theory import catalogue, dre
from theory.rules import custom_rule
from theory.symbols import ALPHA, K_SYM, NU, class_probabilities, symbolic_zero

ENTRIES = [e.name for e in catalogue.ENTRIES]
SYMMETRIC = [e.name for e in catalogue.ENTRIES if e.kind == "symmetric"]
ASYMMETRIC = [e.name for e in catalogue.ENTRIES if e.kind == "asymmetric"]

#: ranges for the numeric fallback of assert_zero: alpha admissible for every family
RANGES = {ALPHA: (Fraction(11, 10), Fraction(4)), NU: (Fraction(1, 10), Fraction(5))}


@lru_cache(maxsize=None)
def general(name: str, anchored: bool = True):
    return dre.general_objective(catalogue.entry(name), anchored=anchored)


@lru_cache(maxsize=None)
def explicit(name: str, K: int, nu: object = NU):
    # propriety is tested in test_propriety.py (and costs time); here only the algebra matters
    M = dre.required_classes(K, sp.sympify(nu))
    return dre.dre_objective(catalogue.rule(name, M=M), K, nu, require_proper=False)


def aggregates(K: int, nu: sp.Expr) -> dict[sp.Symbol, sp.Expr]:
    """P1 = nu + sum r_i, Palpha = nu^alpha + sum r_i^alpha, Plog = log nu + sum log r_i
    (the nu parts absent when nu = 0), and K itself."""
    r = dre.slot_symbols(K)
    anchor = [nu] if nu != 0 else []
    return {dre.NORM1: sp.Add(*anchor, *r),
            dre.POWER_SUM: sp.Add(*[x**ALPHA for x in anchor + list(r)]),
            dre.LOG_SUM: sp.Add(*[sp.log(x) for x in anchor + list(r)]),
            K_SYM: sp.Integer(K)}


# ------------------------------------------------------------------------------ error paths
def test_prop20_needs_slot_one():
    # K = 1 has no slot to swap with: no residuals, the reduction is trivially valid
    assert dre.prop20_reduction(catalogue.rule("log", M=1), 1, NU) == []


def test_general_objective_refuses_unanchored_asymmetric():
    with pytest.raises(Exception) as excinfo:
        general("kliep", False)
    assert str(excinfo.value).startswith("anchored:")


# -------------------------------------------------- symbolic K agrees with explicit K = 1, 2, 3
@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("name", SYMMETRIC)
def test_general_objective_matches_explicit_anchored(name, K):
    gen, exp = general(name), explicit(name, K)
    assert gen.reduced and exp.reduced  # Prop 20 applies to symmetric rules
    assert [t.sampling for t in gen.terms] == [t.sampling for t in exp.terms] == [
        dre.JOINT, dre.NOISE]
    subs = aggregates(K, NU)
    for g, e in zip(gen.terms, exp.terms):
        assert sp.simplify(g.weight.xreplace(subs) - e.weight) == 0
        assert_zero(g.integrand.xreplace(subs) - e.integrand, ranges=RANGES,
                    label=f"{name} K={K} {g.sampling}")


@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("name", SYMMETRIC)
def test_general_objective_matches_explicit_without_anchor(name, K):
    # nu = 0: classes 1..K only, the rule on K classes (M = K - 1), Table 7
    gen, exp = general(name, False), explicit(name, K, 0)
    assert exp.nu == 0 and gen.nu == 0
    assert len(gen.terms) == len(exp.terms) == 1
    subs = aggregates(K, sp.Integer(0))
    (g,), (e,) = gen.terms, exp.terms
    assert e.sampling == g.sampling == dre.JOINT
    assert sp.simplify(g.weight.xreplace(subs) - e.weight) == 0
    assert e.weight == 1
    assert_zero(g.integrand.xreplace(subs) - e.integrand, ranges=RANGES,
                label=f"{name} K={K} nu=0")


@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("name", ASYMMETRIC)
def test_general_objective_matches_explicit_asymmetric(name, K):
    gen, exp = general(name), explicit(name, K)
    (g_pos, g_noise), (e_pos, e_noise) = gen.terms, exp.terms
    r = dre.slot_symbols(K)
    subs = aggregates(K, NU)
    # positive term: same weight K/(K+nu), single-slot integrand at r = r1
    assert sp.simplify(g_pos.weight.xreplace(subs) - e_pos.weight) == 0
    assert_zero(g_pos.integrand.xreplace({dre.R: r[0]}) - e_pos.integrand, ranges=RANGES)
    # class 0: lambda_0 is a sum over slots, so the explicit integrand is the sum of the
    # general single-slot integrand over r_1..r_K, and E_{q0^K}[sum_i h(r_i)] = K E_{q0}[h]
    per_slot = sp.Add(*[g_noise.integrand.xreplace({dre.R: ri}) for ri in r])
    assert_zero(per_slot - e_noise.integrand, ranges=RANGES, label=f"{name} K={K} class 0")
    assert sp.simplify(g_noise.weight.xreplace(subs) - K * e_noise.weight) == 0


@pytest.mark.parametrize("name", ASYMMETRIC)
def test_asymmetric_objective_is_table5_row(name):
    # Table 5 (App. E.3; per unit of the positive weight K/(K+nu), nu = 1, up to a
    # constant): log E_q1[-log r] + E_q0[r]; power E_q1[(r^(a-1) - 1)/(1-a)] + E_q0[r^a]/a;
    # inverse log E_q1[1/r] + E_q0[log r]
    r, a = dre.R, ALPHA
    table5 = {"kliep": (-sp.log(r), r),
              "robust_power": ((r ** (a - 1) - 1) / (1 - a), r**a / a),
              "inverse_log": (1 / r, sp.log(r))}[name]
    pos, noise = general(name).terms
    at_one = {NU: sp.Integer(1)}
    ratio = (noise.weight / pos.weight).xreplace(at_one)  # nu = 1
    per_positive_weight = [pos.integrand.xreplace(at_one), ratio * noise.integrand.xreplace(at_one)]
    for derived, printed in zip(per_positive_weight, table5):
        # equal up to an additive constant: the r-derivative of the difference vanishes
        assert_zero(sp.diff(derived - printed, r), ranges=RANGES, label=name)


# ----------------------------------------------------------------------------- Prop 20
@pytest.mark.parametrize("K", [2, 3])
@pytest.mark.parametrize("name", ENTRIES)
def test_prop20_reduction_holds_for_catalogue(name, K):
    rule = catalogue.rule(name, M=K)
    residuals = dre.prop20_reduction(rule, K, NU)
    assert len(residuals) == K - 1
    for res in residuals:
        assert_zero(res, ranges=RANGES, label=f"{name} K={K}")


@pytest.mark.parametrize("K", [2, 3])
def test_prop20_reduction_holds_without_anchor(K):
    residuals = dre.prop20_reduction(catalogue.rule("log", M=K - 1), K, 0)
    assert len(residuals) == K - 1
    assert all(symbolic_zero(res) for res in residuals)


def test_prop20_reduction_fails_for_rule_not_swap_invariant():
    # lambda_2 = -2 log eta_2 differs from lambda_1 = -log eta_1 after relabelling slots 1 <-> 2
    eta = class_probabilities(2)
    lopsided = custom_rule([-sp.log(eta[0]), -sp.log(eta[1]), -2 * sp.log(eta[2])],
                           name="lopsided")
    (residual,) = dre.prop20_reduction(lopsided, 2, NU)
    assert not symbolic_zero(residual)
    r1, r2 = dre.slot_symbols(2)
    # at r = (1, 1), nu = 1: -2 log(1/3) + log(1/3) = log 3
    value = assert_nonzero_somewhere(residual, {r1: 1, r2: 1, NU: 1})
    assert float(value) == pytest.approx(float(sp.log(3)), rel=1e-14)
    objective = dre.dre_objective(lopsided, 2, NU, require_proper=False)
    assert objective.reduced is False
    assert len(objective.terms) == 3  # class 0, 1, 2 kept separately


# ------------------------------------------------------------ log score: InfoNCE and JS
@pytest.mark.parametrize("K", [2, 3, 4])
def test_log_objective_without_anchor_is_infonce(K):
    objective = dre.dre_objective(catalogue.rule("log", M=K - 1), K, 0)
    (term,) = objective.terms
    assert term.weight == 1 and term.sampling == dre.JOINT
    r = dre.slot_symbols(K)
    # Sec. 2.2: D_InfoNCE = E[log(r1 / ((1/K) sum r))]; the loss is -D_InfoNCE + log K
    infonce = sp.log(r[0] / (sp.Add(*r) / K))
    assert_zero(term.integrand - (-infonce + sp.log(K)))
    assert_zero(term.integrand + sp.log(r[0] / sp.Add(*r)))


@pytest.mark.parametrize("K", [1, 2, 3])
def test_log_objective_is_eq4(K):
    # Eq. 4 (Sec. 3): -(K/(K+nu)) log(r1/(nu+sum r)) - (nu/(K+nu)) log(nu/(nu+sum r))
    objective = dre.dre_objective(catalogue.rule("log", M=K), K, NU)
    r = dre.slot_symbols(K)
    total = NU + sp.Add(*r)
    eq4 = [(K / (K + NU), -sp.log(r[0] / total)), (NU / (K + NU), -sp.log(NU / total))]
    for term, (weight, integrand) in zip(objective.terms, eq4):
        assert sp.simplify(term.weight - weight) == 0
        assert_zero(term.integrand - integrand)


def test_log_objective_single_slot_unit_anchor_is_js():
    objective = dre.dre_objective(catalogue.rule("log", M=1), 1, 1)
    (joint, noise) = objective.terms
    assert joint.weight == sp.Rational(1, 2) and noise.weight == sp.Rational(1, 2)
    r1 = dre.slot_symbols(1)[0]
    c = np.linspace(-30.0, 30.0, 241)
    on_q1 = sp.lambdify(r1, joint.integrand, "numpy")(np.exp(c))
    on_q0 = sp.lambdify(r1, noise.integrand, "numpy")(np.exp(c))
    # Table 1 (JS / NT-Logistic): softplus(-c) under q1, softplus(c) under q0, r = e^c;
    # softplus(x) = log(1 + e^x) = logaddexp(0, x) in numpy
    np.testing.assert_allclose(on_q1, np.logaddexp(0.0, -c), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(on_q0, np.logaddexp(0.0, c), rtol=1e-12, atol=1e-13)


@settings(max_examples=30, deadline=None)
@given(ratios=positive_ratios(3))
def test_pointwise_objective_sums_class_terms(ratios):
    # Sec. 3.4: against prod q0, class z >= 1 has density r*(x_z), class 0 density 1
    rule = catalogue.rule("log", M=3)
    s = rationals(ratios)
    value = dre.pointwise_objective(rule, 3, NU, s)
    r = dre.slot_symbols(3)
    total = NU + sp.Add(*r)
    by_hand = (NU / (3 + NU)) * -sp.log(NU / total) + sp.Add(*[
        si / (3 + NU) * -sp.log(ri / total) for si, ri in zip(s, r)])
    assert_zero(value - by_hand, points=3)


def test_model_and_true_posterior_sum_to_one():
    for K, nu in [(1, NU), (3, NU), (3, 0)]:
        eta = dre.model_posterior(K, nu)
        assert len(eta) == (K + 1 if nu != 0 else K)
        assert sp.simplify(sp.Add(*eta) - 1) == 0
        s = sp.symbols(f"s1:{K + 1}", positive=True)
        assert sp.simplify(sp.Add(*dre.true_posterior(K, nu, s)) - 1) == 0


def test_prop20_invariance_hypothesis():
    """App. E.2: catalogue rules are {z1, z2}-invariant on 1..K; a skewed rule is not."""
    from theory.dre import prop20_invariant, swap_invariant
    from theory.rules import custom_rule
    from theory.symbols import class_probabilities

    for name in ("log", "power", "kliep", "pseudo_spherical"):
        assert prop20_invariant(catalogue.rule(name, M=3))
    e = class_probabilities(2)
    skewed = custom_rule([-sp.log(e[0]), -sp.log(e[1]), -2 * sp.log(e[2])])
    assert not swap_invariant(skewed, 1, 2)
    assert not prop20_invariant(skewed)
