"""Scoring rules induced by generating functions, and back (Eq. 6, Eq. 8, App. D.2, Remark 17).

A scoring rule on classes ``0..M`` is a loss vector ``lambda(eta) = (lambda_0..lambda_M)``;
lower is better.  Losses are sympy expressions in ``eta0..etaM``; rules induced by a Psi are
written through the odds ``eta_z / eta_0`` and are therefore valid for any positive ``eta``;
rules induced by a Phi are stated on the simplex.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction

import sympy as sp
from sympy.core.function import AppliedUndef

from theory.errors import InputError
from theory.generators import Generator
from theory.symbols import (
    ALPHA,
    check_classes,
    class_probabilities,
    memoised,
    odds_of,
    odds_symbols,
    simplified,
)


@dataclass(frozen=True)
class ScoringRule:
    """``lambda = (lambda_0, ..., lambda_M)`` as sympy expressions in ``eta0..etaM``."""

    name: str
    kind: str  # "asymmetric" | "symmetric" | "custom"
    losses: tuple[sp.Expr, ...]
    parameters: tuple[sp.Symbol, ...] = ()
    generator: Generator | None = None
    #: admissible values per parameter, used by numeric checks: ``((alpha, (3/2, 2, 3)), ...)``
    parameter_samples: tuple[tuple[sp.Symbol, tuple[Fraction, ...]], ...] = ()

    @property
    def classes(self) -> int:
        """``M``: the rule has ``M + 1`` classes ``0..M``."""
        return len(self.losses) - 1

    @property
    def eta(self) -> tuple[sp.Symbol, ...]:
        return class_probabilities(self.classes)

    def at(self, point: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
        """The loss vector at ``eta = point`` (generic functions are re-evaluated there)."""
        if len(point) != len(self.losses):
            raise InputError("point", f"a point of the simplex on classes 0..{self.classes} "
                             f"has {len(self.losses)} coordinates, got {len(point)}")
        return tuple(_at(loss, self.eta, point) for loss in self.losses)

    def substitute(self, values: Mapping[sp.Symbol, object]) -> "ScoringRule":
        fixed = {p: sp.sympify(v) for p, v in values.items()}
        gen = self.generator.substitute(fixed) if self.generator is not None else None
        return replace(self, losses=tuple(l.subs(fixed) for l in self.losses),
                       parameters=tuple(p for p in self.parameters if p not in fixed),
                       generator=gen, parameter_samples=tuple(
                           (p, v) for p, v in self.parameter_samples if p not in fixed))


def _at(expr: sp.Expr, variables: Sequence[sp.Symbol], point: Sequence[sp.Expr]) -> sp.Expr:
    mapping = dict(zip(variables, point))
    undefined = [u for u in expr.atoms(AppliedUndef) if u.args == tuple(variables)]
    if undefined:
        # derivatives of generic functions must be taken before substitution: use subs
        return expr.subs(mapping, simultaneous=True)
    return expr.xreplace(mapping)


#: ``sympy.simplify`` is only tried on expressions up to this size (it is slow on large ones).
TIDY_SIMPLIFY_LIMIT = 400


def tidy(expr: sp.Expr) -> sp.Expr:
    """The shortest of a few equivalent forms (by ``count_ops``), for display."""
    candidates = [expr]
    cheap_only = sp.count_ops(expr) > TIDY_SIMPLIFY_LIMIT
    for step in ((lambda e: e) if cheap_only else simplified, sp.expand, lambda e: sp.powsimp(sp.expand(e)),
                 lambda e: sp.factor_terms(sp.expand(e)), lambda e: sp.expand_log(e, force=True),
                 lambda e: sp.powsimp(sp.expand(sp.expand_log(e, force=True)), force=True),
                 lambda e: sp.factor_terms(sp.powsimp(sp.expand(sp.expand_log(e, force=True)),
                                                      force=True))):
        try:
            candidates.append(step(expr))
        except (TypeError, ValueError, NotImplementedError):  # pragma: no cover
            continue
    if ALPHA in expr.free_symbols:
        try:
            candidates.append(_partial_fractions_in_alpha(expr))
        except (sp.PolynomialError, NotImplementedError, TypeError):  # pragma: no cover
            pass
    return _shortest(candidates)


def _shortest(candidates: Sequence[sp.Expr]) -> sp.Expr:
    """The first candidate with the fewest ``count_ops``, ties broken by the shortest string
    (the string is only printed for the tied candidates)."""
    ops = [sp.count_ops(e) for e in candidates]
    tied = [e for e, n in zip(candidates, ops) if n == min(ops)]
    return tied[0] if len(tied) == 1 else min(tied, key=lambda e: len(str(e)))


def _partial_fractions_in_alpha(expr: sp.Expr) -> sp.Expr:
    """Partial fractions in ``alpha`` with the powers ``x**(alpha + k)`` held fixed (display:
    turns the power rule's Eq. 8 output into ``||eta||_alpha^alpha/alpha - eta^(alpha-1)/(alpha-1)``)."""
    expanded = sp.expand(sp.expand_power_exp(sp.expand(expr)))
    powers = sorted({p for p in expanded.atoms(sp.Pow) if ALPHA in p.exp.free_symbols}, key=str)
    held = {p: sp.Dummy() for p in powers}
    rational = expanded.xreplace(held)
    if ALPHA in rational.free_symbols:
        rational = sp.apart(sp.together(rational), ALPHA)
    back = sp.expand(rational.xreplace({v: k for k, v in held.items()}))
    return sp.Add(*[sp.factor_terms(sp.powsimp(t, force=True)) for t in sp.Add.make_args(back)])


def simplify_on_simplex(expr: sp.Expr, eta: Sequence[sp.Symbol]) -> sp.Expr:
    """Simplify using ``sum_z eta_z = 1`` where that sum appears, then tidy."""
    total = sp.Add(*eta)
    expr = sp.expand(expr).subs(total, 1)
    return tidy(simplified(expr))


#: Derived losses kept per (generator, tidy): they are a pure function of these, and the
#: claims derive the same catalogue rules many times (tidying is the slow part).
RULE_CACHE_SIZE = 512


def induced_rule(psi: Generator, *, name: str | None = None, tidy_losses: bool = True) -> ScoringRule:
    """The Psi-induced rule (Eq. 6).

    With ``rho = (1, eta_1/eta_0, ..., eta_M/eta_0)``:
    ``lambda_0 = <grad Psi(rho), rho> - Psi(rho)`` and ``lambda_z = -dPsi/drho_z`` (z >= 1).
    """
    if psi.kind != "asymmetric":
        raise InputError("psi", "Eq. 6 takes an asymmetric generator Psi(rho); "
                         "use symmetric_rule for a Phi on the simplex")
    return ScoringRule(name or psi.name, "asymmetric", _induced_losses(psi, tidy_losses),
                       psi.parameters, psi)


@memoised(RULE_CACHE_SIZE)
def _induced_losses(psi: Generator, tidy_losses: bool) -> tuple[sp.Expr, ...]:
    rho = odds_symbols(psi.classes)
    grad = [sp.diff(psi.expr, r) for r in rho]
    losses_rho = [sp.Add(*[g * r for g, r in zip(grad, rho)]) - psi.expr] + [-g for g in grad]
    eta = class_probabilities(psi.classes)
    to_eta = dict(zip(rho, odds_of(eta)))
    losses = [l.subs(to_eta, simultaneous=True) for l in losses_rho]
    if tidy_losses and not psi.expr.atoms(AppliedUndef):
        losses = [tidy(l) for l in losses]
    return tuple(losses)


def symmetric_rule(phi: Generator, *, name: str | None = None, tidy_losses: bool = True) -> ScoringRule:
    """The Phi-induced (symmetric) rule (Eq. 8 / Thm 18).

    ``lambda^Phi(eta) = (<grad Phi(eta), eta> - Phi(eta)) 1 - grad Phi(eta)`` on the simplex.
    """
    if phi.kind != "symmetric":
        raise InputError("phi", "Eq. 8 takes a symmetric generator Phi(eta); "
                         "use induced_rule for an asymmetric Psi")
    return ScoringRule(name or phi.name, "symmetric", _symmetric_losses(phi, tidy_losses),
                       phi.parameters, phi)


@memoised(RULE_CACHE_SIZE)
def _symmetric_losses(phi: Generator, tidy_losses: bool) -> tuple[sp.Expr, ...]:
    eta = class_probabilities(phi.classes)
    grad = [sp.diff(phi.expr, e) for e in eta]
    common = sp.Add(*[g * e for g, e in zip(grad, eta)]) - phi.expr
    losses = [common - g for g in grad]
    if tidy_losses and not phi.expr.atoms(AppliedUndef):
        losses = [simplify_on_simplex(l, eta) for l in losses]
    return tuple(losses)


def generating_function(rule: ScoringRule) -> Generator:
    """App. D.2: ``Psi^lambda(rho) = -<rho, lambda(eta)>`` with ``eta = rho / ||rho||_1``."""
    rho = odds_symbols(rule.classes)
    full = (sp.Integer(1),) + rho
    norm = sp.Add(*full)
    point = tuple(r / norm for r in full)
    values = rule.at(point)
    expr = -sp.Add(*[r * v for r, v in zip(full, values)])
    return Generator(expr, rule.classes, "asymmetric", rule.parameters,
                     f"Psi^lambda[{rule.name}]")


@memoised(RULE_CACHE_SIZE)
def score_gradient(rule: ScoringRule) -> tuple[sp.Expr, ...]:
    """``g^lambda(eta) = J lambda(eta)^T eta``, i.e. ``g_z = sum_j eta_j d lambda_j / d eta_z`` (Eq. 9).

    Memoised per rule (a rule is immutable): Lemma 10, Props 13, Remark 17 and the Theorem-9
    certificates each need the gradient of the same rules."""
    eta = rule.eta
    return tuple(sp.Add(*[e * sp.diff(l, ez) for e, l in zip(eta, rule.losses)]) for ez in eta)


def properise(rule: ScoringRule) -> ScoringRule:
    """Remark 17: ``lambda'(eta) = lambda(eta) + g^lambda(eta) - <eta, g^lambda(eta)> 1``."""
    g = score_gradient(rule)
    inner = sp.Add(*[e * gz for e, gz in zip(rule.eta, g)])
    losses = tuple(l + gz - inner for l, gz in zip(rule.losses, g))
    return replace(rule, name=f"properised({rule.name})", kind="custom", losses=losses,
                   generator=None)


def custom_rule(losses: Sequence[sp.Expr], *, name: str = "custom",
                parameters: Sequence[sp.Symbol] = ()) -> ScoringRule:
    """A rule given directly by its losses in ``eta0..etaM``."""
    M = check_classes(len(losses) - 1, "losses")
    eta = set(class_probabilities(M)) | set(parameters)
    for z, l in enumerate(losses):
        stray = sp.sympify(l).free_symbols - eta
        if stray:
            raise InputError("losses", f"lambda_{z} uses undeclared symbol(s) "
                             f"{', '.join(sorted(map(str, stray)))}; use eta0..eta{M}")
    return ScoringRule(name, "custom", tuple(sp.sympify(l) for l in losses), tuple(parameters))


def generic_rule(M: int) -> ScoringRule:
    """An arbitrary differentiable rule: ``lambda_z = lambda_z(eta_0, ..., eta_M)`` undefined."""
    eta = class_probabilities(check_classes(M))
    losses = tuple(sp.Function(f"lambda{z}")(*eta) for z in range(M + 1))
    return ScoringRule("generic lambda", "custom", losses)


def bayes_risk(rule: ScoringRule) -> sp.Expr:
    """Pointwise Bayes risk ``f(eta) = <eta, lambda(eta)>`` (App. D.1)."""
    return sp.Add(*[e * l for e, l in zip(rule.eta, rule.losses)])


def expected_loss(rule: ScoringRule, eta_hat: Sequence[sp.Expr], eta_star: Sequence[sp.Expr]
                  ) -> sp.Expr:
    """``d(eta_hat || eta_star) = <eta_star, lambda(eta_hat)>``."""
    if len(eta_star) != len(rule.losses):
        raise InputError("eta_star", f"needs {len(rule.losses)} coordinates, got {len(eta_star)}")
    return sp.Add(*[s * l for s, l in zip(eta_star, rule.at(eta_hat))])


def regret(rule: ScoringRule, eta_hat: Sequence[sp.Expr], eta_star: Sequence[sp.Expr]) -> sp.Expr:
    """``Reg(eta_hat || eta*) = d(eta_hat || eta*) - d(eta* || eta*)`` (Def. 8)."""
    return expected_loss(rule, eta_hat, eta_star) - expected_loss(rule, eta_star, eta_star)
