"""Scoring rules derived from generating functions (Eq. 6, Eq. 8) and their regret (Def. 8).

Reference losses are typed in by hand from the paper's Table 3 and Table 4 (App. D.5: the
symmetric rows from ``theory.paper_rows``, which holds the printed rows and derives nothing) and,
for the asymmetric rules, derived by hand from Eq. 6 with ``Psi(rho) = sum_k psi(rho_k)``: none
comes from the derivations in ``theory``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import mpmath
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.checks import assert_zero, evaluate, rationals
from tests.strategies import alpha_values, simplex_points
from theory import catalogue, paper_rows
from theory.errors import InputError
from theory.generators import AsymmetricGenerator, SymmetricGenerator, parse_generator
from theory.rules import (
    bayes_risk,
    custom_rule,
    expected_loss,
    generating_function,
    induced_rule,
    regret,
    score_gradient,
    symmetric_rule,
)
from theory.symbols import (
    ALPHA,
    class_probabilities,
    odds_symbols,
    simplex_substitution,
)

a = ALPHA
PROPERTY = settings(max_examples=15, deadline=None)


# ------------------------------------------------------------------------------ error paths
def test_induced_rule_wrong_kind_raises():
    with pytest.raises(InputError):
        induced_rule(SymmetricGenerator(sp.Add(*class_probabilities(1)), 1))
    with pytest.raises(InputError):
        symmetric_rule(AsymmetricGenerator(odds_symbols(1)[0] ** 2, 1))


# ------------------------------------------------------ Eq. 6: asymmetric rules (Table 3 top)
def asymmetric_reference(name: str, M: int) -> tuple[sp.Expr, ...]:
    """Eq. 6 by hand for ``Psi = sum_k psi(rho_k)``, ``rho_k = eta_k/eta_0``:
    ``lambda_0 = sum_k (rho_k psi'(rho_k) - psi(rho_k))``, ``lambda_k = -psi'(rho_k)``.

    psi from Table 3:
    * KLIEP ``rho log rho``: ``psi' = log rho + 1`` -> ``lambda_0 = sum rho_k``,
      ``lambda_k = -log rho_k - 1``;
    * robust power ``(rho^a - rho)/(a(a-1))``: ``lambda_0 = sum rho_k^a / a``,
      ``lambda_k = -rho_k^(a-1)/(a-1) + 1/(a(a-1))``;
    * inverse log ``-log rho``: ``lambda_0 = sum (log rho_k - 1)``, ``lambda_k = 1/rho_k``.
    """
    eta = class_probabilities(M)
    rho = [e / eta[0] for e in eta[1:]]
    if name == "kliep":
        return (sp.Add(*rho),) + tuple(-sp.log(r) - 1 for r in rho)
    if name == "robust_power":
        return (sp.Add(*[r**a for r in rho]) / a,) + tuple(
            -r ** (a - 1) / (a - 1) + 1 / (a * (a - 1)) for r in rho)
    if name == "inverse_log":
        return (sp.Add(*[sp.log(r) - 1 for r in rho]),) + tuple(1 / r for r in rho)
    if name == "lsif":  # robust power at alpha = 2
        return (sp.Add(*[r**2 for r in rho]) / 2,) + tuple(-r + sp.Rational(1, 2) for r in rho)
    raise KeyError(name)


@pytest.mark.parametrize("M", [1, 2, 3])
@pytest.mark.parametrize("name", ["kliep", "robust_power", "inverse_log", "lsif"])
def test_eq6_asymmetric_losses_match_spec(name, M):
    rule = catalogue.rule(name, M=M)
    reference = asymmetric_reference(name, M)
    assert rule.classes == M
    assert rule.kind == "asymmetric"
    # Eq. 6 losses are functions of the odds: equal for every positive eta, no simplex needed
    for z, (derived, expected) in enumerate(zip(rule.losses, reference)):
        assert_zero(derived - expected, label=f"{name} lambda_{z}")


def test_eq6_kliep_binary_is_table3_row_exactly():
    # Table 3 (KLIEP): lambda = (rho, -log rho) up to the additive constant -1
    eta0, eta1 = class_probabilities(1)
    rule = catalogue.rule("kliep")
    assert sp.simplify(rule.losses[0] - eta1 / eta0) == 0
    assert sp.simplify(sp.expand_log(rule.losses[1] + sp.log(eta1 / eta0) + 1, force=True)) == 0


# ---------------------------------------------------- Eq. 8: symmetric rules (Table 3/4 bottom)
def symmetric_reference(name: str, M: int) -> tuple[sp.Expr, ...]:
    """``lambda_z`` exactly as Eq. 8 gives it (constants included): the printed rows of
    ``theory.paper_rows`` (typed in from the paper, not derived), plus the constant ``-(M+1)`` of
    the symmetric inverse log, which Eq. 8 gives and Table 4 drops."""
    eta = class_probabilities(M)
    if name == "brier":  # power at alpha = 2: ||eta||^2/2 - eta_z
        return tuple(sp.Add(*[x**2 for x in eta]) / 2 - e for e in eta)
    if name == "spherical":  # pseudo-spherical at alpha = 2: -eta_z/||eta||_2
        return tuple(-e / sp.sqrt(sp.Add(*[x**2 for x in eta])) for e in eta)
    constant = -(M + 1) if name == "sym_inverse_log" else 0
    return tuple(constant + loss for loss in paper_rows.table4_row(name, M))


SYMMETRIC_NAMES = ["log", "power", "sym_inverse_log", "pseudo_spherical", "brier", "spherical"]


@pytest.mark.parametrize("M", [1, 2, 3])
@pytest.mark.parametrize("name", SYMMETRIC_NAMES)
def test_eq8_symmetric_losses_match_spec(name, M):
    rule = catalogue.rule(name, M=M)
    reference = symmetric_reference(name, M)
    eta = class_probabilities(M)
    assert rule.classes == M
    assert rule.kind == "symmetric"
    # Eq. 8 is stated on the simplex: eliminate eta_0, draw eta_1..eta_M inside it
    on_simplex = simplex_substitution(eta)
    inside = {e: (Fraction(1, 50), Fraction(9, 10 * M)) for e in eta[1:]}
    inside[a] = (Fraction(11, 10), Fraction(4))  # admissible for every symmetric family
    for z, (derived, expected) in enumerate(zip(rule.losses, reference)):
        difference = derived - expected
        if assert_zero(difference, label=f"{name} lambda_{z}") == "symbolic":
            continue
        assert_zero(difference.subs(on_simplex), ranges=inside, label=f"{name} lambda_{z}")


def test_eq8_keeps_the_constant_of_sym_inverse_log():
    # Eq. 8 gives -(M+1) and Table 4 drops it; the toolkit must keep it (objective values)
    eta0, eta1 = class_probabilities(1)
    rule = catalogue.rule("sym_inverse_log")
    half = {eta0: sp.Rational(1, 2), eta1: sp.Rational(1, 2)}
    # -(1+1) + 2 log(1/2) + 2 = -2 log 2
    assert sp.simplify(rule.losses[0].xreplace(half) + 2 * sp.log(2)) == 0


def test_eq8_user_generator_matches_hand_derivation():
    # Phi = eta0^2 + 2 eta1^2 (M = 1): grad = (2 eta0, 4 eta1),
    # <grad, eta> - Phi = eta0^2 + 2 eta1^2, lambda_z = that - (grad Phi)_z
    phi = parse_generator("eta0**2 + 2*eta1**2", kind="symmetric", classes=1)
    eta0, eta1 = class_probabilities(1)
    rule = symmetric_rule(phi)
    common = eta0**2 + 2 * eta1**2
    expected = (common - 2 * eta0, common - 4 * eta1)
    for derived, ref in zip(rule.losses, expected):
        assert_zero((derived - ref).subs(eta0, 1 - eta1),
                    ranges={eta1: (Fraction(1, 50), Fraction(49, 50))})


def test_generating_function_of_log_score():
    # App. D.2 by hand: Psi^lambda(rho) = -<rho, lambda(rho/||rho||_1)> with lambda = -log:
    # (1) log(1/(1+rho)) + rho log(rho/(1+rho)) = rho log rho - (1+rho) log(1+rho)
    rho = odds_symbols(1)[0]
    psi = generating_function(catalogue.rule("log")).expr
    assert_zero(psi - (rho * sp.log(rho) - (1 + rho) * sp.log(1 + rho)))


def test_score_gradient_of_log_score_is_minus_one():
    # Eq. 9 by hand: g_z = sum_j eta_j d(-log eta_j)/d eta_z = -1
    for gz in score_gradient(catalogue.rule("log", M=2)):
        assert sp.simplify(gz + 1) == 0


def test_bayes_risk_of_brier():
    # f(eta) = <eta, ||eta||^2/2 - eta> = ||eta||^2 (sum eta)/2 - ||eta||^2
    eta = class_probabilities(2)
    sq = sp.Add(*[e**2 for e in eta])
    f = bayes_risk(catalogue.rule("brier", M=2))
    assert sp.expand(f - (sq * sp.Add(*eta) / 2 - sq)) == 0


# --------------------------------------------------------- regret at random exact points
@lru_cache(maxsize=None)
def cached_rule(name: str, M: int):
    return catalogue.rule(name, M=M)


def regret_value(rule, eta_hat, eta_star, digits: int = 30) -> sp.Float:
    """``Reg(eta_hat || eta*)`` at exact rational points, evaluated to ``digits`` digits."""
    return sp.sympify(regret(rule, rationals(eta_hat), rationals(eta_star))).evalf(digits)


#: |regret| below this at 30 digits is rounding: the terms are O(100) at most here.
ROUNDING = sp.Float("1e-25")

#: (name, strategy of parameter values or None) for every catalogue family and special case
PROPER_RULES = [
    ("kliep", None), ("robust_power", alpha_values()), ("inverse_log", None),
    ("log", None), ("power", alpha_values()), ("sym_inverse_log", None),
    ("pseudo_spherical", alpha_values(low=1)),
    ("lsif", None), ("brier", None), ("spherical", None)]


@pytest.mark.parametrize("M", [1, 2])
@pytest.mark.parametrize("name, alphas", PROPER_RULES, ids=[n for n, _ in PROPER_RULES])
def test_catalogue_rules_are_strictly_proper_at_random_points(name, alphas, M):
    rule = cached_rule(name, M)
    alphas = alphas if alphas is not None else st.just(None)

    @PROPERTY
    @given(eta_star=simplex_points(M), eta_hat=simplex_points(M), alpha=alphas)
    def check(eta_star, eta_hat, alpha):
        fixed = rule if alpha is None else rule.substitute({ALPHA: sp.Rational(alpha.numerator,
                                                                               alpha.denominator)})
        assert not fixed.parameters
        at_truth = regret(fixed, rationals(eta_star), rationals(eta_star))
        assert at_truth == 0  # Reg(eta* || eta*) = 0 by Def. 8
        value = regret_value(fixed, eta_hat, eta_star)
        assert value.is_real
        if eta_hat == eta_star:
            assert abs(value) <= ROUNDING
        else:
            # strictly proper (strictly convex generator): positive away from the truth
            assert value > ROUNDING, (eta_star, eta_hat, alpha, value)

    check()


@pytest.mark.parametrize("M", [1, 2, 3])
@PROPERTY
@given(data=st.data())
def test_log_score_regret_is_kl(M, data):
    eta_star = data.draw(simplex_points(M), label="eta_star")
    eta_hat = data.draw(simplex_points(M), label="eta_hat")
    value = regret_value(cached_rule("log", M), eta_hat, eta_star)
    # KL(eta* || eta_hat) = sum_z eta*_z log(eta*_z / eta_hat_z), computed here with mpmath
    with mpmath.workdps(40):
        kl = mpmath.fsum(mpmath.mpf(s.numerator) / s.denominator
                         * mpmath.log(mpmath.mpf((s / h).numerator) / (s / h).denominator)
                         for s, h in zip(eta_star, eta_hat))
        assert abs(mpmath.mpf(str(value)) - kl) <= mpmath.mpf(10) ** -25


@pytest.mark.parametrize("M", [1, 2, 3])
@PROPERTY
@given(data=st.data())
def test_brier_regret_is_half_squared_distance(M, data):
    eta_star = data.draw(simplex_points(M), label="eta_star")
    eta_hat = data.draw(simplex_points(M), label="eta_hat")
    value = regret(cached_rule("brier", M), rationals(eta_hat), rationals(eta_star))
    # By hand: Reg = <eta*, l(eta_hat) - l(eta*)> with l_z(eta) = ||eta||^2/2 - eta_z and
    # sum eta* = 1: ||eta_hat||^2/2 - <eta*, eta_hat> - ||eta*||^2/2 + ||eta*||^2
    #             = ||eta* - eta_hat||^2 / 2, an exact rational
    expected = sum((s - h) ** 2 for s, h in zip(eta_star, eta_hat)) / 2
    assert value.is_Rational  # exact arithmetic throughout: no rounding to tolerate
    assert value == sp.Rational(expected.numerator, expected.denominator)


@PROPERTY
@given(eta_star=simplex_points(1), eta_hat=simplex_points(1))
def test_expected_loss_is_inner_product(eta_star, eta_hat):
    # d(eta_hat || eta*) = <eta*, lambda(eta_hat)>, with lambda = -log (log score), by hand
    value = expected_loss(cached_rule("log", 1), rationals(eta_hat), rationals(eta_star))
    with mpmath.workdps(40):
        expected = -mpmath.fsum(mpmath.mpf(s.numerator) / s.denominator
                                * mpmath.log(mpmath.mpf(h.numerator) / h.denominator)
                                for s, h in zip(eta_star, eta_hat))
        assert abs(evaluate(value, {}) - expected) <= mpmath.mpf(10) ** -30


def test_custom_rule_keeps_losses_verbatim():
    eta0, eta1 = class_probabilities(1)
    rule = custom_rule([-eta0, -eta1], name="linear")
    assert rule.losses == (-eta0, -eta1)
    assert rule.classes == 1 and rule.kind == "custom"
    # linear score: Reg = <eta*, eta* - eta_hat>; at eta* = (1/2, 1/2), eta_hat = (3/4, 1/4): 0
    # (this score is improper but its regret is 0 at the centre for any eta_hat, by hand)
    r = regret(rule, rationals([Fraction(3, 4), Fraction(1, 4)]),
               rationals([Fraction(1, 2), Fraction(1, 2)]))
    assert r == 0
