"""The appendix identities (App. D-F) as checks that return what they found.

Each function checks one identity for a given rule or generator, which may be *generic* (an
undefined sympy Function: ``generic_rule``, ``generic_asymmetric``, ``generic_symmetric``), in
which case a symbolic proof holds for every differentiable rule / generator with that number of
classes.  A check never raises on failure: it returns ``holds=False`` with the residual.

Points: ``eta*`` has symbols ``es0..esM`` and ``eta_hat`` has ``eh0..ehM`` (positive).  Where an
identity is stated on the simplex, ``eta_0 = 1 - sum_{z>=1} eta_z`` is substituted first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory.dre import (
    critic_points,
    model_posterior,
    pointwise_excess_risk,
    true_posterior,
)
from theory.generators import Generator, evaluate_generator, perspective
from theory.propriety import tangential_gradient
from theory.rules import (
    ScoringRule,
    bayes_risk,
    generating_function,
    induced_rule,
    properise,
    regret,
    score_gradient,
    symmetric_rule,
)
from theory.symbols import (
    cancel_points,
    canonical,
    generic_function_of,
    memoised,
    numeric_zero,
    simplex_substitution,
    symbolic_zero,
)


@dataclass(frozen=True)
class IdentityCheck:
    """The outcome of checking one identity for one subject."""

    claim: str
    subject: str
    identity: str
    holds: bool
    method: str
    residual: str = "0"

    def as_dict(self) -> dict[str, object]:
        return dict(vars(self))


@lru_cache(maxsize=None)
def points(M: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """Symbols for ``eta*`` (``es``) and ``eta_hat`` (``eh``) on classes ``0..M``."""
    es = tuple(sp.Symbol(f"es{z}", positive=True) for z in range(M + 1))
    eh = tuple(sp.Symbol(f"eh{z}", positive=True) for z in range(M + 1))
    return es, eh


def _result(claim: str, subject: str, identity: str,
            residual: sp.Expr | Sequence[sp.Expr]) -> IdentityCheck:
    residuals = [residual] if isinstance(residual, sp.Basic) else list(residual)
    unproved = [r for r in residuals if not symbolic_zero(r)]
    if not unproved:
        return IdentityCheck(claim, subject, identity, True, "symbolic", "0")
    if any(generic_function_of(r) for r in unproved):
        shown = "; ".join(str(canonical(r))[:300] for r in unproved)
        return IdentityCheck(claim, subject, identity, False, "symbolic (not proved)", shown)
    outcomes = [numeric_zero(r) for r in unproved]
    holds = all(ok for ok, _ in outcomes)
    worst = max(w for _, w in outcomes)
    method = ("numeric (50 digits, 20 random points; sympy did not simplify the residual to 0)"
              if holds else "numeric (50 digits, 20 random points)")
    return IdentityCheck(claim, subject, identity, holds, method,
                         f"max |residual| = {worst:.3g}")


def _on_simplex(expr: sp.Expr, *groups: Sequence[sp.Symbol]) -> sp.Expr:
    subs: dict[sp.Symbol, sp.Expr] = {}
    for g in groups:
        subs.update(simplex_substitution(g))
    return cancel_points(canonical(expr).xreplace(subs))


def _grad_at(expr: sp.Expr, variables: Sequence[sp.Symbol], point: Sequence[sp.Expr]
             ) -> list[sp.Expr]:
    mapping = dict(zip(variables, point))
    return [sp.diff(expr, v).subs(mapping, simultaneous=True) for v in variables]


@memoised(256)
def bregman(fn: sp.Expr, variables: Sequence[sp.Symbol], u: Sequence[sp.Expr],
            v: Sequence[sp.Expr]) -> sp.Expr:
    """``B_F(u, v) = F(u) - F(v) - <grad F(v), u - v>`` for ``F = fn(variables)`` (memoised: the
    same divergence enters several identities)."""
    at = lambda p: fn.subs(dict(zip(variables, p)), simultaneous=True)
    grad = _grad_at(fn, variables, v)
    return at(u) - at(v) - sp.Add(*[g * (a - b) for g, a, b in zip(grad, u, v)])


def _subject(x: ScoringRule | Generator) -> str:
    return f"{x.name}, M = {x.classes}"


# ----------------------------------------------------------------------------- Lemma 10
def lemma10(rule: ScoringRule, *, spec_sign: bool = False) -> IdentityCheck:
    """Lemma 10: ``Reg(eta_hat||eta*) = B_{-f}(eta*, eta_hat) + <g(eta_hat), eta_hat - eta*>``.

    (App. D.1; a restatement of the paper flips the sign of the last term; derived from the
    definitions: ``grad f = lambda + g``, so ``B_{-f}(eta*, eta_hat) = Reg + <g(eta_hat), eta* -
    eta_hat>``.)  With ``spec_sign=True``, the sign variant ``<g(eta_hat), eta* - eta_hat>`` is
    checked as stated.
    """
    es, eh = points(rule.classes)
    f = bayes_risk(rule)
    g_hat = [gz.subs(dict(zip(rule.eta, eh)), simultaneous=True) for gz in score_gradient(rule)]
    lhs = regret(rule, eh, es)
    first, second = (es, eh) if spec_sign else (eh, es)
    rhs = bregman(-f, rule.eta, es, eh) + sp.Add(*[g * (a - b)
                                                  for g, a, b in zip(g_hat, first, second)])
    shown = "eta* - eta_hat" if spec_sign else "eta_hat - eta*"
    return _result("lemma10", _subject(rule),
                   f"Reg(eta_hat||eta*) = B_{{-f}}(eta*, eta_hat) + <g(eta_hat), {shown}>",
                   lhs - rhs)


# ----------------------------------------------------------------------------- Lemma 21
def lemma21(psi: Generator) -> IdentityCheck:
    """Lemma 21: ``g^{lambda^Psi}(eta) = 0`` (every component, as a function of positive eta)."""
    rule = induced_rule(psi, tidy_losses=False)
    g = score_gradient(rule)
    holds = all(symbolic_zero(gz) for gz in g)
    if holds:
        return IdentityCheck("lemma21", _subject(psi), "g^{lambda^Psi}(eta) = 0", True,
                             "symbolic", "0")
    residual = sp.Add(*[sp.Abs(canonical(sp.expand(gz))) for gz in g])
    return IdentityCheck("lemma21", _subject(psi), "g^{lambda^Psi}(eta) = 0", False,
                         "symbolic (not proved)", str(residual)[:300])


# ---------------------------------------------------------------------- Prop 11 (perspective)
def prop11_perspective(rule: ScoringRule) -> IdentityCheck:
    """Prop 11's mechanism: ``-f(eta) = eta_0 Psi^lambda(eta_1/eta_0, ..., eta_M/eta_0)`` on the simplex.

    A perspective is convex iff its function is, so proper (``f`` concave, Thm 9) gives
    ``Psi^lambda`` convex; strictly so for strictly proper rules.
    """
    eta = rule.eta
    psi = generating_function(rule)
    persp = eta[0] * evaluate_generator(psi, tuple(e / eta[0] for e in eta[1:]))
    residual = _on_simplex(-bayes_risk(rule) - persp, eta)
    return _result("prop11", _subject(rule), "-f(eta) = eta_0 Psi^lambda(rho(eta)) on the simplex",
                   residual)


# ----------------------------------------------------------------------------- Prop 13
def prop13(rule: ScoringRule) -> IdentityCheck:
    """Prop 13: ``lambda^{Psi^lambda}(eta) = lambda(eta) - <eta, g(eta)> 1 + g(eta)`` on the simplex."""
    eta = rule.eta
    induced = induced_rule(generating_function(rule), tidy_losses=False)
    g = score_gradient(rule)
    inner = sp.Add(*[e * gz for e, gz in zip(eta, g)])
    residuals = [_on_simplex(a - (l - inner + gz), eta)
                 for a, l, gz in zip(induced.losses, rule.losses, g)]
    return _result("prop13", _subject(rule),
                   "lambda^{Psi^lambda} = lambda - <eta, g> 1 + g on the simplex",
                   residuals)


# ----------------------------------------------------------------------------- Prop 14
def prop14(psi: Generator) -> IdentityCheck:
    """Prop 14: ``Psi^{lambda^Psi} = Psi`` on ``{1} x R_+^M``."""
    back = generating_function(induced_rule(psi, tidy_losses=False))
    return _result("prop14", _subject(psi), "Psi^{lambda^Psi}(rho) = Psi(rho)",
                   canonical(back.expr) - psi.expr)


# ----------------------------------------------------------------------------- Prop 15
def prop15(psi: Generator) -> IdentityCheck:
    """Prop 15 (and its sign): with ``G(eta) = eta_0 Psi(eta'/eta_0)`` (= ``-f`` on the simplex),
    ``B_G(eta*, eta_hat) = eta*_0 B_Psi(rho*, rho_hat)``; equivalently ``B_f = -eta*_0 B_Psi``.
    """
    M = psi.classes
    es, eh = points(M)
    eta = tuple(sp.Symbol(f"eta{z}", positive=True) for z in range(M + 1))
    G = eta[0] * evaluate_generator(psi, tuple(e / eta[0] for e in eta[1:]))
    lhs = bregman(G, eta, es, eh)
    rho_s = tuple(e / es[0] for e in es[1:])
    rho_h = tuple(e / eh[0] for e in eh[1:])
    rhs = es[0] * bregman(psi.expr, psi.variables, rho_s, rho_h)
    return _result("prop15", _subject(psi),
                   "B_{-f}(eta*, eta_hat) = eta*_0 B_{Psi}(rho*, rho_hat)", canonical(lhs - rhs))


# ----------------------------------------------------------------------------- Cor 16
def cor16(rule: ScoringRule, *, on_simplex: bool = True) -> IdentityCheck:
    """Cor 16: for a proper ``lambda``, ``Reg(eta_hat||eta*) = eta*_0 B_{Psi^lambda}(rho*, rho_hat)``."""
    M = rule.classes
    es, eh = points(M)
    psi = generating_function(rule)
    rho_s = tuple(e / es[0] for e in es[1:])
    rho_h = tuple(e / eh[0] for e in eh[1:])
    residual = regret(rule, eh, es) - es[0] * bregman(psi.expr, psi.variables, rho_s, rho_h)
    if on_simplex:
        residual = _on_simplex(residual, es, eh)
    return _result("cor16", _subject(rule),
                   "Reg(eta_hat||eta*) = eta*_0 B_{Psi^lambda}(rho*, rho_hat)", residual)


# ----------------------------------------------------------------------------- Thm 18
def thm18(phi: Generator) -> IdentityCheck:
    """Thm 18: ``lambda^{Psi_Phi}(eta) = (<grad Phi, eta> - Phi) 1 - grad Phi`` on the simplex,
    where ``Psi_Phi`` is the perspective of ``Phi`` (App. E.1)."""
    eta = tuple(sp.Symbol(f"eta{z}", positive=True) for z in range(phi.classes + 1))
    via_psi = induced_rule(perspective(phi), tidy_losses=False)
    direct = symmetric_rule(phi, tidy_losses=False)
    residuals = [_on_simplex(a - b, eta) for a, b in zip(via_psi.losses, direct.losses)]
    return _result("thm18", _subject(phi), "lambda^{Psi_Phi} = lambda^Phi on the simplex",
                   residuals)


def thm18_bayes_risk(phi: Generator) -> IdentityCheck:
    """App. E.1: the Phi-induced rule has Bayes risk ``f = -Phi`` on the simplex."""
    rule = symmetric_rule(phi, tidy_losses=False)
    residual = _on_simplex(bayes_risk(rule) + phi.expr, rule.eta)
    return _result("thm18", _subject(phi), "<eta, lambda^Phi(eta)> = -Phi(eta) on the simplex",
                   residual)


# ------------------------------------------------------------------------- Remark 17
def remark17(rule: ScoringRule) -> IdentityCheck:
    """Remark 17: the properised rule ``lambda' = lambda + g - <eta, g> 1`` has ``g^{lambda'} = 0``
    (tangentially, on the simplex) and the same generating function ``Psi^{lambda'} = Psi^lambda``."""
    eta = rule.eta
    prop = properise(rule)
    residuals = [_on_simplex(t, eta) for t in tangential_gradient(prop)]
    residuals.append(canonical(generating_function(prop).expr - generating_function(rule).expr))
    return _result("remark17", _subject(rule),
                   "g^{lambda'} = 0 on the simplex and Psi^{lambda'} = Psi^lambda", residuals)


# ------------------------------------------------------------------- Thm 6 / Thm 19
def thm6(psi: Generator, nu: sp.Expr) -> IdentityCheck:
    """Thm 6 pointwise (K = M): ``L(r) - L(r*) = nu/(K+nu) B_Psi(rho*, rho_theta)`` per
    ``x_{1:K}`` against ``prod q0``, with ``rho = (r(x_1), ..., r(x_K))/nu``."""
    K = psi.classes
    s, r = critic_points(K)
    rule = induced_rule(psi, tidy_losses=False)
    gap, _ = pointwise_excess_risk(rule, K, nu)
    rhs = nu / (K + nu) * bregman(psi.expr, psi.variables, tuple(x / nu for x in s),
                                  tuple(x / nu for x in r))
    return _result("thm6", f"{psi.name}, K = {K}, nu = {nu}",
                   "L(r) - L(r*) = nu/(K+nu) E_{q0^K}[B_Psi(rho*, rho_theta)] (pointwise)",
                   canonical(gap - rhs))


def thm6_optimum(psi: Generator, nu: sp.Expr) -> IdentityCheck:
    """Thm 6: ``-L(r*) = nu/(K+nu) E_{q0^K}[Psi(rho*)]`` (pointwise against ``prod q0``)."""
    K = psi.classes
    s, _ = critic_points(K)
    _, optimum = pointwise_excess_risk(induced_rule(psi, tidy_losses=False), K, nu)
    rhs = nu / (K + nu) * evaluate_generator(psi, tuple(x / nu for x in s))
    return _result("thm6", f"{psi.name}, K = {K}, nu = {nu}",
                   "-L(r*) = nu/(K+nu) E_{q0^K}[Psi(rho*)] (pointwise)", canonical(-optimum - rhs))


def thm19(phi: Generator, nu: sp.Expr) -> IdentityCheck:
    """Thm 19 pointwise: ``L(r) - L(r*) = E_{p(x)}[B_Phi(eta*, eta_theta)]``; against
    ``prod q0`` the density is ``p(x)/prod q0 = (nu + sum r*)/(K + nu)``.  ``nu = 0`` allowed
    (then ``M = K - 1``)."""
    K = phi.classes + (1 if nu == 0 else 0)
    s, r = critic_points(K)
    rule = symmetric_rule(phi, tidy_losses=False)
    gap, _ = pointwise_excess_risk(rule, K, nu)
    density = (nu + sp.Add(*s)) / (K + nu)
    rhs = density * bregman(phi.expr, phi.variables, true_posterior(K, nu, s),
                            model_posterior(K, nu))
    return _result("thm19", f"{phi.name}, K = {K}, nu = {nu}",
                   "L(r) - L(r*) = E_{p(x)}[B_Phi(eta*, eta_theta)] (pointwise)",
                   canonical(gap - rhs))


def thm19_optimum(phi: Generator, nu: sp.Expr) -> IdentityCheck:
    """Thm 19: ``-L(r*) = E_{p(x)}[Phi(eta*(x))]`` (pointwise against ``prod q0``)."""
    K = phi.classes + (1 if nu == 0 else 0)
    s, _ = critic_points(K)
    _, optimum = pointwise_excess_risk(symmetric_rule(phi, tidy_losses=False), K, nu)
    density = (nu + sp.Add(*s)) / (K + nu)
    rhs = density * evaluate_generator(phi, true_posterior(K, nu, s))
    return _result("thm19", f"{phi.name}, K = {K}, nu = {nu}",
                   "-L(r*) = E_{p(x)}[Phi(eta*)] (pointwise)", canonical(-optimum - rhs))


def bayes_risk_perspective(psi: Generator) -> IdentityCheck:
    """Prop 5's step: the Bayes risk of ``lambda^Psi`` is ``-eta_0 Psi(eta'/eta_0)``."""
    rule = induced_rule(psi, tidy_losses=False)
    eta = rule.eta
    residual = bayes_risk(rule) + eta[0] * evaluate_generator(psi, tuple(e / eta[0] for e in eta[1:]))
    return _result("prop5", _subject(psi), "f^{lambda^Psi}(eta) = -eta_0 Psi(rho(eta))",
                   canonical(residual))
