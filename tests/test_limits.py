"""``alpha -> 1`` limits of the parametric catalogue families (Table 3 footnotes, Table 5).

The expected limits are derived by hand (L'Hopital in alpha) in the comments; the limit strings
the module reports are parsed back and compared with them.
"""

from __future__ import annotations

import pytest
import sympy as sp

from theory import catalogue, limits
from theory.symbols import ALPHA, class_probabilities, odds_symbols, symbolic_zero


def parsed(text: str, M: int) -> list[sp.Expr]:
    """The comma-separated limits reported by ``alpha_to_one``, as expressions in our symbols."""
    local = {str(s): s for s in class_probabilities(M) + odds_symbols(M)}
    return [sp.sympify(part, locals=local) for part in text.split(", ")]


# ------------------------------------------------------------------------------ error paths
def test_unknown_family_is_refused():
    with pytest.raises(KeyError):
        limits.alpha_to_one("log")


# ------------------------------------------------------------------------------ the limits
@pytest.mark.parametrize("M", [1, 2])
@pytest.mark.parametrize("family", ["robust_power", "power", "pseudo_spherical"])
def test_alpha_to_one_holds(family, M):
    check = limits.alpha_to_one(family, M)
    assert check.holds is True
    assert check.family == family
    assert check.target == {"robust_power": "kliep", "power": "log",
                            "pseudo_spherical": "log"}[family]


@pytest.mark.parametrize("M", [1, 2])
def test_robust_power_generator_tends_to_kliep(M):
    # (rho^a - rho)/(a(a-1)): numerator and denominator vanish at a = 1; L'Hopital gives
    # rho log rho / (2a - 1) -> rho log rho, the KLIEP generator (Table 3)
    check = limits.alpha_to_one("robust_power", M)
    assert check.quantity == "generator"
    (limit,) = parsed(check.limit, M)
    expected = sp.Add(*[r * sp.log(r) for r in odds_symbols(M)])
    assert symbolic_zero(limit - expected)


@pytest.mark.parametrize("M", [1, 2])
def test_power_loss_differences_tend_to_log_score(M):
    # lambda_z - lambda_0 = (eta_0^(a-1) - eta_z^(a-1))/(a-1) -> log eta_0 - log eta_z,
    # the log score's differences (-log eta_z) - (-log eta_0)
    check = limits.alpha_to_one("power", M)
    eta = class_probabilities(M)
    for z, limit in enumerate(parsed(check.limit, M), start=1):
        assert symbolic_zero(sp.expand_log(limit - (sp.log(eta[0]) - sp.log(eta[z])), force=True))


@pytest.mark.parametrize("M", [1])  # M = 2 is covered by test_alpha_to_one_holds
def test_pseudo_spherical_differences_vanish_then_scale_to_log_score(M):
    # footnote 4: lambda_z - lambda_0 = (eta_0^(a-1) - eta_z^(a-1)) / ||eta||_a^(a-1) -> 0,
    # and divided by (a - 1) it tends to log eta_0 - log eta_z (L'Hopital)
    rule = catalogue.rule("pseudo_spherical", M=M)
    eta = class_probabilities(M)
    for z in range(1, M + 1):
        assert sp.limit(rule.losses[z] - rule.losses[0], ALPHA, 1) == 0
    check = limits.alpha_to_one("pseudo_spherical", M)
    assert "1/(alpha - 1)" in check.quantity
    for z, limit in enumerate(parsed(check.limit, M), start=1):
        assert symbolic_zero(sp.expand_log(limit - (sp.log(eta[0]) - sp.log(eta[z])), force=True))


def test_limit_target_mismatch_would_be_detected():
    # negative control: the power family's differences do not tend to KLIEP's differences
    power = parsed(limits.alpha_to_one("power", 1).limit, 1)[0]
    kliep = catalogue.rule("kliep", M=1)
    eta0, eta1 = class_probabilities(1)
    wrong = power - (kliep.losses[1] - kliep.losses[0])
    point = {eta0: sp.Rational(1, 3), eta1: sp.Rational(2, 3)}
    assert not symbolic_zero(wrong)
    assert abs(float(wrong.xreplace(point))) > 0.1
