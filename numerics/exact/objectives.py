"""Population objectives ``L^lambda_{K;nu}(r)`` of every catalogue rule, exactly (Sec. 3.4,
Tables 5-7), evaluated from ``theory``'s derived expressions (one source of truth).

``L^lambda_{K;nu}(r) = E_{p(z) p(x_{1:K}|z)}[lambda_z(eta_theta(x_{1:K}))]`` with classes
``0..K`` (the anchor class only when ``nu > 0``) and ``eta_theta = (nu, r(x_1..x_K))/P``,
``P = nu + sum_i r(x_i)``.

Methods:

* ``enumerate``: the *unreduced* class construction for explicit ``K`` (``theory.dre.class_terms``:
  one term per class, in the slot symbols ``r1..rK``) summed over every ``x_{1:K}``;
* ``types``: the Table 5-7 row (``theory.dre.general_objective``, in the aggregates ``P1``,
  ``Palpha``, ``Plog`` of ``p_theta``) summed over ``x_1`` and the type of the other slots;
* ``laplace``: the log score (through :mod:`numerics.exact.kjs`) and the power score with
  ``alpha > 0`` (through the Gamma and fractional-power representations of
  :mod:`numerics.exact.laplace`), at a cost that does not grow with ``K``.

The two exact methods reach the same number from two different symbolic derivations, which is
how the tests check Prop 20's reduction and the general-``K`` tables numerically.  Asymmetric
rules (Table 5) are single-slot expectations, exact for every ``K``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath as mp
import numpy as np
import sympy as sp

from numerics.exact import enumeration, laplace
from numerics.exact.distributions import as_anchor, as_critic, as_dps, as_pair, as_slots
from numerics.exact.kjs import (
    EPS,
    Split,
    choose_method,
    log_score_objective_result,
    ratio,
)
from numerics.exact.result import Result, round_to_dps
from theory import catalogue
from theory.compile import compile_expr
from theory.dre import (
    LOG_SUM,
    NORM1,
    POWER_SUM,
    R1,
    R,
    class_terms,
    general_objective,
    slot_symbols,
)
from theory.errors import InputError
from theory.symbols import ALPHA, K_SYM, NU

#: Rule names accepted by :func:`population_objective` (catalogue names and special cases).
RULES = tuple(catalogue.names())
#: Rules with a Laplace (method c) evaluation.
LAPLACE_RULES = ("log", "power", "brier")


def population_objective(rule: str, r: object, q1: object, q0: object, K: object, nu: object,
                         alpha: object = None, *, method: str = "auto",
                         dps: int | None = None) -> float:
    """``L^lambda_{K;nu}(r)`` in nats for catalogue rule ``rule`` and critic ratios ``r(x) > 0``.

    ``rule``: ``log``, ``power``, ``sym_inverse_log``, ``pseudo_spherical``, ``kliep``,
    ``robust_power``, ``inverse_log`` (or ``brier``, ``spherical``, ``lsif``); ``alpha`` for the
    parametrised families.  Classes ``0..K`` with the anchor class only when ``nu > 0``;
    asymmetric rules need ``nu > 0``.  ``dps`` gives an mpmath number at that many digits.
    """
    return population_objective_result(rule, r, q1, q0, K, nu, alpha, method=method,
                                       dps=dps).value


def population_objective_result(rule: str, r: object, q1: object, q0: object, K: object,
                                nu: object, alpha: object = None, *, method: str = "auto",
                                dps: int | None = None) -> Result:
    """:func:`population_objective` with the method used and an error estimate."""
    a, b = as_pair(q1, q0)
    critic = as_critic(r, a.shape, name="r")
    K_, nu_ = as_slots(K), as_anchor(nu, K)
    name, alpha_ = catalogue.resolve_rule(rule, alpha)
    dps_ = as_dps(dps)
    entry = catalogue.entry(name)
    if entry.kind == "asymmetric":
        if nu_ == 0:
            raise InputError("nu", f"{name} is asymmetric: Eq. 6 needs the anchor class, nu > 0")
        choose_method(method, 1, 1)   # validates the name (single-slot: exact for every K)
        if method == "enumerate":
            return _enumerate(name, alpha_, a, b, critic, K_, nu_, dps_)
        return _single_slot(name, alpha_, a, b, critic, K_, nu_, dps_)
    if method == "auto" and name in ("log",):
        return log_score_objective_result(critic, a, b, K_, nu_, dps=dps_)
    chosen = _choose(method, name, alpha_, int(np.count_nonzero(b)), K_)
    if chosen == "laplace":
        if name == "log":
            return log_score_objective_result(critic, a, b, K_, nu_, method="laplace", dps=dps_)
        return _power_laplace(alpha_, Split.of(a, b, critic), K_, nu_, dps_)
    if chosen == "enumerate":
        return _enumerate(name, alpha_, a, b, critic, K_, nu_, dps_)
    return _types(name, alpha_, Split.of(a, b, critic, dps_), K_, nu_, dps_)


def rule_divergence(rule: str, q1: object, q0: object, K: object, nu: object,
                    alpha: object = None, *, method: str = "auto",
                    dps: int | None = None) -> float:
    """``-L^lambda_{K;nu}(r*)``, the divergence the rule's objective estimates (Thm 6 / Thm 19
    right-hand side: ``-L(r) <= -L(r*)``).  Needs ``q1 << q0`` so that ``r* = q1/q0`` is finite
    on the alphabet (letters outside both supports get ``r* = 1``: they are never drawn)."""
    a, b = as_pair(q1, q0)
    if np.any((b == 0) & (a > 0)):
        raise InputError("q1", "rule_divergence needs q1 << q0 (r* = q1/q0 finite); for the log "
                         "score use anchored_divergence, which allows q0 = 0 < q1")
    star = ratio(a, b)
    star = np.where((a == 0) & (b == 0), 1.0, star)
    star = np.where(star == 0, np.finfo(float).tiny, star)
    res = population_objective_result(rule, star, a, b, K, nu, alpha, method=method, dps=dps)
    return -res.value


def _choose(method: str, name: str, alpha: float | None, n0: int, K: int) -> str:
    """:func:`numerics.exact.kjs.choose_method`, refusing ``laplace`` where it does not apply."""
    chosen = choose_method(method, n0, K)
    if chosen == "laplace" and not (name == "log" or (name == "power" and alpha and alpha > 0)):
        if method == "auto":
            raise InputError("K", f"{name} has no K-independent method (laplace serves log and "
                             f"power with alpha > 0); K = {K} has too many type classes")
        raise InputError("method", f"laplace serves the log and power (alpha > 0) scores, "
                         f"not {name}")
    return chosen


# ------------------------------------------------------------------------ compiled forms
@lru_cache(maxsize=None)
def _general_terms(name: str, anchored: bool, backend: str):
    """Compiled Table 5-7 terms: ``(weight(K, nu), law, integrand(r1, r, P1, Palpha, Plog,
    nu, K, alpha))``."""
    objective = general_objective(catalogue.entry(name), anchored=anchored)
    args = (R1, R, NORM1, POWER_SUM, LOG_SUM, NU, K_SYM, ALPHA)
    return [(compile_expr(t.weight, (K_SYM, NU), backend), t.sampling,
             compile_expr(t.integrand, args, backend)) for t in objective.terms]


@lru_cache(maxsize=None)
def _class_terms(name: str, alpha: float | None, K: int, anchored: bool, backend: str):
    """Compiled unreduced class terms: ``(prior(nu), slot of q1 or 0, integrand(r1..rK, nu))``."""
    values = {} if alpha is None else {"alpha": sp.nsimplify(alpha)}
    M = K if anchored else K - 1
    rule = catalogue.rule(name, M=M, **values)
    nu = NU if anchored else sp.Integer(0)
    args = slot_symbols(K) + (NU,)
    return [(compile_expr(prior, (NU,), backend), slot, compile_expr(integrand, args, backend))
            for prior, slot, integrand in class_terms(rule, K, nu)]


# ------------------------------------------------------------------------ evaluation
def _enumerate(name, alpha, q1, q0, r, K, nu, dps) -> Result:
    """Method (a): every ``x_{1:K}`` over the alphabet, every class of the construction."""
    idx = enumeration.configurations(q1.size, K)
    q1n, q0n = q1 / q1.sum(), q0 / q0.sum()
    terms = _class_terms(name, alpha, K, nu > 0, "numpy" if dps is None else "mpmath")
    if dps is None:
        slots = [r[idx[:, i]] for i in range(K)]
        log_q0 = np.where(q0n > 0, np.log(np.where(q0n > 0, q0n, 1)), -np.inf)
        log_q1 = np.where(q1n > 0, np.log(np.where(q1n > 0, q1n, 1)), -np.inf)
        total, scale = 0.0, 0.0
        for prior, slot, integrand in terms:
            # slot by slot: subtracting log q0 from the all-q0 weight would give -inf - (-inf)
            # = NaN (and drop the configuration) where q1 > 0 = q0
            log_w = np.zeros(idx.shape[0])
            for i in range(K):
                log_w = log_w + (log_q1 if i == slot - 1 else log_q0)[idx[:, i]]
            keep = np.isfinite(log_w)
            vals = np.broadcast_to(integrand(*[s[keep] for s in slots], nu), (int(keep.sum()),))
            w = np.exp(log_w[keep])
            total += prior(nu) * float(w @ vals)
            scale += abs(prior(nu)) * float(w @ np.abs(vals))
        return Result(total, "enumerate", 8 * EPS * (scale + 1) * K, None)
    with mp.workdps(dps + 10):
        p1 = _mp_law(q1)
        p0 = _mp_law(q0)
        rm = [mp.mpf(x) for x in r]
        nu_m = mp.mpf(nu)
        total = mp.mpf(0)
        for prior, slot, integrand in terms:
            acc = []
            for row in idx:
                w = mp.fprod(p1[j] if i == slot - 1 else p0[j] for i, j in enumerate(row))
                if w:
                    acc.append(w * integrand(*[rm[j] for j in row], nu_m))
            total += prior(nu_m) * mp.fsum(acc)
    return Result(round_to_dps(total, dps), "enumerate", 10.0 ** (-dps), dps)


def _mp_law(q: np.ndarray) -> list:
    values = [mp.mpf(x) for x in q]
    total = mp.fsum(values)
    return [v / total for v in values]


def _aggregates(r0: np.ndarray, counts: np.ndarray, alpha: float | None) -> dict[str, np.ndarray]:
    """``sum r``, ``sum r^alpha`` and ``sum log r`` of each type class of slots."""
    out = {"sum": counts @ r0, "log": counts @ np.log(r0)}
    out["pow"] = counts @ r0 ** alpha if alpha is not None else np.zeros(counts.shape[0])
    return out


def _types(name, alpha, split: Split, K, nu, dps) -> Result:
    """Method (b): Table 5-7 rows over ``x_1`` and the type of the remaining slots."""
    if split.infinite_mass > 0:
        raise InputError("r", "the critic must be finite where q1 > 0")
    if dps is not None:
        return _types_mp(name, alpha, split, K, nu, dps)
    anchored = nu > 0
    a = 0.0 if alpha is None else alpha
    nu_pow, nu_log = (nu ** a, math.log(nu)) if anchored else (0.0, 0.0)
    total, scale, spread = 0.0, 0.0, 0.0
    log_p0 = np.log(split.p0)
    for weight, law, integrand in _general_terms(name, anchored, "numpy"):
        noise = law.startswith("q0(x1")
        slots = K if noise else K - 1
        counts = enumeration.type_counts(split.p0.size, slots)
        log_w = enumeration.log_type_probabilities(split.p0.size, slots, log_p0)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        agg = _aggregates(split.r0, counts, alpha)
        if noise:
            vals = integrand(1.0, 1.0, nu + agg["sum"], nu_pow + agg["pow"], nu_log + agg["log"],
                             nu, K, a)
            vals = np.broadcast_to(vals, w.shape)
            inner = vals
        else:
            r1 = split.r1[None, :]
            vals = integrand(r1, 1.0, nu + r1 + agg["sum"][:, None],
                             nu_pow + r1 ** a + agg["pow"][:, None],
                             nu_log + np.log(r1) + agg["log"][:, None], nu, K, a)
            vals = np.broadcast_to(vals, (w.size, split.r1.size))
            inner = vals @ split.p1
        c = weight(K, nu)
        total += c * float(w @ inner)
        scale += abs(c) * float(w @ np.abs(inner))
        spread = max(spread, float(np.max(np.abs(log_w))))
    return Result(total, "types", 8 * EPS * (scale + 1) * (spread + K), None)


def _types_mp(name, alpha, split: Split, K, nu, dps) -> Result:
    anchored = nu > 0
    with mp.workdps(dps + 10):
        a = mp.mpf(0) if alpha is None else mp.mpf(alpha)
        nu_m = mp.mpf(nu)
        p0 = _mp_law(split.p0)
        r0 = [mp.mpf(x) for x in split.r0]
        mass1 = mp.fsum(map(mp.mpf, split.p1))
        p1 = [mp.mpf(x) / mass1 for x in split.p1]
        r1s = [mp.mpf(x) for x in split.r1]
        nu_pow, nu_log = (nu_m ** a, mp.log(nu_m)) if anchored else (0, 0)
        total = mp.mpf(0)
        for weight, law, integrand in _general_terms(name, anchored, "mpmath"):
            noise = law.startswith("q0(x1")
            slots = K if noise else K - 1
            acc = []
            for c in enumeration.type_counts(split.p0.size, slots):
                lw = mp.log(mp.factorial(slots)) + mp.fsum(
                    int(k) * mp.log(p) - mp.log(mp.factorial(int(k))) for k, p in zip(c, p0))
                s = mp.fsum(int(k) * x for k, x in zip(c, r0))
                sp_ = mp.fsum(int(k) * x ** a for k, x in zip(c, r0))
                sl = mp.fsum(int(k) * mp.log(x) for k, x in zip(c, r0))
                if noise:
                    inner = integrand(1, 1, nu_m + s, nu_pow + sp_, nu_log + sl, nu_m, K, a)
                else:
                    inner = mp.fsum(p * integrand(x, 1, nu_m + x + s, nu_pow + x ** a + sp_,
                                                  nu_log + mp.log(x) + sl, nu_m, K, a)
                                    for p, x in zip(p1, r1s))
                acc.append(mp.exp(lw) * inner)
            total += weight(K, nu_m) * mp.fsum(acc)
    return Result(round_to_dps(total, dps), "types", 10.0 ** (-dps), dps)


def _single_slot(name, alpha, q1, q0, r, K, nu, dps) -> Result:
    """Table 5: ``K/(K+nu) E_q1[f(r)] + K nu/(K+nu) E_q0[g(r)]``, exact for every ``K``."""
    terms = _general_terms(name, True, "numpy" if dps is None else "mpmath")
    a = 0.0 if alpha is None else alpha
    if dps is None:
        total, scale = 0.0, 0.0
        for weight, law, integrand in terms:
            q = q1 / q1.sum() if law == "q1(x)" else q0 / q0.sum()
            keep = q > 0
            vals = np.broadcast_to(integrand(1.0, r[keep], 1.0, 1.0, 0.0, nu, K, a),
                                   (int(keep.sum()),))
            c = weight(K, nu)
            total += c * float(q[keep] @ vals)
            scale += abs(c) * float(q[keep] @ np.abs(vals))
        return Result(total, "single-slot", 8 * EPS * (scale + 1), None)
    with mp.workdps(dps + 10):
        total = mp.mpf(0)
        for weight, law, integrand in terms:
            q = _mp_law(q1 if law == "q1(x)" else q0)
            total += weight(K, mp.mpf(nu)) * mp.fsum(
                p * integrand(1, mp.mpf(x), 1, 1, 0, mp.mpf(nu), K, mp.mpf(a))
                for p, x in zip(q, r) if p)
    return Result(round_to_dps(total, dps), "single-slot", 10.0 ** (-dps), dps)


def _power_laplace(alpha: float, split: Split, K: int, nu: float, dps: int | None) -> Result:
    """Power score (Eq. 8, ``Phi = sum eta^alpha/(alpha(alpha-1))``), ``alpha > 0``, method (c).

    The Table 6/7 integrands are ``[(1 - 1/alpha) Palpha P^{-alpha} - r_1^{alpha-1}
    P^{1-alpha}]/(alpha-1)`` (joint) and ``[(1 - 1/alpha) Palpha P^{-alpha} - nu^{alpha-1}
    P^{1-alpha}]/(alpha-1)`` (noise), ``Palpha = [nu^alpha] + sum_i r_i^alpha``; each moment is
    one Gamma (``P^{-s}``) or fractional-power (``P^{s}``, ``0 < s < 1``) integral.  Checked
    against the compiled rows by ``types`` in the tests.
    """
    if split.infinite_mass > 0:
        raise InputError("r", "the critic must be finite where q1 > 0")
    if dps is not None:
        raise InputError("dps", "the power score's Laplace method runs in float64; use "
                         "method='types' for an mpmath value")
    first, rest = laplace.Slots(split.p1 / split.p1.sum(), split.r1), \
        laplace.Slots(split.p0, split.r0)
    noise_first = laplace.Slots(split.p0 / split.p0.sum(), split.r0)
    anchored = nu > 0
    c = 1.0 - 1.0 / alpha

    def palpha_moment(f: laplace.Slots) -> laplace.Integral:
        """``E[Palpha P^{-alpha}]`` with ``x_1 ~ f``."""
        return laplace.expected_inverse_power(
            nu, alpha, f, rest, K, a_first=f.values ** alpha, b_rest=rest.values ** alpha,
            constant=nu ** alpha if anchored else 0.0)

    def cross_moment(f: laplace.Slots, a_first: np.ndarray | None) -> laplace.Integral:
        """``E[a(x_1) P^{1-alpha}]`` (``a = 1`` when ``None``)."""
        if alpha > 1:
            if a_first is None:
                return laplace.expected_inverse_power(nu, alpha - 1, f, rest, K, constant=1.0)
            return laplace.expected_inverse_power(nu, alpha - 1, f, rest, K, a_first=a_first)
        return laplace.expected_fractional_power(nu, 1 - alpha, f, rest, K, a_first=a_first)

    pa = palpha_moment(first)
    cr = cross_moment(first, first.values ** (alpha - 1))
    joint = (c * pa.value - cr.value) / (alpha - 1)
    error = (abs(c) * pa.error + cr.error) / abs(alpha - 1)
    if not anchored:
        return Result(joint, "laplace", error + 8 * EPS * abs(joint), None)
    pa0 = palpha_moment(noise_first)
    cr0 = cross_moment(noise_first, None)
    noise = (c * pa0.value - nu ** (alpha - 1) * cr0.value) / (alpha - 1)
    error += (abs(c) * pa0.error + nu ** (alpha - 1) * cr0.error) / abs(alpha - 1)
    value = K / (K + nu) * joint + nu / (K + nu) * noise
    return Result(value, "laplace", error + 8 * EPS * abs(value), None)
