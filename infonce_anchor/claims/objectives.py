"""Claims on the DRE objectives: Eq. 4 and its minimiser (Thm 3, App. A), Thm 6 and
Thm 19 (the excess risk as an expected Bregman divergence), Prop 20 and Sec. 3.4's special cases.

Each statement's checks sit together: the symbolic proof (``theory``), the exact check on
discrete distributions (``numerics``) and, for Thm 3, critics trained with the torch losses.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp
from scipy import optimize

from infonce_anchor.claims import sampling
from infonce_anchor.claims.common import (
    GENERIC_M,
    catalogue_generator,
    catalogue_rule,
    certificate,
    distribution_pairs,
    identity_claim,
    psi_checks,
    rule_names,
    seeded_rng,
)
from infonce_anchor.claims.registry import Outcome, claim
from infonce_anchor.claims.sampling import (
    TRAINING,
    seed_spread,
    trained_critic_joint,
    trained_tables,
)
from numerics.exact import mi
from numerics.exact.kjs import log_score_objective_result
from numerics.exact.objectives import population_objective_result
from theory import catalogue
from theory import identities as ids
from theory.compile import compile_expr
from theory.dre import (
    R1,
    critic_points,
    dre_objective,
    model_posterior,
    prop20_invariant,
    prop20_reduction,
    slot_symbols,
    true_posterior,
)
from theory.generators import generic_symmetric
from theory.rules import custom_rule
from theory.symbols import NU, class_probabilities, numeric_zero, symbolic_zero


# ------------------------------------------------------- Eq. 4: InfoNCE and JS as special cases
def _log_objective(K: int, nu: object):
    return dre_objective(catalogue_rule("log", K if nu != 0 else K - 1), K, nu,
                         require_proper=False)


@claim("eq4.infonce", "With nu = 0 and K >= 2, Eq. 4 is InfoNCE: "
       "L_{K;0}(r) = L_InfoNCE(r) + log K.",
       "Sec. 3, Eq. 4; Table 1; Table 7 (log row)")
def check_eq4_infonce() -> Outcome:
    results = []
    for K in (2, 3, 4):
        r = slot_symbols(K)
        (term,) = _log_objective(K, 0).terms
        infonce = -sp.log(r[0] / (sp.Add(*r) / K))
        results.append(symbolic_zero(term.integrand - (infonce + sp.log(K))))
    evidence = ("the derived integrand -log(r1/sum_i r_i) equals InfoNCE's -log(r1/((1/K) sum_i "
                f"r_i)) + log K for K = 2, 3, 4: {results}")
    return Outcome("verified-symbolic" if all(results) else "refuted", "sympy", evidence)


@claim("eq4.js", "With K = 1 and nu = 1, Eq. 4 is the JS / NT-logistic loss: L_JS(c) = "
       "2 L_{1;1}(e^c) (Table 1; JS-plugin = InfoNCE-anchor at K = 1, nu = 1, Sec. 4.1).",
       "Sec. 3, Eq. 4; Table 1; Table 6 (log row)")
def check_eq4_js() -> Outcome:
    c = sp.Symbol("c", real=True)
    obj = _log_objective(1, 1)
    joint, noise = obj.terms
    softplus = lambda t: sp.log(1 + sp.exp(t))
    lhs = [2 * joint.weight * joint.integrand, 2 * noise.weight * noise.integrand]
    rhs = [softplus(-c), softplus(c)]
    ok = all(symbolic_zero(sp.expand_log(a.xreplace({R1: sp.exp(c)}), force=True) - b) or
             numeric_zero(a.xreplace({R1: sp.exp(c)}) - b)[0] for a, b in zip(lhs, rhs))
    return Outcome("verified-symbolic" if ok else "refuted", "sympy",
                   "2 * (1/2) E_q1[-log(r/(1 + r))] = E_q1[softplus(-c)] and 2 * (1/2) "
                   f"E_q0[-log(1/(1 + r))] = E_q0[softplus(c)] with r = e^c: {ok}")


# -------------------------------------------------------------- Thm 3 and App. A: the minimiser
@claim("thm3.a", "For nu > 0 the InfoNCE-anchor minimiser is r = r* (q0-a.e.): Fisher consistency.",
       "Thm 3, Sec. 3")
def check_thm3a() -> Outcome:
    gap = [ids.thm6(catalogue_generator("kliep", K), NU) for K in (1, 2, 3)]
    log_anchor = [ids.thm19(catalogue_generator("log", K), NU) for K in (1, 2, 3)]
    cert = certificate("log", 2)
    return identity_claim(gap + log_anchor, generic_note="Eq. 4 is the log-score objective; its "
                          "excess risk is E_{p(x)}[B_Phi(eta*, eta_theta)] with Phi = sum eta log "
                          "eta (= KL(eta*||eta_theta)), proved pointwise for K = 1, 2, 3, which "
                          "vanishes iff eta_theta = eta* iff r = r* since nu > 0 fixes the scale",
                          extra=f"log score strictly proper: {cert.strictly_proper} "
                          f"({cert.method})")


@claim("thm3.b", "For nu = 0 (InfoNCE) the minimiser is only determined up to a constant: "
       "r = C r*.", "Thm 3, Sec. 3.1")
def check_thm3b() -> Outcome:
    C = sp.Symbol("C", positive=True)
    results = []
    for K in (2, 3, 4):
        (term,) = _log_objective(K, 0).terms
        r = slot_symbols(K)
        results.append(symbolic_zero(term.integrand.xreplace({x: C * x for x in r})
                                     - term.integrand))
    gap = [ids.thm19(catalogue_generator("log", K - 1), sp.Integer(0)) for K in (2, 3)]
    return identity_claim(gap, generic_note="the InfoNCE integrand is invariant under r -> C r "
                          f"(K = 2, 3, 4: {results}), and its excess risk E[KL(eta*||r/sum r)] "
                          "vanishes exactly on r = C r*",
                          extra="" if all(results) else "SCALE INVARIANCE FAILED")


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
    for i, (q1, q0) in enumerate(distribution_pairs(4, sizes=(3, 4), offset=4, zeros=False)):
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
    rng = seeded_rng(5)
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


def _consistency(estimator: str, **kw) -> Outcome:
    J = trained_critic_joint()
    truth = mi.mutual_information(J)
    pmi = mi.pmi(J)
    res, tables = trained_tables(estimator, **kw)
    plug_in = [float((J * t).sum()) for t in tables]  # exact E_p[c] of each learned table
    err = [float(np.max(np.abs(t - pmi))) for t in tables]
    held_out = res.per_run("plugin_nats")
    # criteria: the mean plug-in within 3 standard errors (seed spread / sqrt(4)) of the MI, and
    # 10x closer to the MI than to D_KJS (what InfoNCE lands on at the same K)
    kjs = mi.mi_kway_jsd(J.T, TRAINING["batch_size"] - 1)
    mean = float(np.mean(plug_in))
    se = float(np.std(plug_in, ddof=1) / np.sqrt(len(plug_in)))
    ok = abs(mean - truth) <= 3 * se and abs(mean - truth) < abs(mean - kjs) / 10
    setting = ", ".join(f"{k} = {v}" for k, v in kw.items())
    return Outcome("verified-sampled" if ok else "refuted",
                   f"4 tabular critics trained on CPU ({estimator}, B = "
                   f"{TRAINING['batch_size']}{', ' + setting if setting else ''}, Adam lr "
                   f"{TRAINING['lr']}, {TRAINING['steps']} steps); plug-in E_p[c] of each learned "
                   "table computed exactly",
                   f"plug-in = {seed_spread(plug_in)} nats vs MI = {truth:.4f} nats; max |log r - "
                   f"PMI| per critic: {', '.join(f'{e:.3f}' for e in err)}; held-out minibatch "
                   f"plug-in {seed_spread(held_out)}. Criteria: "
                   f"|mean - MI| = {abs(mean - truth):.4f} "
                   f"<= 3 SE = {3 * se:.4f}, and 10x closer to the MI than to D_KJS = {kjs:.4f}",
                   {"mi_nats": truth, "kjs_nats": kjs, "plug_in_exact_nats": plug_in,
                    "max_log_r_error": err, "held_out_plugin_nats": held_out})


@claim("sampled.anchor-mi", "With InfoNCE-anchor the plug-in E_p[c] converges to the MI and "
       "log r to log r*.", "Thm 3 / Sec. 3.1", "sampled")
def check_sampled_anchor() -> Outcome:
    if sampling.torch_or_none() is None:
        return sampling.needs_torch()
    return _consistency("infonce_anchor", nu=1.0)


@claim("sampled.js", "JS (K = 1, nu = 1) is likewise consistent.", "Sec. 3", "sampled")
def check_sampled_js() -> Outcome:
    if sampling.torch_or_none() is None:
        return sampling.needs_torch()
    return _consistency("js")


# ---------------------------------------- Thm 6 (asymmetric rules) and Sec. 3.4's special cases
@claim("thm6.a", "L(r) - L(r*) = nu/(K+nu) E_{q0^K}[B_Psi(rho*, rho_theta)], "
       "rho = (1, r(x_1)/nu, ..., r(x_K)/nu).", "Thm 6, Sec. 3.4")
def check_thm6a() -> Outcome:
    checks = psi_checks(ids.thm6, NU)
    return identity_claim(checks, generic_note="proved pointwise in x_{1:K} (against "
                          "prod q0) for generic Psi, K = 1, 2, 3, symbolic nu > 0; integrating "
                          "over q0^K gives the theorem")


@claim("thm6.b", "-L(r) <= -L(r*) = nu/(K+nu) E_{q0^K}[Psi(rho*)] for convex Psi; equality iff "
       "r = r* for strictly convex Psi.", "Thm 6, Sec. 3.4")
def check_thm6b() -> Outcome:
    # the value at r* is an identity; the rest is thm6.a's Bregman form
    from_thm6a = ("the inequality and its equality case follow from thm6.a since B_Psi >= 0 for "
                  "convex Psi and = 0 iff rho_theta = rho* (i.e. r = r*, nu > 0) for strictly "
                  "convex Psi")
    return identity_claim(psi_checks(ids.thm6_optimum, NU), generic_note="the value at r* "
                          f"proved pointwise for generic Psi, K = 1, 2, 3; {from_thm6a}")


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
        gap = nu / (K + nu) * ids.bregman(psi.expr, psi.variables,
                                          tuple(x / nu for x in s), tuple(x / nu for x in r))
        opt = nu / (K + nu) * psi.expr.subs(dict(zip(psi.variables, [x / nu for x in s])),
                                            simultaneous=True)
    else:
        phi = entry.generator(K - 1 if nu_zero else K, **values)
        density = (nu + sp.Add(*s)) / (K + nu)
        gap = density * ids.bregman(phi.expr, phi.variables, true_posterior(K, nu, s),
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
    rng = seeded_rng(6)
    worst_gap, worst_opt, count = 0.0, 0.0, 0
    q1, q0 = distribution_pairs(1, sizes=(3,), offset=6, zeros=False)[0]
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


@claim("sec3.4.fdiv", "For K = 1 and nu = 1 the right-hand side -L(r*) of Thm 6 becomes the "
       "f-divergence D_f(q1||q0) with f = Psi.", "Sec. 3.4 'Special cases'")
def check_fdiv() -> Outcome:
    psi = catalogue_generator("kliep", 1)
    opt = ids.thm6_optimum(psi, sp.Integer(1))
    q1 = (sp.Rational(1, 2), sp.Rational(1, 2))
    q0 = (sp.Rational(1, 4), sp.Rational(3, 4))
    rho = psi.variables[0]
    rhs = sp.Rational(1, 2) * sum(b * psi.expr.subs(rho, a / b) for a, b in zip(q1, q0))
    kl = sum(a * sp.log(a / b) for a, b in zip(q1, q0))
    details = {"q1": [str(v) for v in q1], "q0": [str(v) for v in q0],
               "minus_L_at_r_star_nats": str(sp.N(rhs, 20)), "D_f_nats": str(sp.N(kl, 20)),
               "ratio": str(sp.nsimplify(sp.simplify(rhs / kl)))}
    if not opt.holds:
        return Outcome("refuted", "sympy", "Thm 6's value at r* itself failed", details)
    if symbolic_zero(rhs - kl):
        return Outcome("verified-symbolic", "sympy", "-L(r*) = D_f", details)
    # Severity: minor.  The text ("the right hand side becomes the f-divergence D_f(q1 || q0)
    # when f = Psi", Sec. 3.4 'Special Cases') drops Thm 6's factor nu/(K + nu) = 1/2: with it
    # the statement holds exactly, and a positive constant changes neither the maximiser nor
    # the variational representation it names.
    return Outcome(
        "refuted", "sympy (Thm 6 at K = 1, nu = 1) + exact counterexample",
        "-L(r*) = nu/(K+nu) E_q0[Psi(r*)] = (1/2) D_f(q1||q0), not D_f: counterexample with "
        f"Psi = rho log rho (f = KL), q1 = (1/2, 1/2), q0 = (1/4, 3/4): -L(r*) = "
        f"{details['minus_L_at_r_star_nats']} nats but D_f = {details['D_f_nats']} nats. "
        "The statement holds up to the factor nu/(K+nu) = 1/2 (same maximiser; the f-DIME / "
        "f-MICL objectives are recovered up to that factor)", details, severity="minor",
        correction="at K = 1, nu = 1 the right-hand side is (1/2) D_f(q1||q0) (Thm 6's factor "
        "nu/(K + nu)); the objective is half the variational lower bound of D_f, with the same "
        "maximiser r*")


# --------------------------------------------------------- Thm 19 (symmetric rules) and Prop 20
@claim("thm19.a", "For nu > 0: L(r) - L(r*) = E_{p(x)}[B_Phi(eta*, eta_theta)] and "
       "-L(r) <= -L(r*) = E_{p(x)}[Phi(eta*)], equality iff r = r* for strictly convex Phi.",
       "Thm 19, App. E.1")
def check_thm19a() -> Outcome:
    checks = [ids.thm19(generic_symmetric(K), NU) for K in GENERIC_M]
    checks += [ids.thm19_optimum(generic_symmetric(K), NU) for K in GENERIC_M]
    checks += [ids.thm19(catalogue_generator(n, 2), NU) for n in rule_names("symmetric")]
    return identity_claim(checks, generic_note="proved pointwise for generic Phi, K = 1, 2, 3, "
                          "symbolic nu > 0 (density p(x)/prod q0 = (nu + sum r*)/(K + nu))")


@claim("thm19.b", "For nu = 0 (no anchor) the ratio is identified only up to a multiplicative "
       "constant.", "Thm 19 / App. E.1")
def check_thm19b() -> Outcome:
    checks = [ids.thm19(generic_symmetric(K - 1), sp.Integer(0)) for K in (2, 3)]
    scale = _scale_invariance_nu0()
    extra = ("the nu = 0 objectives of all symmetric catalogue rules are invariant under "
             f"r -> C r: {scale}")
    out = identity_claim(checks, generic_note="identity proved for generic Phi at nu = 0, "
                         "K = 2, 3: the gap is E[B_Phi(eta*, eta_theta)] with eta_theta = "
                         "r/sum(r), which vanishes for every r = C r*", extra=extra)
    if not scale:
        return Outcome("refuted", out.method, out.evidence, out.details)
    return out


def _scale_invariance_nu0() -> bool:
    C = sp.Symbol("C", positive=True)
    for name in rule_names("symmetric"):
        for K in (2, 3):
            obj = dre_objective(catalogue_rule(name, K - 1), K, 0, require_proper=False)
            r = slot_symbols(K)
            for term in obj.terms:
                scaled = term.integrand.xreplace({x: C * x for x in r})
                if not (symbolic_zero(scaled - term.integrand)
                        or numeric_zero(scaled - term.integrand)[0]):
                    return False
    return True


@claim("thm19.exact", "Thm 19's identity holds for random critics on discrete distributions.",
       "Thm 19", "exact")
def check_thm19_exact() -> Outcome:
    return _bregman_claim("symmetric", (("log", None), ("power", 2.0), ("power", 0.5),
                                        ("sym_inverse_log", None), ("pseudo_spherical", 2.0)))


@claim("prop20", "If lambda is invariant under swapping any two classes in 1..K, L = K/(K+nu) "
       "E_{q1 q0..q0}[lambda_1(eta_theta)] + nu/(K+nu) E_{q0^K}[lambda_0(eta_theta)].",
       "Prop 20, App. E.2")
def check_prop20() -> Outcome:
    failures, count = [], 0
    for name in rule_names():
        for K in (1, 2, 3):
            rule = catalogue.entry(name).rule(K)
            if not prop20_invariant(rule):
                failures.append(f"{name}, K = {K}: not swap invariant")
            for res in prop20_reduction(rule, K, NU):
                count += 1
                if not (symbolic_zero(res) or numeric_zero(res)[0]):
                    failures.append(f"{name}, K = {K}")
    e = class_probabilities(2)
    skewed = custom_rule([-sp.log(e[0]), -sp.log(e[1]), -2 * sp.log(e[2])], name="skewed")
    control = prop20_reduction(skewed, 2, NU)
    control_detects = not all(symbolic_zero(r) for r in control) and not prop20_invariant(skewed)
    evidence = (f"every catalogue rule (K = 1, 2, 3) is {{z1, z2}}-invariant on the classes "
                f"1..K (App. E.2's hypothesis), and slot relabelling 1 <-> z maps class z's term "
                f"onto class 1's for all {count} (rule, K, z) with symbolic nu; control: a rule "
                f"that is not swap "
                f"invariant (lambda_2 = -2 log eta_2) is "
                f"{'detected' if control_detects else 'MISSED'}")
    if failures or not control_detects:
        return Outcome("refuted", "slot relabelling", evidence + f"; failures: {failures}")
    return Outcome("verified-symbolic", "slot relabelling, sympy", evidence)
