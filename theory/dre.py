"""DRE objectives ``L^lambda_{K;nu}`` from the class construction of Sec. 3 (Eq. 1-4, Sec. 3.4).

Classes ``z = 0..K`` with prior ``p(0) = nu/(K+nu)``, ``p(z) = 1/(K+nu)``; given ``z >= 1`` slot
``z`` is drawn from ``q1`` and the others from ``q0``; given ``z = 0`` every slot is from ``q0``.
The model posterior (Eq. 3) is ``eta_theta = (nu, r(x_1), ..., r(x_K)) / (nu + sum_i r(x_i))``.
With ``nu = 0`` there is no class 0 (``K >= 2``): classes ``1..K``, prior ``1/K`` (InfoNCE-type).

``L^lambda_{K;nu}(r) = E_{p(z) p(x_{1:K}|z)}[lambda_z(eta_theta(x_{1:K}))]``.

An objective is a list of :class:`Term`: a weight, the law of the slots, and the integrand, an
expression in ``r1..rK`` (``r_i = r(x_i)``) and ``nu``.  For the catalogue the same objectives are
also derived for a *symbolic* ``K`` (:func:`general_objective`), in aggregates of
``p_theta = (nu, r(x_1), ..., r(x_K))``: these are the rows of Tables 5, 6 and 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory.catalogue import ETA, INDEX, RHO, CatalogueEntry, IndexedBuilder
from theory.errors import ImproperRuleError, InputError
from theory.propriety import check_propriety
from theory.rules import ScoringRule, tidy
from theory.symbols import ALPHA, K_SYM, NU, memoised, symbolic_zero

#: ``p_theta`` as an indexed base (``p[0] = nu``, ``p[i] = r(x_i)``) and its aggregates.
#: The anchor weight ``nu`` when none is given: "In all experiments we set K = B - 1 and nu = 1
#: by default" (Sec. 4).  (``K = B - 1`` is :func:`numerics.neural.losses.default_slots`.)
DEFAULT_NU = 1.0

P = sp.IndexedBase("p", positive=True)
R1 = sp.Symbol("r1", positive=True)
R = sp.Symbol("r", positive=True)               # r(x) for a single-slot term
NORM1 = sp.Symbol("P1", positive=True)          # ||p_theta||_1
POWER_SUM = sp.Symbol("Palpha", positive=True)  # ||p_theta||_alpha^alpha
LOG_SUM = sp.Symbol("Plog", real=True)          # sum_k log p_theta_k

AGGREGATES: dict[str, str] = {
    "r1": "r(x_1), the slot drawn from q1 in the first term",
    "r": "r(x), x drawn from the law of its term",
    "nu": "anchor weight nu",
    "K": "number of slots K",
    "alpha": "rule parameter alpha",
    "P1": "||p_theta||_1 = nu + sum_{i=1}^K r(x_i)",
    "Palpha": "||p_theta||_alpha^alpha = nu^alpha + sum_{i=1}^K r(x_i)^alpha",
    "Plog": "sum_k log p_theta_k = log(nu) + sum_{i=1}^K log r(x_i)",
}

JOINT = "q1(x1) q0(x2..xK)"
NOISE = "q0(x1..xK)"


@lru_cache(maxsize=None)
def slot_symbols(K: int) -> tuple[sp.Symbol, ...]:
    """``(r1, ..., rK)``: the critic's ratio at each slot, ``r_i = r(x_i)``."""
    return tuple(sp.Symbol(f"r{i}", positive=True) for i in range(1, K + 1))


def check_slots(K: object, nu: object) -> tuple[int, sp.Expr]:
    """Validate ``K`` (integer >= 1) and ``nu`` (>= 0; ``K = 1`` needs ``nu > 0``)."""
    if isinstance(K, bool) or not isinstance(K, (int, sp.Integer)) or int(K) < 1:
        raise InputError("K", f"the number of slots must be an integer >= 1, got {K!r}")
    try:
        nu_expr = sp.sympify(nu)
    except (sp.SympifyError, TypeError, ValueError):
        raise InputError("nu", f"the anchor weight must be a number >= 0, got {nu!r}") from None
    if nu_expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or (nu_expr.is_number and not nu_expr.is_real):
        raise InputError("nu", f"the anchor weight must be a finite number >= 0, got {nu!r}")
    if nu_expr.is_negative or (nu_expr.is_number and nu_expr.is_real is False):
        raise InputError("nu", f"the anchor weight must be >= 0, got {nu!r}")
    if nu_expr.is_number and nu_expr < 0:
        raise InputError("nu", f"the anchor weight must be >= 0, got {nu!r}")
    if int(K) == 1 and nu_expr == 0:
        raise InputError("nu", "K = 1 with nu = 0 is degenerate (one class): use nu > 0")
    return int(K), nu_expr


def model_posterior(K: int, nu: sp.Expr = NU) -> tuple[sp.Expr, ...]:
    """Eq. 3: ``eta_theta = (nu, r_1..r_K)/(nu + sum r)``; without class 0 when ``nu = 0``."""
    r = slot_symbols(K)
    if nu == 0:
        total = sp.Add(*r)
        return tuple(ri / total for ri in r)
    total = nu + sp.Add(*r)
    return (nu / total,) + tuple(ri / total for ri in r)


@dataclass(frozen=True)
class Term:
    """``weight * E_{sampling}[integrand]``."""

    weight: sp.Expr
    sampling: str
    integrand: sp.Expr

    def render(self) -> str:
        return f"({self.weight}) * E_{{{self.sampling}}}[{self.integrand}]"


@dataclass(frozen=True)
class DREObjective:
    """``L^lambda_{K;nu}`` as a sum of terms (reduced by Prop 20 when the rule allows it)."""

    rule: str
    K: sp.Expr
    nu: sp.Expr
    terms: tuple[Term, ...]
    reduced: bool

    def render(self) -> str:
        return " + ".join(t.render() for t in self.terms)

    @property
    def symbols(self) -> list[str]:
        names = set().union(*(t.integrand.free_symbols | t.weight.free_symbols
                              for t in self.terms))
        return sorted(str(s) for s in names)


# ------------------------------------------------------------------------ explicit K
def required_classes(K: int, nu: sp.Expr) -> int:
    """``M`` of a rule usable at ``(K, nu)``: ``K`` with an anchor class, ``K - 1`` without."""
    return K if nu != 0 else K - 1


def class_terms(rule: ScoringRule, K: int, nu: sp.Expr) -> list[tuple[sp.Expr, int, sp.Expr]]:
    """Every class of the construction: ``(prior p(z), q1 slot or 0, lambda_z(eta_theta))``."""
    losses = rule.at(model_posterior(K, nu))
    if nu == 0:
        return [(sp.Integer(1) / K, z, losses[z - 1]) for z in range(1, K + 1)]
    return [(nu / (K + nu), 0, losses[0])] + [
        (1 / (K + nu), z, losses[z]) for z in range(1, K + 1)]


def swap_invariant(rule: ScoringRule, first: int, second: int) -> bool:
    """App. E.2's ``{z1, z2}``-invariance: swapping ``eta_{z1}`` and ``eta_{z2}`` swaps
    ``lambda_{z1}`` and ``lambda_{z2}`` (``lambda_{z1}(eta) = lambda_{z2}(eta')`` and vice versa)."""
    eta = rule.eta
    swap = {eta[first]: eta[second], eta[second]: eta[first]}
    swapped = [loss.xreplace(swap) for loss in rule.losses]
    return symbolic_zero(rule.losses[first] - swapped[second]) and \
        symbolic_zero(rule.losses[second] - swapped[first])


def prop20_invariant(rule: ScoringRule) -> bool:
    """Prop 20's hypothesis: ``{z1, z2}``-invariance for every pair in ``1..M``."""
    M = rule.classes
    return all(swap_invariant(rule, a, b) for a in range(1, M + 1) for b in range(a + 1, M + 1))


def prop20_reduction(rule: ScoringRule, K: int, nu: sp.Expr = NU) -> list[sp.Expr]:
    """Prop 20's step: relabelling slots ``1 <-> z`` maps class ``z``'s term onto class 1's.

    Returns the residuals ``lambda_z(eta_theta(r with r_1, r_z swapped)) - lambda_1(eta_theta(r))``
    for ``z = 2..K``; all zero means ``L`` reduces to the two-term form of Eq. 9.
    """
    r = slot_symbols(K)
    terms = class_terms(rule, K, nu)
    first = [t for t in terms if t[1] == 1][0][2]
    residuals = []
    for prior, slot, integrand in terms:
        if slot <= 1:
            continue
        swap = {r[0]: r[slot - 1], r[slot - 1]: r[0]}
        residuals.append(integrand.xreplace(swap) - first)
    return residuals


def dre_objective(rule: ScoringRule, K: int, nu: object = NU, *, reduce: bool = True,
                  require_proper: bool = True) -> DREObjective:
    """``L^lambda_{K;nu}`` for a rule on ``K + 1`` classes (``K`` classes when ``nu = 0``).

    Raises :class:`ImproperRuleError` for a rule that is not proper (Thm 9) unless
    ``require_proper=False``: its minimiser need not be ``r*``.
    """
    K, nu = check_slots(K, nu)
    M = required_classes(K, nu)
    if rule.classes != M:
        raise InputError("rule", f"the objective at K = {K}, nu = {nu} needs a rule on "
                         f"{M + 1} classes (M = {M}); {rule.name} has M = {rule.classes}")
    if require_proper:
        cert = check_propriety(rule)
        if not cert.proper:
            w = cert.witness.as_dict() if cert.witness else {}
            raise ImproperRuleError("rule", f"{rule.name} is not proper (Thm 9): "
                                    f"witness {w}")
    terms = class_terms(rule, K, nu)
    if reduce and all(symbolic_zero(res) for res in prop20_reduction(rule, K, nu)):
        first = [t for t in terms if t[1] == 1][0]
        reduced = [Term(first[0] * K, JOINT, first[2])]
        if nu != 0:
            reduced.append(Term(terms[0][0], NOISE, terms[0][2]))
        return DREObjective(rule.name, sp.Integer(K), nu, tuple(reduced), True)
    full = tuple(Term(prior, f"p(x|z={z})" if z else NOISE, integrand)
                 for z, (prior, _, integrand) in enumerate(terms))
    return DREObjective(rule.name, sp.Integer(K), nu, full, False)


def pointwise_objective(rule: ScoringRule, K: int, nu: sp.Expr, ratios: Sequence[sp.Expr]
                        ) -> sp.Expr:
    """``sum_z p(z) p(x|z) / prod_i q0(x_i) * lambda_z(eta_theta)`` at one ``x_{1:K}``.

    ``ratios`` are ``r*(x_i) = q1(x_i)/q0(x_i)`` so ``p(x|z)/prod q0 = r*(x_z)`` (and 1 for
    ``z = 0``).  Summing this against ``prod q0`` gives ``L^lambda_{K;nu}`` (Sec. 3.4).
    """
    total = sp.Integer(0)
    for prior, slot, integrand in class_terms(rule, K, nu):
        likelihood = ratios[slot - 1] if slot else sp.Integer(1)
        total += prior * likelihood * integrand
    return total


def true_posterior(K: int, nu: sp.Expr, ratios: Sequence[sp.Expr]) -> tuple[sp.Expr, ...]:
    """Eq. 2: ``eta*(x_{1:K}) = (nu, r*(x_1), ..., r*(x_K)) / (nu + sum r*)``."""
    total = nu + sp.Add(*ratios)
    head = (nu / total,) if nu != 0 else ()
    return head + tuple(r / total for r in ratios)


# ----------------------------------------------------------------------- general K
def _strip_piecewise(expr: sp.Expr) -> sp.Expr:
    """Keep the in-range branch of the Piecewise that indexed differentiation produces."""
    return expr.replace(lambda e: isinstance(e, sp.Piecewise), lambda e: e.args[0][0])


def _indexed_gradient(expr: sp.Expr, base: sp.IndexedBase, j: sp.Symbol) -> sp.Expr:
    return _strip_piecewise(sp.piecewise_fold(sp.diff(expr, base[j]).doit()))


def _split_sum(s: sp.Sum) -> sp.Expr:
    """Pull index-free factors out of a Sum and name the aggregates of ``p_theta``."""
    summand, (k, lo, hi) = s.function, s.limits[0]
    summand = sp.expand(sp.expand_log(sp.expand_power_base(summand, force=True), force=True))
    out = sp.Integer(0)
    for term in sp.Add.make_args(summand):
        const, dep = term.as_independent(k, as_Add=False)
        if dep == 1:
            out += const * (hi - lo + 1)
        elif dep == P[k]:
            out += const * NORM1
        elif dep == P[k] ** ALPHA:
            out += const * POWER_SUM
        elif dep == sp.log(P[k]):
            out += const * LOG_SUM
        else:
            out += const * sp.Sum(dep, (k, lo, hi))
    return out


def _aggregate(expr: sp.Expr) -> sp.Expr:
    return expr.replace(lambda e: isinstance(e, sp.Sum), _split_sum)


def general_symmetric_losses(entry: CatalogueEntry, lo: int) -> tuple[sp.Expr, sp.Symbol]:
    """Eq. 8 for classes ``lo..K`` with ``K`` symbolic: ``lambda_j`` as an indexed expression."""
    return _general_symmetric_losses(entry.build, lo)


@lru_cache(maxsize=None)
def _general_symmetric_losses(build: IndexedBuilder, lo: int) -> tuple[sp.Expr, sp.Symbol]:
    """:func:`general_symmetric_losses`, memoised per generator builder (the losses depend on
    nothing else; Tables 4, 6 and 7 all derive them)."""
    j = sp.Symbol("j", integer=True, nonnegative=True)
    phi = build(ETA, sp.Integer(lo), K_SYM)
    grad_j = _indexed_gradient(phi, ETA, j)
    inner = sp.Sum(grad_j.subs(j, INDEX) * ETA[INDEX], (INDEX, lo, K_SYM))
    lam = sp.simplify((inner - phi) - grad_j)
    lam = sp.simplify(sp.expand(lam).subs(sp.Sum(ETA[INDEX], (INDEX, lo, K_SYM)), 1))
    return lam, j


def general_asymmetric_losses(entry: CatalogueEntry) -> tuple[sp.Expr, sp.Expr, sp.Symbol]:
    """Eq. 6 for ``Psi(rho) = sum_{k=1}^K psi(rho_k)`` with ``K`` symbolic: ``(lambda_0, lambda_j, j)``."""
    j = sp.Symbol("j", integer=True, positive=True)
    psi = entry.build(RHO, sp.Integer(1), K_SYM)
    grad_j = _indexed_gradient(psi, RHO, j)
    lam0 = sp.Sum(RHO[INDEX] * grad_j.subs(j, INDEX), (INDEX, 1, K_SYM)) - psi
    return lam0, -grad_j, j


def _at_model(lam: sp.Expr, j: sp.Symbol, which: int, lo: int) -> sp.Expr:
    """``lambda_which`` at ``eta = p_theta / ||p_theta||_1`` in aggregates."""
    expr = lam.subs(j, which).xreplace({ETA[INDEX]: P[INDEX] / NORM1})
    expr = expr.xreplace({ETA[which]: P[which] / NORM1})
    # with lo == 1 (no anchor) P[0] never occurs and P1 = sum_i r(x_i)
    expr = _aggregate(expr).xreplace({P[1]: R1, P[0]: NU})
    return tidy(sp.expand(expr))


def general_objective(entry: CatalogueEntry, *, anchored: bool = True) -> DREObjective:
    """The Table 5 / 6 / 7 row of a catalogue entry, for symbolic ``K`` (and ``nu``).

    Symmetric rules (Tables 6, 7): Prop 20 applies (the rule is invariant under swapping any
    two classes), so ``L = K/(K+nu) E_{q1 q0..q0}[lambda_1] + nu/(K+nu) E_{q0^K}[lambda_0]`` and
    with ``nu = 0``, ``L = E_{q1 q0..q0}[lambda_1]``.  Asymmetric rules (Table 5):
    ``Psi = sum_k psi(rho_k)`` with ``rho_theta = r/nu``; the class-0 loss is a sum over slots,
    and exchangeability of ``q0^K`` gives ``K E_{q0}[.]``.
    """
    if entry.kind == "symmetric":
        lo = 0 if anchored else 1
        lam, j = general_symmetric_losses(entry, lo)
        positive = _at_model(lam, j, 1, lo)
        if not anchored:
            return DREObjective(entry.name, K_SYM, sp.Integer(0), (Term(sp.Integer(1), JOINT,
                                positive),), True)
        anchor = _at_model(lam, j, 0, lo)
        return DREObjective(entry.name, K_SYM, NU, (
            Term(K_SYM / (K_SYM + NU), JOINT, positive),
            Term(NU / (K_SYM + NU), NOISE, anchor)), True)
    if not anchored:
        raise InputError("anchored", "asymmetric rules need the anchor class (nu > 0): "
                         "Eq. 6 is stated relative to class 0")
    lam0, lamj, j = general_asymmetric_losses(entry)
    positive = tidy(lamj.subs(j, 1).xreplace({RHO[1]: R / NU}))
    slot_term = _single_slot(sp.simplify(sp.expand(lam0)))
    noise = tidy(slot_term.xreplace({RHO[INDEX]: R / NU}))
    return DREObjective(entry.name, K_SYM, NU, (
        Term(K_SYM / (K_SYM + NU), "q1(x)", positive),
        Term(K_SYM * NU / (K_SYM + NU), "q0(x)", noise)), True)


def _single_slot(lam0: sp.Expr) -> sp.Expr:
    """``lambda_0 = sum_k h(rho_k)`` -> ``h(rho_k)`` (checked: nothing outside the sum)."""
    merged = sp.Integer(0)
    for t in sp.Add.make_args(sp.expand(lam0)):
        sums = [a for a in sp.Mul.make_args(t) if isinstance(a, sp.Sum)]
        if not sums:  # a constant c K = sum over the K slots of c
            per_slot = sp.simplify(t / K_SYM)
            if K_SYM in per_slot.free_symbols:
                raise ValueError(f"class-0 loss is not a sum over slots: {lam0}")
            merged += per_slot
            continue
        (s,) = sums
        if s.limits[0][1:] != (1, K_SYM) or K_SYM in (t / s).free_symbols:
            raise ValueError(f"class-0 loss is not a sum over slots: {lam0}")
        merged += (t / s) * s.function
    return merged


def scale_and_shift(a: sp.Expr, b: sp.Expr, variable: sp.Symbol) -> sp.Expr | None:
    """``c`` with ``a = c b + const`` in ``variable`` (``c`` free of it), else ``None``."""
    da, db = sp.diff(a, variable), sp.diff(b, variable)
    if symbolic_zero(db):
        return None
    c = sp.simplify(sp.powsimp(sp.expand_power_base(da / db, force=True), force=True))
    return c if variable not in c.free_symbols else None


# ------------------------------------------------------------ excess risk (Thm 6 / 19)
@lru_cache(maxsize=None)
def critic_points(K: int) -> tuple[tuple[sp.Symbol, ...], tuple[sp.Symbol, ...]]:
    """``(s1..sK, r1..rK)``: true ratios ``s_i = r*(x_i)`` and the critic's ``r_i = r(x_i)``."""
    return tuple(sp.Symbol(f"s{i}", positive=True) for i in range(1, K + 1)), slot_symbols(K)


@memoised(256)
def pointwise_excess_risk(rule: ScoringRule, K: int, nu: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """``(L(r) - L(r*), L(r*))`` at one ``x_{1:K}``, as densities against ``prod_i q0(x_i)``.

    In the symbols of :func:`critic_points`: ``sum_z p(z) p(x|z)/prod q0 [lambda_z(eta_theta) -
    lambda_z(eta*)]`` with ``p(x|z)/prod q0 = s_z`` (1 for the anchor class).  Integrating
    against ``q0^K`` gives ``L^lambda_{K;nu}(r) - L^lambda_{K;nu}(r*)``; Thm 6 and Thm 19 say it
    is a Bregman divergence (checked in ``theory.identities.thm6`` / ``thm19``).  Memoised: the
    gap and the optimum of the same rule are checked separately.
    """
    s, _ = critic_points(K)
    at_star = rule.at(true_posterior(K, nu, s))
    gap = sp.Integer(0)
    optimum = sp.Integer(0)
    for prior, slot, integrand in class_terms(rule, K, nu):
        likelihood = s[slot - 1] if slot else sp.Integer(1)
        star = at_star[slot] if nu != 0 else at_star[slot - 1]
        gap += prior * likelihood * (integrand - star)
        optimum += prior * likelihood * star
    return gap, optimum
