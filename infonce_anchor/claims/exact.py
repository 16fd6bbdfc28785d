"""Claims checked exactly on discrete distributions (``numerics``, issue #3).

Every quantity is an exact population expectation (enumeration, type classes or the Laplace
integral, each with its error estimate), not a sample average.  Distributions and critics are
drawn from a fixed seed, so every counterexample is reproducible from the ``details``.
Optimisations (Thm 3, the Sec. 3.3 searches, Thm 2's worst case) use scipy on exact objectives;
what they find is evidence about a supremum, reported as such.
"""

from __future__ import annotations

import math
from functools import lru_cache

import mpmath
import numpy as np
import sympy as sp
from scipy import optimize

from infonce_anchor.claims.registry import Outcome, claim
from numerics import kl
from numerics.exact import estimators
from numerics.exact.kjs import (
    infonce_divergence_result,
    kway_jsd_result,
    log_score_objective_result,
)
from numerics.exact.objectives import population_objective_result
from numerics.exact.units import LN2
from theory import bounds, catalogue, identities
from theory.compile import compile_expr
from theory.dre import critic_points, model_posterior, true_posterior
from theory.symbols import NU

SEED = 20261123


def _rng(offset: int = 0) -> np.random.Generator:
    return np.random.default_rng(SEED + offset)


def _pairs(count: int, sizes=(2, 3, 4, 6), offset: int = 0, zeros: bool = True):
    """Seeded ``(q1, q0)`` pairs; some with zeros in ``q1`` and/or ``q0``."""
    rng = _rng(offset)
    out = []
    for i in range(count):
        n = sizes[i % len(sizes)]
        q1, q0 = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
        if zeros and i % 4 == 1 and n > 2:
            q1[0] = 0.0
        if zeros and i % 4 == 2 and n > 2:
            q0[-1] = 0.0
        out.append((q1 / q1.sum(), q0 / q0.sum()))
    return out


def _fmt(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in x) + ")"


# ------------------------------------------------------------------------------ Thm 2
@claim("thm2.a", "D_InfoNCE(r) <= D_KJS(q1, q0) for every critic r.", "Thm 2", "exact")
def check_thm2_a() -> Outcome:
    rng = _rng(1)
    worst, tried = -math.inf, 0
    for q1, q0 in _pairs(24, offset=1):
        for K in (2, 3, 5, 64, 10**4):
            d = kway_jsd_result(q1, q0, K)
            for _ in range(5):
                r = np.exp(rng.normal(0, 1.5, q1.size))
                got = infonce_divergence_result(r, q1, q0, K)
                slack = d.error_estimate + got.error_estimate
                worst = max(worst, got.value - d.value - slack)
                tried += 1
                if got.value > d.value + slack:
                    return Outcome("refuted", "exact (types / Laplace)", "counterexample found",
                                   {"q1": q1.tolist(), "q0": q0.tolist(), "K": K,
                                    "r": r.tolist(), "D_InfoNCE": got.value, "D_KJS": d.value})
    return Outcome("verified-exact", "exact (types for small K, Laplace integral for K >= 64)",
                   f"{tried} random critics on 24 distribution pairs (zeros and support mismatch "
                   f"included), K in 2..10^4: max D_InfoNCE(r) - D_KJS = {worst:.3g} nats "
                   "(after subtracting the error estimates)", {"max_excess_nats": worst})


@claim("thm2.b", "D_InfoNCE(r) = D_KJS(q1, q0) iff r is proportional to q1/q0.", "Thm 2", "exact")
def check_thm2_b() -> Outcome:
    rng = _rng(2)
    equal_gap, min_strict = 0.0, math.inf
    for q1, q0 in _pairs(12, offset=2, zeros=False):
        star = q1 / q0
        for K in (2, 4, 100):
            d = kway_jsd_result(q1, q0, K)
            for c in (1e-3, 0.5, 7.0):
                got = infonce_divergence_result(c * star, q1, q0, K)
                equal_gap = max(equal_gap, abs(got.value - d.value))
            for _ in range(3):
                r = star * np.exp(rng.normal(0, 0.3, star.size))
                got = infonce_divergence_result(r, q1, q0, K)
                min_strict = min(min_strict, d.value - got.value)
    tol = 1e-12
    if equal_gap > tol or min_strict <= 0:
        return Outcome("refuted", "exact", f"equality gap {equal_gap:.3g}, strict gap "
                       f"{min_strict:.3g}", {})
    return Outcome("verified-exact", "exact (types / Laplace)",
                   f"r = C r* (C in 1e-3, 0.5, 7): |D_InfoNCE - D_KJS| <= {equal_gap:.2g} nats; "
                   f"36 perturbed critics not proportional to r*: gap >= {min_strict:.3g} nats > 0",
                   {"max_equality_gap": equal_gap, "min_strict_gap": min_strict})


@claim("thm2.c", "D_KJS(q1, q0) <= min{log K, D - log((e^D - 1)/K + 1)}.", "Thm 2", "exact")
def check_thm2_c() -> Outcome:
    bound = compile_expr(bounds.thm2_kl_term(), (bounds.D, bounds.K))
    log_k_excess, kl_term_failures, tried = -math.inf, [], 0
    for q1, q0 in _pairs(40, offset=3):
        D = kl(q1, q0)
        for K in (1, 2, 3, 8, 64, 10**3, 10**6):
            d = kway_jsd_result(q1, q0, K)
            tried += 1
            log_k_excess = max(log_k_excess, d.value - math.log(K) - d.error_estimate)
            if math.isfinite(D) and d.value - d.error_estimate > float(bound(D, K)) + 1e-12:
                kl_term_failures.append({"q1": q1.tolist(), "q0": q0.tolist(), "K": K,
                                         "D_KJS": d.value, "kl_term": float(bound(D, K))})
    # a closed-form counterexample: q1 a point mass, q0 uniform on two letters, K = 2.
    # Independently of numerics: the slots holding letter 1 are the first (certainly) and the
    # second with probability 1/2; Z is uniform over them, so D_KJS = log 2 - (1/2) log 2.
    exact_value = sp.log(2) / 2
    exact_bound = sp.log(2) - sp.log(sp.Rational(3, 2))  # D = log 2: log 2 - log((2-1)/2 + 1)
    computed = kway_jsd_result([1.0, 0.0], [0.5, 0.5], 2, dps=30)
    agrees = abs(float(computed.value) - float(exact_value)) < 1e-25
    evidence = (f"log K part holds in {tried} cases (max D_KJS - log K = {log_k_excess:.2g} nats). "
                "The KL part fails: q1 = (1, 0), q0 = (1/2, 1/2), K = 2 gives D_KJS = (1/2) log 2 "
                f"= {float(exact_value):.6f} nats (30-digit numerics agree: {agrees}) > "
                f"D - log((e^D - 1)/K + 1) = log(4/3) = {float(exact_bound):.6f} nats. For "
                "q1 = point mass and q0(letter) = p, D_KJS = log K - E log(1 + Bin(K-1, p)) while "
                "the bound is log K - log E(1 + Bin(K-1, p)): by Jensen the 'upper' bound is a "
                f"lower bound on this family. Random pairs violating it: {len(kl_term_failures)}"
                f"/{tried}")
    status = "refuted" if kl_term_failures or (agrees and exact_value > exact_bound) \
        else "verified-exact"
    return Outcome(status, "exact (types / Laplace, 30-digit mpmath) against the compiled bound "
                   "(theory.bounds.thm2_kl_term) and a closed form",
                   evidence, {"counterexample": {"q1": [1, 0], "q0": [0.5, 0.5], "K": 2,
                                                 "D_KJS_nats": float(exact_value),
                                                 "kl_term_nats": float(exact_bound)},
                              "random_failures": kl_term_failures[:5]})


def _binary_with_kl(a: float, target: float) -> np.ndarray | None:
    """``q0 = (1-b, b)`` with ``KL((1-a, a) || q0) = target`` and ``b > a`` (None if none).

    ``a = 0`` (``q1`` a point mass) has the closed form ``b = 1 - e^{-target}``."""
    if a == 0:
        return np.array([math.exp(-target), 1 - math.exp(-target)])

    def f(b: float) -> float:
        return float(kl([1 - a, a], [1 - b, b])) - target
    hi = 1 - 1e-15
    if f(hi) < 0:
        return None
    try:
        b = optimize.brentq(f, a, hi, xtol=1e-15, rtol=1e-14)
    except (ValueError, RuntimeError):
        return None
    return np.array([1 - b, b])


@claim("thm2.worst-case", "With D = 2 bits the bound 1.19... (K = 4) and 1.93... (K = 64) is "
       "compared with the worst case of D_KJS over distributions with that KL.", "Sec. 2.2",
       "exact")
def check_thm2_worst_case() -> Outcome:
    target = 2 * LN2
    quoted = {4: 1.19, 64: 1.93}
    rows = {}
    ok = True
    for K, q in quoted.items():
        b_bits = float(bounds.thm2_bound_bits(sp.Integer(2), sp.Integer(K)).evalf(20))
        digits_ok = math.floor(b_bits * 100) / 100 == q
        best, arg = -math.inf, None
        # binary family (1-a, a) vs (1-b, b) on a grid of a, b solved for KL = 2 bits
        for a in np.concatenate([[0.0], np.logspace(-12, -2, 11), np.linspace(0.02, 0.98, 49)]):
            q0 = _binary_with_kl(float(a), target)
            if q0 is None:
                continue
            q1 = np.array([1 - a, a])
            v = kway_jsd_result(q1, q0, K).value
            if v > best:
                best, arg = v, (q1, q0)
        # three letters: maximise D_KJS on the KL = 2 bits surface (scaled q0 = q1 tilted)
        def neg(theta: np.ndarray) -> float:
            q1 = np.exp(theta[:3]) / np.exp(theta[:3]).sum()
            w = np.exp(theta[3:]) / np.exp(theta[3:]).sum()

            def gap(s: float) -> float:  # q0 = q1 tilted by w^s, KL increasing in s
                q0 = q1 * w ** s / float(q1 @ w ** s)
                return float(kl(q1, q0)) - target
            try:
                s = optimize.brentq(gap, 0.0, 200.0)
            except ValueError:
                return 0.0
            q0 = q1 * w ** s / float(q1 @ w ** s)
            return -kway_jsd_result(q1, q0, K).value
        rng = _rng(7)
        for _ in range(3):
            res = optimize.minimize(neg, rng.normal(0, 1, 6), method="Nelder-Mead",
                                    options={"maxiter": 200, "xatol": 1e-6, "fatol": 1e-10})
            if -res.fun > best:
                best = -res.fun
        within = best <= (b_bits * LN2) + 1e-12
        ok &= within and digits_ok
        rows[K] = {"bound_bits": b_bits, "paper_quotes": q, "max_found_bits": best / LN2,
                   "gap_bits": b_bits - best / LN2,
                   "binary_maximiser": None if arg is None else
                   {"q1": arg[0].tolist(), "q0": arg[1].tolist()}}
    evidence = "; ".join(f"K = {K}: bound {r['bound_bits']:.4f} bits (paper {r['paper_quotes']}"
                         f"...), worst case found {r['max_found_bits']:.4f} bits, gap "
                         f"{r['gap_bits']:.3g} bits" for K, r in rows.items())
    tail = (" (the bound holds on these families)" if ok else " (D_KJS exceeds the bound: "
            "the point mass q1 = (1, 0) against q0 = (1/4, 3/4) already does, see thm2.c)")
    return Outcome("verified-exact" if ok else "refuted",
                   "exact D_KJS maximised over binary (grid, incl. the point mass) and 3-letter "
                   "(Nelder-Mead) distributions with KL = 2 bits", evidence + tail,
                   {str(k): v for k, v in rows.items()})


# ------------------------------------------------------------------------------ Thm 3
def _minimise_log_objective(q1, q0, K, nu):
    def loss(log_r: np.ndarray) -> float:
        return float(log_score_objective_result(np.exp(log_r), q1, q0, K, nu).value)
    res = optimize.minimize(loss, np.zeros(q1.size), method="BFGS",
                            options={"gtol": 1e-11, "maxiter": 2000})
    return res.x, res.fun


@claim("thm3.minimise", "Minimising Eq. 4 over r in R_+^n returns r* (nu > 0) or C r* (nu = 0).",
       "Thm 3", "exact")
def check_thm3_minimise() -> Outcome:
    rows, worst_fixed, worst_shape = [], 0.0, 0.0
    for i, (q1, q0) in enumerate(_pairs(4, sizes=(3, 4), offset=4, zeros=False)):
        log_star = np.log(q1 / q0)
        for K, nu in ((1, 1.0), (2, 0.5), (4, 2.0), (2, 0.0), (5, 0.0)):
            x, fun = _minimise_log_objective(q1, q0, K, nu)
            diff = x - log_star
            shape_err = float(np.max(np.abs(diff - diff.mean())))
            offset = float(abs(diff.mean()))
            at_star = float(log_score_objective_result(q1 / q0, q1, q0, K, nu).value)
            rows.append({"pair": i, "K": K, "nu": nu, "max |log r - log r* - C|": shape_err,
                         "C": float(diff.mean()), "L(argmin) - L(r*)": fun - at_star})
            worst_shape = max(worst_shape, shape_err)
            if nu > 0:
                worst_fixed = max(worst_fixed, offset)
    tol = 1e-4
    ok = worst_shape < tol and worst_fixed < tol
    free = [abs(r["C"]) for r in rows if r["nu"] == 0]
    return Outcome("verified-exact" if ok else "refuted",
                   "BFGS over log r in R^n on the exact objective (types method)",
                   f"{len(rows)} minimisations (n = 3, 4; K in 1..5; nu in 0, 0.5, 1, 2): argmin "
                   f"matches log r* up to a constant within {worst_shape:.1e}; with nu > 0 the "
                   f"constant is 0 within {worst_fixed:.1e}; with nu = 0 the objective is flat "
                   f"along C (constants found: up to {max(free):.2g})", {"runs": rows})


@claim("appendix-a", "With q1 = p(x, y), q0 = p(x)p(y) and nu = 0 the minimiser is "
       "C p(x,y)/(p(x)p(y)); with nu > 0 it is p(x,y)/(p(x)p(y)).", "App. A", "exact")
def check_appendix_a() -> Outcome:
    rng = _rng(5)
    rows, ok = [], True
    for shape in ((2, 2), (2, 3)):
        joint = rng.dirichlet(np.ones(shape[0] * shape[1])).reshape(shape)
        px, py = joint.sum(1), joint.sum(0)
        q1, q0 = joint.ravel(), np.outer(px, py).ravel()
        log_pmi = np.log(q1 / q0)
        for K, nu in ((2, 0.0), (3, 0.0), (2, 1.0), (3, 0.5)):
            x, _ = _minimise_log_objective(q1, q0, K, nu)
            diff = x - log_pmi
            shape_err = float(np.max(np.abs(diff - diff.mean())))
            rows.append({"shape": shape, "K": K, "nu": nu, "shape_err": shape_err,
                         "C": float(np.exp(diff.mean()))})
            ok &= shape_err < 1e-4 and (nu == 0 or abs(diff.mean()) < 1e-4)
    return Outcome("verified-exact" if ok else "refuted",
                   "BFGS on the exact Eq. 4 over the joint alphabet (q1 = p(x,y), "
                   "q0 = p(x)p(y))",
                   "minimisers match the PMI ratio up to C (nu = 0) and exactly (nu > 0) within "
                   f"{max(r['shape_err'] for r in rows):.1e} on 2x2 and 2x3 tables",
                   {"runs": rows})


# ------------------------------------------------------------------------------ Thm 6 / 19
@lru_cache(maxsize=None)
def _bregman_terms(name: str, alpha, K: int, nu_zero: bool):
    """Compiled ``(L(r) - L(r*)`` density, ``-L(r*)`` density) of Thm 6 / Thm 19 in
    ``(s1..sK, r1..rK, nu)``: Bregman divergences of the rule's generator, built by
    ``theory.identities.bregman`` (not from the objective)."""
    entry = catalogue.entry(name)
    values = {} if alpha is None else {"alpha": sp.nsimplify(alpha)}
    s, r = critic_points(K)
    nu = sp.Integer(0) if nu_zero else NU
    if entry.kind == "asymmetric":
        psi = entry.generator(K, **values)
        gap = nu / (K + nu) * identities.bregman(psi.expr, psi.variables,
                                                 tuple(x / nu for x in s), tuple(x / nu for x in r))
        opt = nu / (K + nu) * psi.expr.subs(dict(zip(psi.variables, [x / nu for x in s])),
                                            simultaneous=True)
    else:
        phi = entry.generator(K - 1 if nu_zero else K, **values)
        density = (nu + sp.Add(*s)) / (K + nu)
        gap = density * identities.bregman(phi.expr, phi.variables, true_posterior(K, nu, s),
                                           model_posterior(K, nu))
        opt = density * phi.expr.subs(dict(zip(phi.variables, true_posterior(K, nu, s))),
                                      simultaneous=True)
    args = s + r + (NU,)
    return compile_expr(gap, args), compile_expr(opt, args)


def _against_q0(fn, q0: np.ndarray, star: np.ndarray, r: np.ndarray, K: int, nu: float) -> float:
    """``E_{q0^K}[fn(r*(x_1..x_K), r(x_1..x_K), nu)]`` by enumeration."""
    idx = np.indices((q0.size,) * K).reshape(K, -1).T
    w = np.prod(q0[idx], axis=1)
    vals = fn(*[star[idx[:, i]] for i in range(K)], *[r[idx[:, i]] for i in range(K)], nu)
    return float(w @ np.broadcast_to(vals, w.shape))


def _bregman_claim(kinds: str, cases) -> Outcome:
    rng = _rng(6)
    worst_gap, worst_opt, count = 0.0, 0.0, 0
    q1, q0 = _pairs(1, sizes=(3,), offset=6, zeros=False)[0]
    star = q1 / q0
    for name, alpha in cases:
        for K, nu in ((1, 1.0), (2, 0.5), (2, 2.0), (3, 1.0)) + \
                (((2, 0.0), (3, 0.0)) if kinds == "symmetric" else ()):
            gap_fn, opt_fn = _bregman_terms(name, alpha, K, nu == 0)
            at_star = population_objective_result(name, star, q1, q0, K, nu, alpha,
                                                   method="types")
            rhs_opt = _against_q0(opt_fn, q0, star, star, K, nu)
            worst_opt = max(worst_opt, abs(-at_star.value - rhs_opt))
            for _ in range(3):
                r = np.exp(rng.normal(0, 1, q1.size))
                got = population_objective_result(name, r, q1, q0, K, nu, alpha, method="types")
                lhs = got.value - at_star.value
                rhs = _against_q0(gap_fn, q0, star, r, K, nu)
                worst_gap = max(worst_gap, abs(lhs - rhs) / max(1.0, abs(lhs)))
                count += 1
    ok = worst_gap < 1e-10 and worst_opt < 1e-10
    return Outcome("verified-exact" if ok else "refuted",
                   "exact L(r) (types method, Table rows) against E_{q0^K} of the generator's "
                   "Bregman divergence (theory.identities.bregman), enumerated",
                   f"{count} random critics, {len(cases)} rules, K in 1..3: max relative "
                   f"|L(r) - L(r*) - E[B]| = {worst_gap:.2g}; max |-L(r*) - E[generator]| = "
                   f"{worst_opt:.2g} nats", {"q1": q1.tolist(), "q0": q0.tolist()})


@claim("thm6.exact", "Thm 6's identity holds for random critics on discrete distributions.",
       "Thm 6", "exact")
def check_thm6_exact() -> Outcome:
    return _bregman_claim("asymmetric", (("kliep", None), ("robust_power", 2.0),
                                         ("robust_power", 0.5), ("inverse_log", None)))


@claim("thm19.exact", "Thm 19's identity holds for random critics on discrete distributions.",
       "Thm 19", "exact")
def check_thm19_exact() -> Outcome:
    return _bregman_claim("symmetric", (("log", None), ("power", 2.0), ("power", 0.5),
                                        ("sym_inverse_log", None), ("pseudo_spherical", 2.0)))


# ------------------------------------------------------------------------------ Thm 7
@claim("thm7.a", "With nu/K -> beta, -L_{K;nu}(r) + log(K)/(beta+1) -> beta/(beta+1) log beta "
       "+ E_q1[log r]/(beta+1) - log(beta + E_q0[r]).", "Thm 7", "exact")
def check_thm7_a() -> Outcome:
    limit = compile_expr(bounds.thm7_limit(), (bounds.BETA, bounds.E_LOG_R, bounds.E_R))
    rng = _rng(8)
    q1, q0 = _pairs(1, sizes=(5,), offset=8, zeros=False)[0]
    r = np.exp(rng.normal(0, 1, 5))
    elogr, er = float(q1 @ np.log(r)), float(q0 @ r)
    rows, ok = [], True
    for beta in (0.0, 0.5, 1.0, 4.0):
        target = float(limit(beta, elogr, er)) if beta > 0 else elogr - math.log(er)
        errs = []
        for K in (10, 10**3, 10**5, 10**7):
            nu = beta * K
            loss = log_score_objective_result(r, q1, q0, K, nu, method="laplace").value
            errs.append(abs(-loss + math.log(K) / (beta + 1) - target))
        rows.append({"beta": beta, "limit_nats": target, "errors_at_K=1e1,1e3,1e5,1e7": errs})
        ok &= errs[-1] < 1e-5 and errs[-1] < errs[0]
    return Outcome("verified-exact" if ok else "refuted",
                   "exact -L_{K;beta K}(r) by the Laplace integral at K = 10..10^7 against the "
                   "compiled limit (theory.bounds.thm7_limit)",
                   "; ".join(f"beta = {r_['beta']}: |error| {r_['errors_at_K=1e1,1e3,1e5,1e7'][0]:.2g}"
                             f" (K = 10) -> {r_['errors_at_K=1e1,1e3,1e5,1e7'][-1]:.2g} (K = 1e7)"
                             for r_ in rows), {"runs": rows})


@claim("thm7.c", "Equality in Thm 7 iff r = r* (beta > 0) or r = C r* (beta = 0).", "Thm 7",
       "exact")
def check_thm7_c() -> Outcome:
    limit = compile_expr(bounds.thm7_limit(), (bounds.BETA, bounds.E_LOG_R, bounds.E_R))
    upper = compile_expr(bounds.thm7_upper(), (bounds.BETA, bounds.D))
    q1, q0 = _pairs(1, sizes=(4,), offset=9, zeros=False)[0]
    star, D = q1 / q0, kl(q1, q0)

    def value(beta: float, r: np.ndarray) -> float:
        elogr, er = float(q1 @ np.log(r)), float(q0 @ r)
        return float(limit(beta, elogr, er)) if beta > 0 else elogr - math.log(er)

    rows, ok = [], True
    for beta in (0.0, 0.25, 1.0, 3.0):
        ub = float(upper(beta, D)) if beta > 0 else D
        at_star = ub - value(beta, star)
        scaled = ub - value(beta, 2.0 * star)
        res = optimize.minimize(lambda x: -value(beta, np.exp(x)), np.zeros(4), method="BFGS",
                                options={"gtol": 1e-12})
        diff = res.x - np.log(star)
        shape = float(np.max(np.abs(diff - diff.mean())))
        rows.append({"beta": beta, "gap_at_r*": at_star, "gap_at_2r*": scaled,
                     "argmax_shape_err": shape, "argmax_C": float(np.exp(diff.mean()))})
        ok &= abs(at_star) < 1e-12 and shape < 1e-5
        ok &= (abs(scaled) < 1e-12) if beta == 0 else (scaled > 1e-6 and abs(diff.mean()) < 1e-5)
    return Outcome("verified-exact" if ok else "refuted",
                   "closed-form limit (compiled from theory.bounds) at r*, 2 r* and its BFGS "
                   "maximiser", "; ".join(f"beta = {r['beta']}: gap at r* {r['gap_at_r*']:.1g}, "
                                          f"at 2r* {r['gap_at_2r*']:.3g}, argmax C = "
                                          f"{r['argmax_C']:.6g}" for r in rows),
                   {"runs": rows})


# ------------------------------------------------------------------------------ Sec. 3.3
def _max_alpha_infonce(q1, q0, K, alpha, starts=3, seed=0):
    rng = np.random.default_rng(seed)
    best, arg = -math.inf, None
    for _ in range(starts):
        res = optimize.minimize(
            lambda x: -estimators.alpha_infonce(np.exp(x), q1, q0, K, alpha),
            rng.normal(0, 1, q1.size), method="BFGS", options={"gtol": 1e-10})
        if -res.fun > best:
            best, arg = -res.fun, np.exp(res.x)
    return best, arg


@claim("sec3.3.lee-shin", "Lee & Shin (2022): alpha-InfoNCE is a tight lower bound of "
       "D(q1 || alpha q1 + (1 - alpha) q0).", "Sec. 3.3", "exact")
def check_lee_shin() -> Outcome:
    found_above, found_below, rows = None, None, []
    for i, (q1, q0) in enumerate(_pairs(4, sizes=(2, 3), offset=10, zeros=False)):
        for K, alpha in ((2, 0.5), (3, 1 / 3), (4, 0.1), (8, 0.05)):
            skew = kl(q1, alpha * q1 + (1 - alpha) * q0)
            best, arg = _max_alpha_infonce(q1, q0, K, alpha, seed=i)
            rows.append({"q1": q1.tolist(), "q0": q0.tolist(), "K": K, "alpha": alpha,
                         "sup_D_alpha": best, "skew_KL": skew, "argmax_r": arg.tolist()})
            if best > skew + 1e-9 and (found_above is None or
                                       best - skew > found_above["sup_D_alpha"] -
                                       found_above["skew_KL"]):
                found_above = rows[-1]
            if best < skew - 1e-6 and found_below is None:
                found_below = rows[-1]
    if found_above is not None:
        c = found_above
        return Outcome("refuted", "BFGS over critics on exact alpha-InfoNCE (Laplace integral)",
                       f"not a lower bound: q1 = {_fmt(np.array(c['q1']))}, q0 = "
                       f"{_fmt(np.array(c['q0']))}, K = {c['K']}, alpha = {c['alpha']:.4g}: "
                       f"D_alpha(r) = {c['sup_D_alpha']:.6f} > D(q1||alpha q1+(1-alpha) q0) = "
                       f"{c['skew_KL']:.6f} nats (the largest excess of "
                       f"{sum(r['sup_D_alpha'] > r['skew_KL'] + 1e-9 for r in rows)}/{len(rows)} "
                       "violating cases; at alpha = 1/K this is InfoNCE, sup = D_KJS)",
                       {"counterexample": c, "runs": rows})
    if found_below is not None:
        c = found_below
        return Outcome("refuted", "BFGS over critics on exact alpha-InfoNCE (Laplace integral)",
                       f"the bound holds in all {len(rows)} cases but is not tight: q1 = "
                       f"{_fmt(np.array(c['q1']))}, q0 = {_fmt(np.array(c['q0']))}, K = {c['K']}, "
                       f"alpha = {c['alpha']:.4g}: sup_r D_alpha(r) = {c['sup_D_alpha']:.6f} < "
                       f"D(q1||alpha q1+(1-alpha) q0) = {c['skew_KL']:.6f} nats (gap "
                       f"{c['skew_KL'] - c['sup_D_alpha']:.3g}); the paper's point that "
                       "equality is unclear is borne out", {"counterexample": c, "runs": rows})
    return Outcome("verified-exact", "BFGS over critics", f"sup D_alpha = skew KL in all "
                   f"{len(rows)} cases", {"runs": rows})


@claim("sec3.3.alpha-not-bound", "For alpha < 1/K, alpha-InfoNCE is not a lower bound of "
       "D(q1 || q0).", "Sec. 3.3", "exact")
def check_alpha_not_bound() -> Outcome:
    q1, q0 = np.array([0.55, 0.45]), np.array([0.45, 0.55])
    D = kl(q1, q0)
    for K, alpha in ((2, 0.1), (4, 0.05)):
        best, arg = _max_alpha_infonce(q1, q0, K, alpha)
        if best > D + 1e-9:
            return Outcome("verified-exact", "BFGS over critics on exact alpha-InfoNCE",
                           f"counterexample: q1 = {_fmt(q1)}, q0 = {_fmt(q0)}, K = {K}, alpha = "
                           f"{alpha} < 1/K: D_alpha(r) = {best:.6f} > D(q1||q0) = {D:.6f} nats "
                           f"at r = {_fmt(arg)}",
                           {"q1": q1.tolist(), "q0": q0.tolist(), "K": K, "alpha": alpha,
                            "r": arg.tolist(), "D_alpha": best, "KL": D})
    return Outcome("refuted", "BFGS over critics", "no critic exceeded D(q1||q0)", {})


@claim("sec3.3.mlinfonce", "MLInfoNCE <= D(q1 || q0) (Song & Ermon 2020, Thm 2).", "Sec. 3.3",
       "exact")
def check_mlinfonce() -> Outcome:
    rows, worst = [], -math.inf
    for i, (q1, q0) in enumerate(_pairs(6, sizes=(2, 3), offset=11, zeros=False)):
        D = kl(q1, q0)
        for n, m in ((1, 4), (2, 2), (4, 2), (8, 4)):
            rng = np.random.default_rng(i)
            best = -math.inf
            for _ in range(2):
                res = optimize.minimize(
                    lambda x: -estimators.mlinfonce(np.exp(x), q1, q0, n, m),
                    rng.normal(0, 1, q1.size), method="BFGS", options={"gtol": 1e-10})
                best = max(best, -res.fun)
            rows.append({"pair": i, "n": n, "m": m, "sup_D_ML": best, "KL": D,
                         "log(nm)": math.log(n * m)})
            worst = max(worst, best - D)
    ok = worst <= 1e-9
    return Outcome("verified-exact" if ok else "refuted",
                   "BFGS over critics on exact D_ML (Laplace integral; the estimators module "
                   "states the reading of the garbled formula)",
                   f"{len(rows)} (distribution, n, m) cases: max sup_r D_ML - KL = {worst:.3g} "
                   "nats", {"runs": rows})


# ------------------------------------------------------------------------------ Prop 1, Eq. 5
@claim("prop1.exact", "D_InfoNCE(r) <= min{log K, D(q1 || q0)} for random critics and "
       "distributions (exactly).", "Prop 1", "exact")
def check_prop1_exact() -> Outcome:
    rng = _rng(12)
    worst_logk, worst_kl, tried = -math.inf, -math.inf, 0
    for q1, q0 in _pairs(24, offset=12):
        D = kl(q1, q0)
        for K in (1, 2, 5, 100, 10**6):
            for _ in range(4):
                r = np.exp(rng.normal(0, 2.0, q1.size))
                got = infonce_divergence_result(r, q1, q0, K)
                tried += 1
                worst_logk = max(worst_logk, got.value - math.log(K) - got.error_estimate)
                if math.isfinite(D):
                    worst_kl = max(worst_kl, got.value - D - got.error_estimate)
    ok = worst_logk <= 1e-12 and worst_kl <= 1e-12
    return Outcome("verified-exact" if ok else "refuted", "exact (types / Laplace)",
                   f"{tried} random critics, 24 pairs (zeros, support mismatch), K up to 10^6: "
                   f"max D_InfoNCE - log K = {worst_logk:.2g}, max D_InfoNCE - KL = "
                   f"{worst_kl:.2g} nats", {"max_minus_log_k": worst_logk,
                                             "max_minus_kl": worst_kl})


@claim("eq5.exact", "Eq. 5's left-hand side is <= D for every critic, equals DV at beta = 0, tends "
       "to NWJ as beta -> infinity and is non-increasing in beta (exactly, random critics).",
       "Eq. 5", "exact")
def check_eq5_exact() -> Outcome:
    # 40-digit evaluation: in float64, (beta+1) log(1 + (E r - 1)/(beta+1)) loses ~beta eps
    lhs = compile_expr(bounds.eq5(), (bounds.BETA, bounds.E_LOG_R, bounds.E_R), "mpmath")
    rng = _rng(13)
    betas = np.concatenate([[0.0], np.logspace(-4, 6, 41)])
    worst_bound, worst_mono, worst_ends, tried = -math.inf, -math.inf, 0.0, 0
    for q1, q0 in _pairs(20, offset=13, zeros=False):
        D = kl(q1, q0)
        for _ in range(5):
            r = np.exp(rng.normal(0, 1.5, q1.size))
            c = np.log(r)
            elogr, er = float(q1 @ c), float(q0 @ r)
            with mpmath.workdps(40):
                values = [elogr - math.log(er)] + [
                    float(lhs(mpmath.mpf(b), mpmath.mpf(elogr), mpmath.mpf(er)))
                    for b in betas[1:]]
            worst_bound = max(worst_bound, max(values) - D)
            worst_mono = max(worst_mono, max(np.diff(values)))
            # ends: beta = 0 is DV; beta = 1e6 is NWJ up to O(1/beta)
            worst_ends = max(worst_ends, abs(values[0] - estimators.dv(c, q1, q0)),
                             abs(values[-1] - estimators.nwj(c, q1, q0)) / 1e2)
            tried += 1
    ok = worst_bound <= 1e-12 and worst_mono <= 1e-12 and worst_ends < 1e-4
    return Outcome("verified-exact" if ok else "refuted",
                   "exact expectations in the compiled Eq. 5 (theory.bounds.eq5, evaluated at "
                   "40 digits) on a grid of 42 beta values in [0, 1e6]",
                   f"{tried} random critics on 20 pairs: max LHS - D = {worst_bound:.3g} nats; "
                   f"max increase between consecutive betas = {worst_mono:.2g} nats; ends match "
                   "DV (beta = 0) and NWJ (beta = 1e6)",
                   {"max_minus_kl": worst_bound, "max_increase": worst_mono})
