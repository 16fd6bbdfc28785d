"""Theorem 9 as implemented by ``theory.propriety.check_propriety``.

Every witness of impropriety is re-evaluated here from losses derived by hand (not through
``theory.rules.regret``), with mpmath at the witness's exact rational points.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy as sp

from tests.checks import assert_zero
from theory import catalogue, dre
from theory.errors import ImproperRuleError
from theory.generators import parse_generator
from theory.propriety import check_propriety
from theory.rules import custom_rule, induced_rule, properise
from theory.symbols import ALPHA, NU, class_probabilities


def mp(q: sp.Rational | Fraction) -> mpmath.mpf:
    q = sp.Rational(q)
    return mpmath.mpf(q.p) / q.q


def hand_regret(losses, eta_hat, eta_star) -> mpmath.mpf:
    """``<eta*, lambda(eta_hat)> - <eta*, lambda(eta*)>`` (Def. 8) for a Python loss function."""
    hat, star = [mp(v) for v in eta_hat], [mp(v) for v in eta_star]
    return mpmath.fsum(s * (lh - ls) for s, lh, ls in zip(star, losses(hat), losses(star)))


def assert_in_open_simplex(point) -> None:
    assert all(sp.Rational(v) > 0 for v in point), point
    assert sp.Add(*point) == 1, point


# ------------------------------------------------------------------ improper rules (errors)
def test_nonconvex_generator_is_not_proper_and_witness_is_genuine():
    # Psi(rho) = -rho log rho is concave.  Eq. 6 by hand: psi' = -log rho - 1,
    # lambda_0 = rho psi' - psi = -rho, lambda_1 = -psi' = log rho + 1, rho = eta1/eta0.
    rule = induced_rule(parse_generator("-rho*log(rho)", kind="asymmetric", classes=1))
    cert = check_propriety(rule)
    assert cert.proper is False
    assert cert.strictly_proper is False
    assert cert.concavity.holds is False  # the Bayes risk is convex, not concave
    assert cert.stationarity.holds is True  # Lemma 21: Psi-induced rules have g = 0
    w = cert.witness
    assert w is not None and w.regret < 0
    assert_in_open_simplex(w.eta_star)
    assert_in_open_simplex(w.eta_hat)

    def losses(eta):
        rho = eta[1] / eta[0]
        return [-rho, mpmath.log(rho) + 1]

    with mpmath.workdps(40):
        value = hand_regret(losses, w.eta_hat, w.eta_star)
        assert value < 0
        assert float(value) == pytest.approx(float(w.regret), rel=1e-12)


def test_linear_score_is_not_proper_and_witness_is_genuine():
    eta0, eta1 = class_probabilities(1)
    cert = check_propriety(custom_rule([-eta0, -eta1], name="linear"))
    assert cert.proper is False
    # -f = ||eta||^2 is convex, but eta* is not a stationary point of the risk (g != 0)
    assert cert.concavity.holds is True
    assert cert.stationarity.holds is False
    w = cert.witness
    assert w is not None and w.regret < 0
    assert_in_open_simplex(w.eta_star)
    assert_in_open_simplex(w.eta_hat)
    # exact by hand: Reg = <eta*, -eta_hat> - <eta*, -eta*> = <eta*, eta* - eta_hat>
    exact = sum(sp.Rational(s) * (sp.Rational(s) - sp.Rational(h))
                for s, h in zip(w.eta_star, w.eta_hat))
    assert exact < 0
    assert float(w.regret) == pytest.approx(float(exact), rel=1e-12)


def test_linear_score_three_classes_is_not_proper():
    eta = class_probabilities(2)
    cert = check_propriety(custom_rule([-e for e in eta]))
    assert cert.proper is False
    w = cert.witness
    exact = sum(sp.Rational(s) * (sp.Rational(s) - sp.Rational(h))
                for s, h in zip(w.eta_star, w.eta_hat))
    assert exact < 0


@pytest.mark.parametrize("M", [1])
def test_pseudo_spherical_below_its_domain_is_not_proper(M):
    # the catalogue's Phi = ||eta||_alpha needs alpha > 1; at alpha = 1/2 the Bayes risk
    # -||eta||_{1/2} is convex
    rule = catalogue.rule("pseudo_spherical", M=M)
    cert = check_propriety(rule, parameter_values=[{ALPHA: Fraction(1, 2)}])
    assert cert.proper is False
    w = cert.witness
    assert w is not None and w.regret < 0
    assert w.parameters == {"alpha": sp.Rational(1, 2)}
    assert_in_open_simplex(w.eta_star)
    assert_in_open_simplex(w.eta_hat)
    half = mpmath.mpf(1) / 2

    def losses(eta):  # lambda_z = -(eta_z / ||eta||_alpha)^(alpha - 1), Table 4 up to a factor
        norm = mpmath.fsum(e**half for e in eta) ** (1 / half)
        return [-(e / norm) ** (half - 1) for e in eta]

    with mpmath.workdps(40):
        value = hand_regret(losses, w.eta_hat, w.eta_star)
        assert value < 0
        assert float(value) == pytest.approx(float(w.regret), rel=1e-12)


def test_improper_rule_is_refused_by_the_dre_objective():
    rule = induced_rule(parse_generator("-rho*log(rho)", kind="asymmetric", classes=1))
    with pytest.raises(ImproperRuleError):
        dre.dre_objective(rule, 1, NU)


# ------------------------------------------------------------------------- proper rules
CATALOGUE_CASES = [(e.name, 1) for e in catalogue.ENTRIES] + [
    (e.name, 2) for e in catalogue.ENTRIES if e.kind == "symmetric"] + [
    ("lsif", 1), ("brier", 1), ("brier", 2), ("spherical", 1), ("spherical", 2)]


@pytest.mark.parametrize("name, M", CATALOGUE_CASES, ids=[f"{n}-M{m}" for n, m in CATALOGUE_CASES])
def test_catalogue_rules_are_strictly_proper(name, M):
    # default settings: a parametric rule is checked at the parameter samples it declares
    cert = check_propriety(catalogue.rule(name, M=M))
    assert cert.proper is True, cert.as_dict()
    assert cert.strictly_proper is True, cert.as_dict()
    assert cert.witness is None
    assert cert.stationarity.holds and cert.concavity.holds


@pytest.mark.parametrize("name", ["robust_power", "power", "pseudo_spherical"])
def test_declared_parameter_samples_lie_in_the_domain(name):
    # Tables 3-4: power families need alpha not in {0, 1}; the catalogue's pseudo-spherical
    # (Phi = ||eta||_alpha) needs alpha > 1
    rule = catalogue.rule(name, M=1)
    declared = dict(rule.parameter_samples)
    assert set(declared) == {ALPHA}
    samples = [sp.Rational(str(v)) for v in declared[ALPHA]]
    assert samples, "a parametric rule must declare where it is checked"
    assert all(v > 0 and v != 1 for v in samples)
    if name == "pseudo_spherical":
        assert all(v > 1 for v in samples)


def test_dre_objective_accepts_catalogue_pseudo_spherical():
    # (this was refused while alpha = 1/2, outside alpha > 1, was in the default grid)
    objective = dre.dre_objective(catalogue.rule("pseudo_spherical", M=1), 1, NU)
    assert objective.reduced
    assert len(objective.terms) == 2


@pytest.mark.parametrize("alpha", [Fraction(5, 4), 3])
def test_pseudo_spherical_with_fixed_admissible_alpha_is_proper(alpha):
    cert = check_propriety(catalogue.rule("pseudo_spherical", M=1, alpha=alpha))
    assert cert.proper is True


# --------------------------------------------------------------------------- Remark 17
def test_properised_linear_score_is_proper_and_twice_brier():
    eta0, eta1 = class_probabilities(1)
    fixed = properise(custom_rule([-eta0, -eta1], name="linear"))
    cert = check_propriety(fixed)
    assert cert.proper is True
    assert cert.strictly_proper is True
    # By hand: g_z = sum_j eta_j d(-eta_j)/d eta_z = -eta_z, <eta, g> = -||eta||^2, so
    # lambda'_z = -eta_z - eta_z + ||eta||^2 = 2 (||eta||^2/2 - eta_z) = 2 x Brier (Table 3, fn. 3)
    for z, loss in enumerate(fixed.losses):
        assert_zero(loss - (eta0**2 + eta1**2 - 2 * (eta0, eta1)[z]))


def test_properised_nonconvex_rule_is_still_improper():
    # Remark 17 fixes stationarity only; a concave Psi stays improper (Thm 9 condition 1)
    rule = induced_rule(parse_generator("-rho*log(rho)", kind="asymmetric", classes=1))
    cert = check_propriety(properise(rule))
    assert cert.proper is False
    assert cert.concavity.holds is False
    assert cert.witness is not None and cert.witness.regret < 0


def test_certificate_as_dict_reports_witness():
    eta0, eta1 = class_probabilities(1)
    report = check_propriety(custom_rule([-eta0, -eta1], name="linear")).as_dict()
    assert report["proper"] is False
    assert report["rule"] == "linear"
    assert float(report["witness"]["regret_nats"]) < 0
    assert sum(sp.Rational(v) for v in report["witness"]["eta_star"]) == 1
