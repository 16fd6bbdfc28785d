"""The bounds of Sec. 2-3 (Prop 1, Thm 2, Thm 7, Eq. 5), in nats unless labelled bits.

References: Table 1 (DV, NWJ), Sec. 2.2 (Thm 2 with the paper's numbers 1.19... and 1.93...
bits at D = 2 bits), Sec. 3.2 (Eq. 5) and closed forms derived by hand below.
"""

from __future__ import annotations

import math

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from theory import bounds
from theory.bounds import BETA, E_LOG_R, E_R, D, K
from theory.symbols import symbolic_zero

PROPERTY = settings(max_examples=40, deadline=None)


def eq5_by_hand(beta, elogr, er):
    """Eq. 5 typed from Sec. 3.2 in mpmath: E log r - (b+1) log(b/(b+1) + E r/(b+1))."""
    return elogr - (beta + 1) * mpmath.log(beta / (beta + 1) + er / (beta + 1))


# (the bounds module has no input validation: no error paths to test first)
def test_thm2_kl_term_never_exceeds_log_k():
    # by hand: D - log((e^D - 1)/K + 1) <= log K  <=>  e^D <= e^D - 1 + K, true for K >= 1;
    # so the KL term is the active branch of the min, approaching log K as D -> oo
    value = bounds.thm2_bound(sp.Integer(10), sp.Integer(2))
    kl_term = 10 - math.log1p(math.expm1(10) / 2)
    assert kl_term < math.log(2)
    assert float(value) == pytest.approx(kl_term, rel=1e-14)
    assert symbolic_zero(sp.limit(bounds.thm2_kl_term(D, sp.Integer(2)), D, sp.oo) - sp.log(2))


# ------------------------------------------------------------------------- Table 1 forms
def test_dv_and_nwj_forms():
    # Table 1: DV = E_q1[log r] - log E_q0[r]; NWJ = E_q1[log r] - E_q0[r] + 1
    assert sp.expand(bounds.dv() - (E_LOG_R - sp.log(E_R))) == 0
    assert sp.expand(bounds.nwj() - (E_LOG_R - E_R + 1)) == 0
    # DV >= NWJ (log x <= x - 1), equality at E r = 1
    assert float(bounds.dv(0, 3) - bounds.nwj(0, 3)) == pytest.approx(3 - 1 - math.log(3))


# ---------------------------------------------------------------------------------- Eq. 5
def test_eq5_at_beta_zero_is_dv():
    assert symbolic_zero(bounds.eq5(sp.Integer(0)) - bounds.dv())


def test_eq5_as_beta_grows_is_nwj():
    # by hand: (b+1) log((b + E r)/(b+1)) = (b+1) log(1 + (E r - 1)/(b+1)) -> E r - 1
    limit = sp.limit(bounds.eq5(), BETA, sp.oo)
    assert symbolic_zero(limit - bounds.nwj())
    assert symbolic_zero(limit - (E_LOG_R - E_R + 1))


@PROPERTY
@given(beta=st.floats(0, 1e3), elogr=st.floats(-20, 20), er=st.floats(1e-3, 1e3))
def test_eq5_matches_spec_formula(beta, elogr, er):
    value = bounds.eq5(sp.Float(beta, 30), sp.Float(elogr, 30), sp.Float(er, 30))
    with mpmath.workdps(30):
        expected = eq5_by_hand(mpmath.mpf(beta), mpmath.mpf(elogr), mpmath.mpf(er))
    assert float(value) == pytest.approx(float(expected), rel=1e-13, abs=1e-13)


@PROPERTY
@given(beta=st.floats(1e-3, 1e3), elogr=st.floats(-20, 20), er=st.floats(1e-3, 1e3))
def test_eq5_is_nonincreasing_in_beta(beta, elogr, er):
    # Sec. 3.2: the bound is monotone in beta with DV (beta = 0) the tightest
    with mpmath.workdps(40):
        b, e, x = mpmath.mpf(beta), mpmath.mpf(elogr), mpmath.mpf(er)
        numeric = mpmath.diff(lambda t: eq5_by_hand(t, e, x), b)
        # by hand: d/db = -log u + 1 - 1/u <= 0 with u = (b + E r)/(b + 1) (log u >= 1 - 1/u)
        u = (b + x) / (b + 1)
        closed = -mpmath.log(u) + 1 - 1 / u
        assert numeric <= mpmath.mpf(10) ** -30
        assert abs(numeric - closed) <= mpmath.mpf(10) ** -25 * (1 + abs(closed))
        symbolic = sp.diff(bounds.eq5(), BETA).xreplace(
            {BETA: sp.Float(beta, 40), E_LOG_R: sp.Float(elogr, 40), E_R: sp.Float(er, 40)})
        assert abs(mpmath.mpf(str(sp.N(symbolic, 35))) - closed) <= \
            mpmath.mpf(10) ** -25 * (1 + abs(closed))


def test_eq5_is_thm7_rearranged():
    # (b+1) (thm7_upper - thm7_limit) = D - eq5: Eq. 5 is Thm 7's inequality times (b+1)
    lhs = (BETA + 1) * (bounds.thm7_upper() - bounds.thm7_limit())
    assert symbolic_zero(sp.expand_log(lhs - (D - bounds.eq5()), force=True))


def test_thm7_limit_of_the_lln_objective():
    # -L_{K;nu} + log(K)/(beta+1) with nu = beta K, K -> oo (App. C, Thm 7)
    expr = bounds.anchored_log_objective_lln(K, BETA * K) + sp.log(K) / (BETA + 1)
    limit = sp.limit(expr, K, sp.oo)
    by_hand = BETA / (BETA + 1) * sp.log(BETA) + E_LOG_R / (BETA + 1) - sp.log(BETA + E_R)
    assert symbolic_zero(limit - by_hand)
    assert symbolic_zero(bounds.thm7_limit() - by_hand)


# ---------------------------------------------------------------------------- Prop 1, Thm 2
def test_thm2_paper_numbers_in_bits():
    # Sec. 2.2: with D = 2 bits the bound is 1.19... bits (K = 4), 1.93... bits (K = 64)
    k4 = float(bounds.thm2_bound_bits(sp.Integer(2), sp.Integer(4)))
    k64 = float(bounds.thm2_bound_bits(sp.Integer(2), sp.Integer(64)))
    assert 1.19 <= k4 < 1.20
    assert 1.93 <= k64 < 1.94
    # by hand: 2 - log2(3/4 + 1) and 2 - log2(3/64 + 1)
    assert k4 == pytest.approx(2 - math.log2(1.75), rel=1e-14)
    assert k64 == pytest.approx(2 - math.log2(1 + 3 / 64), rel=1e-14)


@pytest.mark.parametrize("k", [2, 4, 64, 1000])
def test_thm2_bits_and_nats_agree(k):
    d_bits = sp.Integer(2)
    nats = bounds.thm2_kl_term(d_bits * sp.log(2), sp.Integer(k))
    assert float(nats / sp.log(2)) == pytest.approx(float(bounds.thm2_bound_bits(d_bits, k)),
                                                    rel=1e-14)


@PROPERTY
@given(d=st.floats(1e-3, 50), k=st.integers(1, 10**6))
def test_thm2_bound_is_below_prop1(d, k):
    # Thm 2 sharpens Prop 1: D - log((e^D - 1)/K + 1) <= min{log K, D}
    thm2 = float(bounds.thm2_bound(sp.Float(d, 30), sp.Integer(k)))
    prop1 = float(bounds.prop1_bound(sp.Float(d, 30), sp.Integer(k)))
    assert thm2 <= prop1 + 1e-12
    # the KL term by hand, in floats: D - log1p(expm1(D)/K)
    kl_term = d - math.log1p(math.expm1(d) / k)
    assert thm2 == pytest.approx(min(math.log(k), kl_term), rel=1e-10, abs=1e-12)


def test_thm2_at_one_slot_is_zero():
    # K = 1: log K = 0 and D - log(e^D) = 0 (one slot carries no contrast)
    assert symbolic_zero(bounds.thm2_kl_term(D, sp.Integer(1)))
