"""The catalogue of the paper's Tables 3 and 4 (App. D.5): generating functions only.

Every rule is *derived* from its generating function (Eq. 6 or Eq. 8); nothing here states a
loss.  Each generator is written once, as an indexed sum with a symbolic number of classes,
so that the same definition gives both explicit ``M`` (Tables 3 and 4) and general ``M`` / ``K``
(Tables 4, 6 and 7):

* asymmetric: ``Psi(rho) = sum_{k=1}^M psi(rho_k)`` (binary ``psi`` from Table 3; the paper notes
  that multi-class asymmetric rules reduce to the binary ones in the DRE construction);
* symmetric: ``Phi(eta)`` as a function of sums over ``eta_0..eta_M`` (Table 4).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction

import sympy as sp

from theory.errors import InputError
from theory.generators import Generator, Kind
from theory.rules import ScoringRule, induced_rule, symmetric_rule
from theory.symbols import ALPHA, check_classes, class_probabilities, odds_symbols

#: Index and size symbols of the indexed (general-M) forms.
INDEX = sp.Symbol("k", integer=True, nonnegative=True)
M_SYM = sp.Symbol("M", integer=True, positive=True)
ETA = sp.IndexedBase("eta", positive=True)
RHO = sp.IndexedBase("rho", positive=True)

IndexedBuilder = Callable[[sp.IndexedBase, sp.Expr, sp.Expr], sp.Expr]


@dataclass(frozen=True)
class CatalogueEntry:
    """One row of Table 3 / Table 4: a generating function and what the paper calls it."""

    name: str
    kind: Kind
    title: str
    known_as: str
    build: IndexedBuilder  # (base, lo, hi) -> generator as an indexed Sum over k = lo..hi
    parameters: tuple[sp.Symbol, ...] = ()
    domain: str = ""
    #: admissible parameter values used by numeric checks (within ``domain``)
    samples: tuple[Fraction, ...] = ()
    check_parameters: Callable[[Mapping[str, object]], None] | None = None
    special_cases: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    # -- generators ----------------------------------------------------------------------
    def indexed_generator(self, upper: sp.Expr = M_SYM) -> sp.Expr:
        """The generator for classes ``0..upper`` as an indexed sum (``upper`` may be symbolic)."""
        if self.kind == "asymmetric":
            return self.build(RHO, sp.Integer(1), upper)
        return self.build(ETA, sp.Integer(0), upper)

    def generator(self, M: int = 1, **values: object) -> Generator:
        """The generator with explicit symbols ``rho1..rhoM`` or ``eta0..etaM``."""
        M = check_classes(M)
        fixed = self._fixed(values)
        expr = self.indexed_generator(sp.Integer(M)).doit()
        if self.kind == "asymmetric":
            expr = expr.xreplace({RHO[z]: s for z, s in zip(range(1, M + 1), odds_symbols(M))})
        else:
            expr = expr.xreplace({ETA[z]: s for z, s in enumerate(class_probabilities(M))})
        expr = expr.subs(fixed)
        free = tuple(p for p in self.parameters if p not in fixed)
        return Generator(expr, M, self.kind, free, self.name)

    def rule(self, M: int = 1, **values: object) -> ScoringRule:
        """The rule induced by the generator: Eq. 6 (asymmetric) or Eq. 8 (symmetric)."""
        gen = self.generator(M, **values)
        derive = induced_rule if self.kind == "asymmetric" else symmetric_rule
        rule = derive(gen, name=self.name)
        samples = tuple((p, self.samples) for p in gen.parameters)
        return replace(rule, parameter_samples=samples) if samples else rule

    def _fixed(self, values: Mapping[str, object]) -> dict[sp.Symbol, sp.Expr]:
        names = {str(p): p for p in self.parameters}
        for key in values:
            if key not in names:
                allowed = ", ".join(names) or "none"
                raise InputError(key, f"the {self.name} rule has no parameter {key!r} "
                                 f"(parameters: {allowed})")
        if self.check_parameters is not None:
            self.check_parameters(values)
        return {names[k]: sp.nsimplify(v) for k, v in values.items()}


def _alpha_not_0_1(rule: str) -> Callable[[Mapping[str, object]], None]:
    def check(values: Mapping[str, object]) -> None:
        if "alpha" in values and sp.nsimplify(values["alpha"]) in (0, 1):
            raise InputError("alpha", f"the {rule} rule needs alpha not in {{0, 1}}, got "
                             f"{values['alpha']} (alpha -> 1 is a limit, see theory.limits)")
    return check


def _alpha_above_1(rule: str) -> Callable[[Mapping[str, object]], None]:
    def check(values: Mapping[str, object]) -> None:
        if "alpha" in values and not sp.nsimplify(values["alpha"]) > 1:
            raise InputError("alpha", f"the {rule} rule of this catalogue takes alpha > 1, "
                             f"where ||eta||_alpha and the paper's ||eta||_alpha / (alpha - 1) "
                             f"give the same rule up to a positive factor; got {values['alpha']}")
    return check


def _sum(base: sp.IndexedBase, lo: sp.Expr, hi: sp.Expr, term: Callable[[sp.Expr], sp.Expr]
         ) -> sp.Expr:
    return sp.Sum(term(base[INDEX]), (INDEX, lo, hi))


A = ALPHA
POWER_SAMPLES = (Fraction(1, 2), Fraction(3, 2), Fraction(2), Fraction(3))
ABOVE_ONE_SAMPLES = (Fraction(3, 2), Fraction(2), Fraction(3))

ENTRIES: tuple[CatalogueEntry, ...] = (
    # ------------------------------------------------------------ asymmetric (Table 3 top)
    CatalogueEntry(
        "kliep", "asymmetric", "KLIEP (log)", "KLIEP (DRE), NWJ (MI)",
        lambda b, lo, hi: _sum(b, lo, hi, lambda x: x * sp.log(x))),
    CatalogueEntry(
        "robust_power", "asymmetric", "Robust DRE (power)",
        "Robust DRE; KLIEP as alpha -> 1; LSIF / DRF (chi^2) / spectral contrastive at alpha = 2",
        lambda b, lo, hi: _sum(b, lo, hi, lambda x: (x**A - x) / (A * (A - 1))),
        (A,), "alpha not in {0, 1}", POWER_SAMPLES, _alpha_not_0_1("robust_power"),
        {"lsif": {"alpha": 2}}),
    CatalogueEntry(
        "inverse_log", "asymmetric", "Inverse log", "",
        lambda b, lo, hi: _sum(b, lo, hi, lambda x: -sp.log(x))),
    # ------------------------------------------------------- symmetric (Table 3 bottom, Table 4)
    CatalogueEntry(
        "log", "symmetric", "Log", "log score (Good 1952); InfoNCE-anchor / InfoNCE / JS",
        lambda b, lo, hi: _sum(b, lo, hi, lambda x: x * sp.log(x))),
    CatalogueEntry(
        "power", "symmetric", "Power", "Brier score at alpha = 2",
        lambda b, lo, hi: _sum(b, lo, hi, lambda x: x**A / (A * (A - 1))),
        (A,), "alpha not in {0, 1}", POWER_SAMPLES, _alpha_not_0_1("power"),
        {"brier": {"alpha": 2}}),
    CatalogueEntry(
        "sym_inverse_log", "symmetric", "Symmetric inverse log", "",
        lambda b, lo, hi: -_sum(b, lo, hi, sp.log)),
    CatalogueEntry(
        "pseudo_spherical", "symmetric", "Pseudo-spherical", "spherical score at alpha = 2",
        lambda b, lo, hi: _sum(b, lo, hi, lambda x: x**A) ** (1 / A),
        (A,), "alpha > 1", ABOVE_ONE_SAMPLES, _alpha_above_1("pseudo_spherical"),
        {"spherical": {"alpha": 2}}),
)

_BY_NAME = {e.name: e for e in ENTRIES}
#: special cases: name -> (entry name, parameter values)
SPECIAL_CASES: dict[str, tuple[str, dict[str, int]]] = {
    case: (e.name, dict(values)) for e in ENTRIES for case, values in e.special_cases.items()}


def names() -> list[str]:
    """Catalogue names, then special-case names."""
    return [e.name for e in ENTRIES] + list(SPECIAL_CASES)


def entry(name: str) -> CatalogueEntry:
    """The catalogue entry called ``name`` (special cases resolve to their family)."""
    base = SPECIAL_CASES.get(name, (name, {}))[0]
    if base not in _BY_NAME:
        raise InputError("rule", f"unknown rule {name!r}; known: {', '.join(names())}")
    return _BY_NAME[base]


def rule(name: str, M: int = 1, **values: object) -> ScoringRule:
    """The rule ``name`` on classes ``0..M`` (special cases fix their parameter).

    >>> rule("log", M=2).losses
    (-log(eta0), -log(eta1), -log(eta2))
    """
    base, fixed = SPECIAL_CASES.get(name, (name, {}))
    for key, value in values.items():
        if key in fixed and sp.nsimplify(value) != fixed[key]:
            raise InputError(key, f"{name} is {base} with {key} = {fixed[key]}; got {key} = "
                             f"{value} (use rule({base!r}, {key}=...) for other values)")
    derived = entry(base).rule(M, **{**values, **fixed})
    return derived if base == name else _renamed(derived, name)


def _renamed(r: ScoringRule, name: str) -> ScoringRule:
    return replace(r, name=name)


def by_kind(kind: Kind) -> list[CatalogueEntry]:
    return [e for e in ENTRIES if e.kind == kind]


def resolve_rule(rule: object, alpha: object) -> tuple[str, float | None]:
    """A rule name and its ``alpha`` as ``(family name, alpha)``: special cases (e.g. ``brier``)
    fix ``alpha``; families with a parameter need it (checked against the family's domain)."""
    if not isinstance(rule, str):
        raise InputError("rule", f"must be a rule name ({', '.join(names())}), got {rule!r}")
    found = entry(rule)
    fixed = SPECIAL_CASES.get(rule, (rule, {}))[1]
    if not found.parameters:
        if alpha is not None:
            raise InputError("alpha", f"{rule} has no parameter alpha")
        return found.name, None
    if "alpha" in fixed:
        if alpha is not None and float(alpha) != fixed["alpha"]:
            raise InputError("alpha", f"{rule} is {found.name} with alpha = {fixed['alpha']}")
        return found.name, float(fixed["alpha"])
    if alpha is None:
        raise InputError("alpha", f"{rule} needs alpha ({found.domain})")
    try:
        value = float(alpha)
    except (TypeError, ValueError):
        raise InputError("alpha", f"must be a number, got {alpha!r}") from None
    if not math.isfinite(value):
        raise InputError("alpha", f"must be finite, got {alpha!r}")
    if found.check_parameters is not None:
        found.check_parameters({"alpha": sp.nsimplify(value)})
    return found.name, value
