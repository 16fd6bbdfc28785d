"""Propriety of a scoring rule: Theorem 9 as a certificate, with a witness when it fails.

Theorem 9: ``lambda`` is (strictly) proper iff (1) the Bayes risk ``f(eta) = <eta, lambda(eta)>``
is (strictly) concave on the simplex and (2) ``g^lambda(eta) = 0`` (Eq. 9).  On the simplex only
directions with ``sum v = 0`` exist, so (2) is checked as ``g - <eta, g> 1 = 0`` (``g`` may have a
component along ``1``, which no tangent direction sees; Remark 17 removes exactly that part).

Concavity of ``f`` is decided through the generating function: ``-f(eta) = eta_0 Psi^lambda(rho)``
(the perspective identity behind Prop. 11), and a perspective is convex iff its function is, so
``f`` is (strictly) concave on the simplex iff ``Psi^lambda`` is (strictly) convex on ``R_+^M``,
where every variable is a positive symbol and sympy's sign reasoning applies.

Each check is symbolic where sympy decides it and otherwise numeric: ``digits``-digit mpmath
evaluation at ``samples`` random points, labelled as such.  A rule that is not proper gets a
witness ``(eta*, eta_hat)`` with negative regret, evaluated at rational points to ``digits``
digits, never an exception.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import sympy as sp

from theory.rules import (
    ScoringRule,
    bayes_risk,
    generating_function,
    regret,
    score_gradient,
)
from theory.symbols import (
    as_rationals,
    odds_symbols,
    random_simplex_point,
    simplex_substitution,
    simplified,
    symbolic_zero,
)

#: Parameter values tried by the numeric fallback when a parameter is still symbolic.
DEFAULT_PARAMETER_SAMPLES: tuple[Fraction, ...] = (Fraction(1, 2), Fraction(3, 2), Fraction(2),
                                                   Fraction(3))


@dataclass(frozen=True)
class Verdict:
    """The outcome of one condition of Theorem 9."""

    holds: bool
    strict: bool | None
    method: str  # "symbolic" or "numeric (...)"
    detail: str


@dataclass(frozen=True)
class Witness:
    """A pair with negative regret ``Reg(eta_hat || eta*) < 0``: the rule is not proper."""

    eta_star: tuple[sp.Rational, ...]
    eta_hat: tuple[sp.Rational, ...]
    regret: mpmath.mpf
    parameters: Mapping[str, sp.Rational] = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"eta_star": [str(v) for v in self.eta_star],
                "eta_hat": [str(v) for v in self.eta_hat],
                "regret_nats": mpmath.nstr(self.regret, 20),
                "parameters": {k: str(v) for k, v in self.parameters.items()},
                "reason": self.reason}


@dataclass(frozen=True)
class ProprietyCertificate:
    """Theorem 9 applied to one rule."""

    rule: str
    proper: bool
    strictly_proper: bool | None
    stationarity: Verdict  # condition (2): g^lambda = 0
    concavity: Verdict  # condition (1): f concave
    witness: Witness | None = None

    @property
    def method(self) -> str:
        methods = {self.stationarity.method, self.concavity.method}
        return "symbolic" if methods == {"symbolic"} else " + ".join(sorted(methods))

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule, "proper": self.proper,
                "strictly_proper": self.strictly_proper, "method": self.method,
                "stationarity": vars(self.stationarity), "concavity": vars(self.concavity),
                "witness": self.witness.as_dict() if self.witness else None}


def tangential_gradient(rule: ScoringRule) -> tuple[sp.Expr, ...]:
    """``g - <eta, g> 1``: the part of ``g^lambda`` that tangent directions of the simplex see."""
    g = score_gradient(rule)
    inner = sp.Add(*[e * gz for e, gz in zip(rule.eta, g)])
    return tuple(gz - inner for gz in g)


def check_propriety(rule: ScoringRule, *, samples: int = 64, digits: int = 50, seed: int = 0,
                    parameter_values: Sequence[Mapping[sp.Symbol, object]] | None = None
                    ) -> ProprietyCertificate:
    """Theorem 9 for ``rule``: symbolic where sympy decides, else numeric; witness if improper."""
    settings = _parameter_settings(rule, parameter_values)
    stationarity = _check_stationarity(rule, settings, samples, digits, seed)
    concavity = _check_concavity(rule, settings, samples, digits, seed)
    proper = stationarity.holds and concavity.holds
    strict = concavity.strict if proper else False
    witness = None if proper else find_witness(rule, settings, digits=digits, seed=seed)
    return ProprietyCertificate(rule.name, proper, strict, stationarity, concavity, witness)


def _parameter_settings(rule: ScoringRule, given: Sequence[Mapping[sp.Symbol, object]] | None
                        ) -> list[dict[sp.Symbol, sp.Rational]]:
    if given is not None:
        return [{p: sp.Rational(str(v)) for p, v in s.items()} for s in given]
    if not rule.parameters:
        return [{}]
    declared = dict(rule.parameter_samples)
    grids = [declared.get(p, DEFAULT_PARAMETER_SAMPLES) for p in rule.parameters]
    return [dict(zip(rule.parameters, map(sp.Rational, values)))
            for values in itertools.product(*grids)]


def _describe(settings: list[dict[sp.Symbol, sp.Rational]]) -> str:
    if settings == [{}]:
        return ""
    return "; parameters " + ", ".join(
        "(" + ", ".join(f"{k}={v}" for k, v in s.items()) + ")" for s in settings)


# -------------------------------------------------------------------- condition (2): g = 0
def _check_stationarity(rule: ScoringRule, settings: list[dict[sp.Symbol, sp.Rational]],
                        samples: int, digits: int, seed: int) -> Verdict:
    tangential = tangential_gradient(rule)
    on_simplex = simplex_substitution(rule.eta)
    if all(symbolic_zero(t.subs(on_simplex)) for t in tangential):
        return Verdict(True, None, "symbolic", "g^lambda - <eta, g^lambda> 1 simplifies to 0 "
                       "on the simplex")
    worst = mpmath.mpf(0)
    rng = random.Random(seed)
    fns = _mp_functions(rule, tangential)
    with mpmath.workdps(digits):
        for values in settings:
            for _ in range(samples):
                point = as_rationals(random_simplex_point(rule.classes, rng))
                residual = max(abs(v) for v in _mp_eval(fns, point, values))
                worst = max(worst, residual)
    tol = mpmath.mpf(10) ** (-(digits // 2))
    method = f"numeric ({digits} digits, {samples} points{_describe(settings)})"
    if worst <= tol:
        return Verdict(True, None, method, f"max |g - <eta,g>1| = {mpmath.nstr(worst, 3)} "
                       f"<= {mpmath.nstr(tol, 3)}")
    return Verdict(False, False, method, f"max |g - <eta,g>1| = {mpmath.nstr(worst, 6)}: "
                   "eta_hat = eta* is not a stationary point of the risk")


# -------------------------------------------------------------- condition (1): f concave
#: Above this size sympy's determinant and sign reasoning is not attempted (numeric instead).
SYMBOLIC_SIZE_LIMIT = 300


def convex_extensions(rule: ScoringRule) -> list[tuple[str, sp.Expr]]:
    """Functions on the positive orthant that equal ``-f`` on the simplex (each proved so).

    If one is convex on the orthant, ``f`` is concave on the simplex (restriction to a convex
    set); if its Hessian is positive definite there, strictly concave.
    """
    eta = rule.eta
    on_simplex = simplex_substitution(eta)
    neg_f = -bayes_risk(rule)
    candidates = [("-f with sum(eta) = 1", sp.expand(neg_f).subs(sp.Add(*eta), 1))]
    gen = rule.generator
    if gen is not None and gen.kind == "symmetric":
        candidates.insert(0, ("Phi (generator)", gen.expr))
    proved = []
    for label, ext in candidates:
        if symbolic_zero((ext - neg_f).subs(on_simplex)):
            proved.append((label, ext))
    return proved


def _check_concavity(rule: ScoringRule, settings: list[dict[sp.Symbol, sp.Rational]],
                     samples: int, digits: int, seed: int) -> Verdict:
    for label, ext in convex_extensions(rule):
        hessian = sp.hessian(ext, rule.eta)
        if hessian.is_diagonal():
            entries = [simplified(hessian[i, i]) for i in range(hessian.rows)]
            if all(e.is_positive for e in entries):
                return Verdict(True, True, "symbolic", f"-f = {label} on the simplex, and its "
                               f"Hessian on the orthant is diagonal and positive: {entries}")
    rho = odds_symbols(rule.classes)
    psi = generating_function(rule).expr
    hessian = None
    if rule.classes <= 2:
        psi = sp.cancel(psi) if sp.count_ops(psi) <= SYMBOLIC_SIZE_LIMIT else psi
        hessian = sp.hessian(psi, rho)
        if sp.count_ops(hessian) <= SYMBOLIC_SIZE_LIMIT * rule.classes:
            decided = _symbolic_psd(hessian)
            if decided is not None:
                holds, strict, detail = decided
                return Verdict(holds, strict, "symbolic", detail)
    return _numeric_concavity(rule, psi, hessian, settings, samples, digits, seed)


def _numeric_concavity(rule, psi, hessian, settings, samples, digits, seed) -> Verdict:
    rho = odds_symbols(rule.classes)
    hessian = hessian if hessian is not None else sp.hessian(psi, rho)
    # common subexpressions evaluated once per point (the entries share most of their terms)
    fn = sp.lambdify(tuple(rho) + tuple(rule.parameters), hessian, modules="mpmath", cse=True)
    rng = random.Random(seed + 1)
    worst = None
    with mpmath.workdps(digits):
        for values in settings:
            args_p = [_mp(values[p]) for p in rule.parameters]
            for _ in range(samples):
                point = random_simplex_point(rule.classes, rng)
                odds = [_mp(v / point[0]) for v in point[1:]]
                H = mpmath.matrix(fn(*odds, *args_p))
                smallest = min(mpmath.eigsy(H)[0]) if H.rows > 1 else H[0, 0]
                worst = smallest if worst is None else min(worst, smallest)
    tol = mpmath.mpf(10) ** (-(digits // 2))
    method = f"numeric ({digits} digits, {samples} points{_describe(settings)})"
    if worst >= -tol:
        strict = bool(worst > tol)
        return Verdict(True, strict, method, f"smallest Hessian eigenvalue of Psi^lambda over "
                       f"the sample = {mpmath.nstr(worst, 6)}")
    return Verdict(False, False, method, f"Psi^lambda has a negative Hessian eigenvalue "
                   f"{mpmath.nstr(worst, 6)}: the Bayes risk is not concave")


def _mp(value: object) -> mpmath.mpf:
    q = sp.Rational(value) if not isinstance(value, Fraction) else value
    num, den = (q.numerator, q.denominator) if isinstance(q, Fraction) else (q.p, q.q)
    return mpmath.mpf(num) / den


def _symbolic_psd(hessian: sp.Matrix) -> tuple[bool, bool, str] | None:
    """Decide positive (semi)definiteness with sympy's sign reasoning, or return None."""
    n = hessian.rows
    if n == 1 or hessian.is_diagonal():
        entries = [simplified(hessian[i, i]) for i in range(n)]
        if all(e.is_positive for e in entries):
            return True, True, ("Hessian of Psi^lambda on R_+^M is diagonal with positive "
                                f"entries {entries}")
        if any(e.is_negative for e in entries):
            return False, False, f"Hessian of Psi^lambda has a negative diagonal entry {entries}"
        return None
    # Berkowitz: division-free, so no intermediate cancellations of the rational entries
    minors = [sp.factor(sp.cancel(hessian[:k, :k].det(method="berkowitz")))
              for k in range(1, n + 1)]
    if all(m.is_positive for m in minors):
        return True, True, ("leading principal minors of the Hessian of Psi^lambda are positive "
                            "(Sylvester): " + "; ".join(map(str, minors)))
    if minors[0].is_negative:
        return False, False, f"Hessian of Psi^lambda has a negative diagonal entry {minors[0]}"
    return None


# ----------------------------------------------------------------------------- witnesses
def _mp_functions(rule: ScoringRule, exprs: Sequence[sp.Expr]):
    return sp.lambdify(tuple(rule.eta) + tuple(rule.parameters), list(exprs), modules="mpmath")


def _mp_eval(fn, point: Sequence[sp.Rational], values: Mapping[sp.Symbol, sp.Rational]):
    return fn(*[_mp(v) for v in point], *[_mp(v) for v in values.values()])


def regret_value(rule: ScoringRule, eta_hat: Sequence[sp.Rational],
                 eta_star: Sequence[sp.Rational], values: Mapping[sp.Symbol, sp.Rational],
                 digits: int = 50) -> mpmath.mpf:
    """``Reg(eta_hat || eta*)`` at rational points, evaluated to ``digits`` digits."""
    expr = regret(rule, tuple(eta_hat), tuple(eta_star)).subs(values)
    value = sp.N(expr, digits + 10)
    with mpmath.workdps(digits + 10):
        return mpmath.mpf(str(value))


def find_witness(rule: ScoringRule, settings: list[dict[sp.Symbol, sp.Rational]] | None = None,
                 *, digits: int = 50, seed: int = 0, tries: int = 400) -> Witness | None:
    """Search ``(eta*, eta_hat)`` with ``Reg(eta_hat || eta*) < 0``.

    First along the first-order direction ``-(g - <eta,g>1)`` (condition (2) broken), then along
    the direction of negative curvature of ``-f`` (condition (1) broken; Lemma 10 with g = 0),
    then by random pairs.  Candidates come from float arithmetic; the regret of the returned
    pair is evaluated exactly at rational points to ``digits`` digits.
    """
    settings = settings if settings is not None else _parameter_settings(rule, None)
    rng = random.Random(seed)
    tangential = tangential_gradient(rule)
    g_fn = _mp_functions(rule, tangential)
    neg_f = -bayes_risk(rule).subs(simplex_substitution(rule.eta))
    free = rule.eta[1:]
    hess_fn = sp.lambdify(tuple(rule.eta) + tuple(rule.parameters),
                          sp.hessian(neg_f, free), modules="mpmath")
    M = rule.classes
    for values in settings:
        for attempt in range(tries):
            eta = as_rationals(random_simplex_point(M, rng, margin=Fraction(1, 10)))
            for direction, reason in _directions(g_fn, hess_fn, eta, values, M):
                for step in (Fraction(1, 10), Fraction(1, 40), Fraction(1, 200), Fraction(1, 1000)):
                    pair = _pair(eta, direction, step, reason)
                    if pair is None:
                        continue
                    eta_hat, eta_star = pair
                    value = regret_value(rule, eta_hat, eta_star, values, digits)
                    if value < 0:
                        return Witness(tuple(eta_star), tuple(eta_hat), value,
                                       {str(k): v for k, v in values.items()}, reason)
    return None


def _directions(g_fn, hess_fn, eta, values, M):
    with mpmath.workdps(30):
        g = [mpmath.mpf(v) for v in _mp_eval(g_fn, eta, values)]
        if max(abs(v) for v in g) > mpmath.mpf(10) ** -12:
            yield [-float(v) for v in g], "first-order: eta_hat = eta* - t (g - <eta,g>1)"
        H = mpmath.matrix(_mp_eval(hess_fn, eta, values))
        if H.rows > 1:
            E, Q = mpmath.eigsy(H)
            i = min(range(H.rows), key=lambda k: E[k])
            lowest, vec = E[i], [Q[r, i] for r in range(H.rows)]
        else:
            lowest, vec = H[0, 0], [mpmath.mpf(1)]
        if lowest < 0:
            tangent = [-float(sum(vec))] + [float(v) for v in vec]
            yield tangent, "second-order: -f is not convex along eta* - eta_hat (Lemma 10)"
    rng = random.Random(hash(tuple(eta)) & 0xFFFF)
    v = [rng.uniform(-1, 1) for _ in range(M + 1)]
    mean = sum(v) / (M + 1)
    yield [x - mean for x in v], "random direction"


def _pair(eta, direction, step, reason):
    scale = max(abs(d) for d in direction) or 1.0
    unit = [Fraction(d / scale).limit_denominator(10**6) for d in direction]
    shift = sum(unit) / len(unit)
    unit = [u - shift for u in unit]  # exactly tangent to the simplex
    other = [sp.Rational(e) + sp.Rational(step * u) for e, u in zip(eta, unit)]
    if any(o <= 0 for o in other):
        return None
    if reason.startswith("first-order"):
        return tuple(other), tuple(eta)  # eta_hat moved, eta* = eta
    return tuple(eta), tuple(other)  # eta_hat = eta, eta* moved
