"""Error paths of ``theory`` (STYLE: error paths first).

Every public input error is an :class:`theory.errors.InputError` whose message reads
``"<argument>: <rule broken>"``; these tests pin the argument named for each bad input.
"""

from __future__ import annotations

import pytest
import sympy as sp

from theory import catalogue, dre
from theory.errors import ImproperRuleError, InputError
from theory.generators import (
    SymmetricGenerator,
    generic_asymmetric,
    generic_symmetric,
    parse_generator,
    perspective,
)
from theory.rules import custom_rule, induced_rule, symmetric_rule
from theory.symbols import NU, check_classes, class_probabilities


def _message(excinfo: pytest.ExceptionInfo) -> str:
    return str(excinfo.value)


# ------------------------------------------------------------------------ the error type
def test_input_error_message_names_argument_then_rule():
    err = InputError("classes", "M must be an integer >= 1, got 0")
    assert str(err) == "classes: M must be an integer >= 1, got 0"
    assert err.argument == "classes"
    assert err.rule == "M must be an integer >= 1, got 0"
    assert isinstance(err, ValueError)


def test_improper_rule_error_is_an_input_error():
    assert issubclass(ImproperRuleError, InputError)


# ------------------------------------------------------------------ catalogue parameters
@pytest.mark.parametrize("family", ["power", "robust_power"])
@pytest.mark.parametrize("alpha", [1, 0, 1.0, sp.Integer(1), "1"])
def test_power_families_reject_alpha_0_and_1(family, alpha):
    with pytest.raises(InputError) as excinfo:
        catalogue.rule(family, alpha=alpha)
    assert _message(excinfo).startswith("alpha:")
    assert excinfo.value.argument == "alpha"


@pytest.mark.parametrize("alpha", [0.5, 1, sp.Rational(1, 3), -2])
def test_pseudo_spherical_needs_alpha_above_one(alpha):
    with pytest.raises(InputError) as excinfo:
        catalogue.rule("pseudo_spherical", alpha=alpha)
    assert _message(excinfo).startswith("alpha:")
    assert "alpha > 1" in _message(excinfo)


@pytest.mark.parametrize("name", ["nope", "Log", "", "brier_score"])
def test_unknown_rule_name(name):
    with pytest.raises(InputError) as excinfo:
        catalogue.rule(name)
    assert _message(excinfo).startswith("rule:")
    assert repr(name) in _message(excinfo)


def test_unknown_parameter_is_named():
    with pytest.raises(InputError) as excinfo:
        catalogue.rule("log", alpha=2)
    assert _message(excinfo).startswith("alpha:")
    with pytest.raises(InputError) as excinfo:
        catalogue.rule("power", beta=2)
    assert _message(excinfo).startswith("beta:")


def test_special_case_rejects_conflicting_parameter():
    # brier is power at alpha = 2: an explicit alpha = 3 must not be silently overridden
    with pytest.raises(InputError) as excinfo:
        catalogue.rule("brier", alpha=3)
    assert _message(excinfo).startswith("alpha:")
    # the consistent value is accepted
    assert catalogue.rule("brier", alpha=2).losses == catalogue.rule("brier").losses


@pytest.mark.parametrize("M", [0, -1, 1.0, True, "2"])
def test_catalogue_rule_rejects_bad_class_count(M):
    with pytest.raises(InputError) as excinfo:
        catalogue.rule("log", M=M)
    assert _message(excinfo).startswith("classes:")


# ---------------------------------------------------------------------- parse_generator
def test_parse_generator_names_undeclared_symbol():
    with pytest.raises(InputError) as excinfo:
        parse_generator("rho*log(x)", kind="asymmetric", classes=1)
    message = _message(excinfo)
    assert message.startswith("expression:")
    assert "undeclared symbol(s) x;" in message


def test_parse_generator_rejects_symmetric_variable_in_asymmetric_generator():
    with pytest.raises(InputError) as excinfo:
        parse_generator("eta0*log(eta0)", kind="asymmetric", classes=1)
    assert _message(excinfo).startswith("expression:")
    assert "eta0" in _message(excinfo)


def test_parse_generator_rejects_variable_beyond_M():
    with pytest.raises(InputError) as excinfo:
        parse_generator("eta0*log(eta0) + eta2", kind="symmetric", classes=1)
    assert _message(excinfo).startswith("expression:")
    assert "eta2" in _message(excinfo)


@pytest.mark.parametrize("classes", [0, -3, 1.5, True, None])
def test_parse_generator_rejects_bad_classes(classes):
    with pytest.raises(InputError) as excinfo:
        parse_generator("rho*log(rho)", kind="asymmetric", classes=classes)
    assert _message(excinfo).startswith("classes:")


@pytest.mark.parametrize("text", ["rho**", "rho log rho", "1/", "", "import os", "rho; 1"])
def test_parse_generator_rejects_unparsable_text(text):
    with pytest.raises(InputError) as excinfo:
        parse_generator(text, kind="asymmetric", classes=1)
    assert _message(excinfo).startswith("expression:")


@pytest.mark.parametrize("text", ["rho*(", "log(rho", "rho.x"])
def test_parse_generator_rejects_text_that_breaks_the_tokenizer(text):
    # tokenize.TokenError / AttributeError from parse_expr must surface as an InputError
    with pytest.raises(InputError) as excinfo:
        parse_generator(text, kind="asymmetric", classes=1)
    assert _message(excinfo).startswith("expression:")


@pytest.mark.parametrize("text", ["f(rho)", "Psi(rho)"])
def test_parse_generator_rejects_undefined_function(text):
    with pytest.raises(InputError) as excinfo:
        parse_generator(text, kind="asymmetric", classes=1)
    assert _message(excinfo).startswith("expression:")
    assert "unknown function" in _message(excinfo)


@pytest.mark.parametrize("text", ["[rho]", "rho == 1"])
def test_parse_generator_rejects_non_scalar(text):
    with pytest.raises(InputError) as excinfo:
        parse_generator(text, kind="asymmetric", classes=1)
    assert _message(excinfo).startswith("expression:")
    assert "not a scalar expression" in _message(excinfo)


@pytest.mark.parametrize("kind", ["asym", "Symmetric", "", None])
def test_parse_generator_rejects_unknown_kind(kind):
    with pytest.raises(InputError) as excinfo:
        parse_generator("rho*log(rho)", kind=kind, classes=1)
    assert _message(excinfo).startswith("kind:")


def test_generator_rejects_unknown_function_of_other_arguments():
    eta = class_probabilities(1)
    with pytest.raises(InputError) as excinfo:
        SymmetricGenerator(sp.Function("f")(eta[0]), 1)
    assert _message(excinfo).startswith("expression:")


# ------------------------------------------------------- rule constructors: wrong kind of input
def test_induced_rule_rejects_symmetric_generator():
    with pytest.raises(InputError) as excinfo:
        induced_rule(generic_symmetric(1))
    assert _message(excinfo).startswith("psi:")


def test_symmetric_rule_rejects_asymmetric_generator():
    with pytest.raises(InputError) as excinfo:
        symmetric_rule(generic_asymmetric(1))
    assert _message(excinfo).startswith("phi:")


def test_perspective_rejects_asymmetric_generator():
    with pytest.raises(InputError) as excinfo:
        perspective(generic_asymmetric(2))
    assert _message(excinfo).startswith("phi:")


def test_custom_rule_rejects_undeclared_symbol():
    eta = class_probabilities(1)
    x = sp.Symbol("x")
    with pytest.raises(InputError) as excinfo:
        custom_rule([-sp.log(eta[0]), -x * eta[1]])
    assert _message(excinfo).startswith("losses:")
    assert "lambda_1" in _message(excinfo) and "x" in _message(excinfo)


def test_custom_rule_needs_two_classes():
    with pytest.raises(InputError) as excinfo:
        custom_rule([sp.Integer(1)])
    assert _message(excinfo).startswith("losses:")


def test_check_classes_names_the_given_argument():
    with pytest.raises(InputError) as excinfo:
        check_classes(0, "M")
    assert _message(excinfo).startswith("M:")


# ------------------------------------------------------------------------------ dre slots
def test_check_slots_rejects_zero_slots():
    with pytest.raises(InputError) as excinfo:
        dre.check_slots(0, 1)
    assert _message(excinfo).startswith("K:")


@pytest.mark.parametrize("K", [-1, 2.0, True, "3"])
def test_check_slots_rejects_non_integer_slots(K):
    with pytest.raises(InputError) as excinfo:
        dre.check_slots(K, 1)
    assert _message(excinfo).startswith("K:")


@pytest.mark.parametrize("nu", [-1, sp.Rational(-1, 2), -0.25, sp.I,
                                sp.Symbol("m", negative=True)])
def test_check_slots_rejects_negative_or_complex_anchor(nu):
    with pytest.raises(InputError) as excinfo:
        dre.check_slots(2, nu)
    assert _message(excinfo).startswith("nu:")


def test_check_slots_rejects_single_slot_without_anchor():
    with pytest.raises(InputError) as excinfo:
        dre.check_slots(1, 0)
    assert _message(excinfo).startswith("nu:")


@pytest.mark.parametrize("nu", [float("nan"), float("inf"), sp.oo, sp.nan, sp.zoo])
def test_check_slots_rejects_non_finite_anchor(nu):
    with pytest.raises(InputError) as excinfo:
        dre.check_slots(2, nu)
    assert _message(excinfo).startswith("nu:")


def test_check_slots_accepts_valid_input():
    # the success path, so that the error tests above cannot pass by always raising
    assert dre.check_slots(1, 1) == (1, 1)
    assert dre.check_slots(3, 0) == (3, 0)
    assert dre.check_slots(2, NU) == (2, NU)


# --------------------------------------------------------------------------- dre_objective
@pytest.mark.parametrize("M, K, nu", [(1, 2, NU), (2, 2, 0), (2, 1, 1), (3, 2, 1)])
def test_dre_objective_rejects_rule_with_wrong_class_count(M, K, nu):
    with pytest.raises(InputError) as excinfo:
        dre.dre_objective(catalogue.rule("log", M=M), K, nu)
    assert _message(excinfo).startswith("rule:")
    assert not isinstance(excinfo.value, ImproperRuleError)


def test_dre_objective_rejects_improper_rule():
    eta = class_probabilities(1)
    linear = custom_rule([-eta[0], -eta[1]], name="linear")
    with pytest.raises(ImproperRuleError) as excinfo:
        dre.dre_objective(linear, 1, 1)
    assert _message(excinfo).startswith("rule:")
    assert "linear is not proper" in _message(excinfo)
    assert "witness" in _message(excinfo)


def test_dre_objective_improper_rule_allowed_on_request():
    eta = class_probabilities(1)
    linear = custom_rule([-eta[0], -eta[1]], name="linear")
    objective = dre.dre_objective(linear, 1, 1, require_proper=False)
    assert objective.rule == "linear"
    assert len(objective.terms) == 2


def test_general_objective_asymmetric_needs_anchor():
    with pytest.raises(InputError) as excinfo:
        dre.general_objective(catalogue.entry("kliep"), anchored=False)
    assert _message(excinfo).startswith("anchored:")
