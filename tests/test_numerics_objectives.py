"""Population objectives ``L^lambda_{K;nu}(r)`` of every catalogue rule (``numerics.exact.objectives``).

Three evaluations per objective must agree: ``enumerate`` (the unreduced class construction of
``theory.dre.class_terms``), ``types`` (the Table 5-7 rows of ``theory.dre.general_objective``:
the numeric check of Prop 20 and of the general-K tables) and, where it applies, ``laplace``.

Independent reference (``brute_objective``): Sec. 3.4's definition
``L = E_{p(z) p(x_{1:K}|z)}[lambda_z(eta_theta(x_{1:K}))]`` summed over every ``x_{1:K}`` and
every class with ``itertools``, in mpmath at 40 digits, with the losses ``lambda_z`` typed by hand
from Table 4 (symmetric rules: the table's ``lambda_z`` column, Eq. 8) or derived by hand
from ``Psi`` through Eq. 6 (asymmetric rules, comments at ``ASYMMETRIC``).  Nothing in it comes
from ``theory``.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest

from numerics import (
    kl,
    population_objective,
    population_objective_result,
    rule_divergence,
)
from numerics.exact.estimators import drf_loss, js_loss
from numerics.exact.kjs import infonce_divergence_result
from theory.errors import InputError

EPS = float(np.finfo(float).eps)


# --------------------------------------------------------------------------- losses by hand
# Symmetric rules, Table 4 (Eq. 8), eta = (eta_0..eta_M); each returns the loss vector.
def lam_log(eta, a):
    return [-mpmath.log(e) for e in eta]


def lam_power(eta, a):
    # ||eta||_a^a / a - eta_z^(a-1)/(a-1)
    norm = mpmath.fsum(e ** a for e in eta)
    return [norm / a - e ** (a - 1) / (a - 1) for e in eta]


def lam_sym_inverse_log(eta, a):
    # -(M+1) + sum_z' log eta_z' + 1/eta_z   (Eq. 8 keeps the constant)
    s = mpmath.fsum(mpmath.log(e) for e in eta)
    return [-len(eta) + s + 1 / e for e in eta]


def lam_pseudo_spherical(eta, a):
    # -(eta_z/||eta||_a)^(a-1)
    norm = mpmath.fsum(e ** a for e in eta) ** (1 / a)
    return [-(e / norm) ** (a - 1) for e in eta]


# Asymmetric rules, Eq. 6 with Psi(rho) = sum_k psi(rho_k), rho_k = eta_k/eta_0:
# lambda_0 = sum_k (rho_k psi'(rho_k) - psi(rho_k)), lambda_z = -psi'(rho_z).  By hand:
#   kliep        psi = rho log rho:            rho psi' - psi = rho,       -psi' = -(log rho + 1)
#   robust_power psi = (rho^a - rho)/(a(a-1)): rho psi' - psi = rho^a/a,
#                                              -psi' = (1 - a rho^(a-1))/(a(a-1))
#   inverse_log  psi = -log rho:               rho psi' - psi = log rho - 1, -psi' = 1/rho
def _asymmetric(anchor, other):
    def lam(eta, a):
        rho = [e / eta[0] for e in eta[1:]]
        return [mpmath.fsum(anchor(x, a) for x in rho)] + [other(x, a) for x in rho]
    return lam


ASYMMETRIC = {
    "kliep": _asymmetric(lambda x, a: x, lambda x, a: -(mpmath.log(x) + 1)),
    "robust_power": _asymmetric(lambda x, a: x ** a / a,
                                lambda x, a: (1 - a * x ** (a - 1)) / (a * (a - 1))),
    "inverse_log": _asymmetric(lambda x, a: mpmath.log(x) - 1, lambda x, a: 1 / x),
}
SYMMETRIC = {"log": lam_log, "power": lam_power, "sym_inverse_log": lam_sym_inverse_log,
             "pseudo_spherical": lam_pseudo_spherical}
FAMILY = {"brier": ("power", 2), "spherical": ("pseudo_spherical", 2), "lsif": ("robust_power", 2)}


def losses_for(rule, alpha):
    family, alpha = FAMILY.get(rule, (rule, alpha))
    return {**SYMMETRIC, **ASYMMETRIC}[family], alpha


def brute_objective(rule, alpha, r, q1, q0, K, nu, dps=40):
    """Sec. 3.4: sum_z p(z) sum_{x_{1:K}} p(x_{1:K}|z) lambda_z(eta_theta(x_{1:K})).

    Classes 0..K with p(0) = nu/(K+nu) (all slots from q0) and p(z) = 1/(K+nu) (slot z from
    q1); with nu = 0 there is no class 0.  eta_theta = (nu, r(x_1..x_K))/(nu + sum r), Eq. 3.
    The float laws are rescaled to sum to 1 exactly (as the code documents)."""
    lam, a = losses_for(rule, alpha)
    with mpmath.workdps(dps):
        a = None if a is None else mpmath.mpf(a)
        nu = mpmath.mpf(nu)
        p1 = [mpmath.mpf(x) for x in q1]
        p0 = [mpmath.mpf(x) for x in q0]
        p1 = [x / mpmath.fsum(p1) for x in p1]
        p0 = [x / mpmath.fsum(p0) for x in p0]
        rm = [mpmath.mpf(x) for x in r]
        classes = ([0] if nu > 0 else []) + list(range(1, K + 1))
        total = []
        for xs in itertools.product(range(len(r)), repeat=K):
            slots = [rm[x] for x in xs]
            P = nu + mpmath.fsum(slots)
            eta = ([nu / P] if nu > 0 else []) + [s / P for s in slots]
            losses = lam(eta, a)
            for idx, z in enumerate(classes):
                prior = nu / (K + nu) if z == 0 else 1 / (K + nu)
                w = prior * mpmath.fprod(p1[x] if i == z - 1 else p0[x] for i, x in enumerate(xs))
                if w:
                    total.append(w * losses[idx])
        return mpmath.fsum(total)


# --------------------------------------------------------------------------- cases
RULES = [("log", None), ("power", 0.5), ("power", 2), ("power", 3), ("sym_inverse_log", None),
         ("pseudo_spherical", 1.5), ("pseudo_spherical", 2), ("kliep", None),
         ("robust_power", 0.5), ("robust_power", 2), ("inverse_log", None), ("brier", None),
         ("spherical", None), ("lsif", None)]
SLOTS = [(1, 1), (2, 0), (2, 0.5), (3, 2)]
ASYMMETRIC_NAMES = ("kliep", "robust_power", "inverse_log", "lsif")
LAPLACE = {"log", "power", "brier"}     # power with alpha > 0 (every sample above)


def _rid(rule, alpha):
    return rule if alpha is None else f"{rule}-{alpha}"


def laws():
    """A full-support pair, and one with a zero in q1 and another in q0 (a random positive
    critic is finite everywhere, so every method applies)."""
    rng = np.random.default_rng(31)
    full = (rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3)))
    q1 = rng.dirichlet(np.ones(3))
    q1[0] = 0.0
    q0 = rng.dirichlet(np.ones(3))
    q0[2] = 0.0
    return {"full": full, "zeros": (q1 / q1.sum(), q0 / q0.sum())}


CRITIC = np.array([0.4, 2.5, 1.3])


# --------------------------------------------------------------------------- errors first
Q1, Q0, R3 = [0.2, 0.3, 0.5], [0.5, 0.25, 0.25], [1.0, 2.0, 0.5]


@pytest.mark.parametrize("kwargs,argument", [
    (dict(rule="nope"), "rule"),
    (dict(rule=3), "rule"),
    (dict(rule="power"), "alpha"),                                # missing alpha
    (dict(rule="pseudo_spherical", alpha=0.5), "alpha"),          # domain alpha > 1
    (dict(rule="power", alpha=1), "alpha"),                       # alpha not in {0, 1}
    (dict(rule="power", alpha=0), "alpha"),
    (dict(rule="robust_power", alpha=1.0), "alpha"),
    (dict(rule="log", alpha=2), "alpha"),                         # log has no alpha
    (dict(rule="brier", alpha=3), "alpha"),                       # brier fixes alpha = 2
    (dict(rule="power", alpha=float("nan")), "alpha"),
    (dict(r=[1.0, 0.0, 1.0]), "r"),
    (dict(r=[1.0, -2.0, 1.0]), "r"),
    (dict(r=[1.0, float("nan"), 1.0]), "r"),
    (dict(r=[1.0, float("inf"), 1.0]), "r"),
    (dict(r=[1.0, 2.0]), "r"),
    (dict(r=[[1.0, 2.0, 0.5]]), "r"),
    (dict(K=0), "K"),
    (dict(K=2.5), "K"),
    (dict(K=True), "K"),
    (dict(nu=-1), "nu"),
    (dict(nu=float("nan")), "nu"),
    (dict(K=1, nu=0), "nu"),
    (dict(q1=[0.2, 0.3, 0.6]), "q1"),                             # sums to 1.1
    (dict(q0=[0.5, 0.25, 0.2]), "q0"),                            # sums to 0.95
    (dict(q1=[-0.1, 0.6, 0.5]), "q1"),
    (dict(q0=[0.5, float("nan"), 0.5]), "q0"),
    (dict(q0=[0.5, 0.5]), "q0"),                                  # alphabet mismatch
    (dict(rule="kliep", nu=0), "nu"),                             # asymmetric needs nu > 0
    (dict(method="montecarlo"), "method"),
    (dict(rule="sym_inverse_log", method="laplace"), "method"),   # no Laplace form
    (dict(dps=5), "dps"),
])
def test_bad_input_names_the_argument(kwargs, argument):
    args = dict(rule="log", r=R3, q1=Q1, q0=Q0, K=2, nu=1.0, alpha=None)
    args.update(kwargs)
    method = args.pop("method", "auto")
    dps = args.pop("dps", None)
    with pytest.raises(InputError) as info:
        population_objective(args["rule"], args["r"], args["q1"], args["q0"], args["K"],
                             args["nu"], args["alpha"], method=method, dps=dps)
    assert info.value.argument == argument
    assert str(info.value).startswith(f"{argument}: ")


@pytest.mark.parametrize("rule", ASYMMETRIC_NAMES)
def test_asymmetric_rules_reject_nu_0_with_every_method(rule):
    alpha = 0.5 if rule == "robust_power" else None
    for method in ("auto", "enumerate", "types", "laplace"):
        with pytest.raises(InputError, match="nu") as info:
            population_objective(rule, R3, Q1, Q0, 2, 0, alpha, method=method)
        assert info.value.argument == "nu"


@pytest.mark.parametrize("rule", ASYMMETRIC_NAMES)
def test_asymmetric_rules_reject_unknown_method(rule):
    alpha = 0.5 if rule == "robust_power" else None
    with pytest.raises(InputError) as info:
        population_objective(rule, R3, Q1, Q0, 2, 1.0, alpha, method="montecarlo")
    assert info.value.argument == "method"


def test_rule_divergence_needs_q1_absolutely_continuous():
    with pytest.raises(InputError) as info:
        rule_divergence("log", [0.5, 0.5], [1.0, 0.0], 2, 1.0)
    assert info.value.argument == "q1"


def test_auto_refuses_huge_k_without_a_laplace_form():
    q = np.full(40, 1 / 40)
    with pytest.raises(InputError) as info:
        population_objective("spherical", np.ones(40), q, q, 200, 1.0)
    assert info.value.argument == "K"


# --------------------------------------------------------------------------- methods agree
@pytest.mark.parametrize("K,nu", SLOTS)
@pytest.mark.parametrize("rule,alpha", RULES, ids=[_rid(*x) for x in RULES])
def test_methods_agree_with_each_other_and_the_definition(rule, alpha, K, nu):
    for name, (q1, q0) in laws().items():
        if nu == 0 and rule in ASYMMETRIC_NAMES:
            with pytest.raises(InputError) as info:
                population_objective(rule, CRITIC, q1, q0, K, nu, alpha, method="types")
            assert info.value.argument == "nu"
            continue
        enum = population_objective_result(rule, CRITIC, q1, q0, K, nu, alpha,
                                           method="enumerate")
        typ = population_objective_result(rule, CRITIC, q1, q0, K, nu, alpha, method="types")
        assert enum.method == "enumerate"
        assert typ.method == ("single-slot" if rule in ASYMMETRIC_NAMES else "types")
        scale = max(1.0, abs(enum.value))
        assert abs(enum.value - typ.value) <= 1e-12 * scale, name
        ref = float(brute_objective(rule, alpha, CRITIC, q1, q0, K, nu))
        assert abs(enum.value - ref) <= 1e-12 * scale, name
        assert abs(typ.value - ref) <= 1e-12 * scale, name
        assert abs(typ.value - ref) <= typ.error_estimate + 4 * EPS * abs(ref), name
        if rule in LAPLACE:
            lap = population_objective_result(rule, CRITIC, q1, q0, K, nu, alpha,
                                              method="laplace")
            assert lap.method == "laplace"
            assert abs(lap.value - ref) <= lap.error_estimate + 4 * EPS * abs(ref), name


def test_enumerate_with_q1_mass_off_q0_support_has_no_warnings():
    # regression: the enumerate weights were formed as (all-q0 log weight) - log q0 + log q1,
    # which is -inf - (-inf) = NaN where q1 > 0 = q0: those configurations were dropped
    # (wrong value) with a RuntimeWarning
    import warnings
    q1, q0 = np.array([0.5, 0.3, 0.2]), np.array([0.0, 0.4, 0.6])
    for rule, alpha, K, nu in (("log", None, 2, 0), ("log", None, 1, 1), ("power", 2, 3, 0.5),
                               ("kliep", None, 2, 1.0)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            enum = population_objective(rule, CRITIC, q1, q0, K, nu, alpha, method="enumerate")
            typ = population_objective(rule, CRITIC, q1, q0, K, nu, alpha, method="types")
        ref = float(brute_objective(rule, alpha, CRITIC, q1, q0, K, nu))
        assert enum == pytest.approx(ref, rel=1e-12, abs=1e-14)
        assert typ == pytest.approx(ref, rel=1e-12, abs=1e-14)


# --------------------------------------------------------------------------- special cases
def test_log_rule_at_nu_0_is_log_k_minus_infonce():
    # Eq. 4 with nu = 0: L = -E[log(r(x1)/sum_i r(x_i))] = log K - D_InfoNCE(r) (Sec. 2.2)
    for q1, q0 in laws().values():
        for K in (2, 3, 5):
            for m in ("enumerate", "types", "laplace"):
                L = population_objective_result("log", CRITIC, q1, q0, K, 0, method=m)
                D = infonce_divergence_result(CRITIC, q1, q0, K, method="types")
                assert abs(L.value - (math.log(K) - D.value)) <= \
                    L.error_estimate + D.error_estimate + 4 * EPS * math.log(K)


def test_log_rule_k1_nu1_is_half_the_js_loss():
    # K = 1, nu = 1, Eq. 4: L = -(1/2) E_q1[log(r/(1+r))] - (1/2) E_q0[log(1/(1+r))].
    # With c = log r: -log(r/(1+r)) = log(1 + e^{-c}) = softplus(-c) and -log(1/(1+r)) =
    # softplus(c), so L_{1;1}(r) = (1/2)(E_q1[softplus(-c)] + E_q0[softplus(c)]) = L_JS/2:
    # the JS loss of Table 1 is *twice* the K = 1, nu = 1 log-score objective.
    rng = np.random.default_rng(32)
    for q1, q0 in laws().values():
        for _ in range(4):
            r = np.exp(rng.normal(0.0, 2.0, 3))
            c = np.log(r)
            by_hand = 0.5 * math.fsum(q1[i] * math.log1p(math.exp(-c[i])) for i in range(3)) + \
                0.5 * math.fsum(q0[i] * math.log1p(math.exp(c[i])) for i in range(3))
            for m in ("enumerate", "types", "laplace"):
                L = population_objective_result("log", r, q1, q0, 1, 1, method=m)
                assert abs(L.value - by_hand) <= L.error_estimate + 1e-14
                assert abs(L.value - js_loss(c, q1, q0) / 2) <= L.error_estimate + 1e-14


def test_asymmetric_closed_forms():
    # From the losses derived at ASYMMETRIC: class z >= 1 has prior 1/(K+nu) and slot z ~ q1;
    # class 0 has prior nu/(K+nu) and K slots ~ q0, so with rho = r/nu:
    #   kliep:       L = K/(K+nu) (E_q0[r] - E_q1[log r] + log nu - 1)
    #   lsif:        L = K/(K+nu) (E_q0[r^2]/(2 nu) - E_q1[r]/nu + 1/2)
    #                  (nu = 1: K/(K+1) (L_DRF/2 + 1/2), L_DRF = -2 E_q1[r] + E_q0[r^2])
    #   inverse_log: L = K nu/(K+nu) (E_q1[1/r] + E_q0[log r] - log nu - 1)
    rng = np.random.default_rng(33)
    for q1, q0 in laws().values():
        for K, nu in ((1, 1), (2, 0.5), (3, 2), (7, 1.0)):
            for _ in range(3):
                r = np.exp(rng.normal(0.0, 1.0, 3))
                E1 = lambda f: math.fsum(q1[i] * f(r[i]) for i in range(3))   # noqa: E731
                E0 = lambda f: math.fsum(q0[i] * f(r[i]) for i in range(3))   # noqa: E731
                w = K / (K + nu)
                expected = {
                    "kliep": w * (E0(lambda x: x) - E1(math.log) + math.log(nu) - 1),
                    "lsif": w * (E0(lambda x: x * x) / (2 * nu) - E1(lambda x: x) / nu + 0.5),
                    "inverse_log": w * nu * (E1(lambda x: 1 / x) + E0(math.log) - math.log(nu)
                                             - 1)}
                for rule, value in expected.items():
                    got = population_objective(rule, r, q1, q0, K, nu)
                    assert got == pytest.approx(value, rel=1e-13, abs=1e-14), (rule, K, nu)
                if nu == 1:
                    got = population_objective("lsif", r, q1, q0, K, nu)
                    assert got == pytest.approx(K / (K + 1) * (drf_loss(np.log(r), q1, q0) / 2
                                                               + 0.5), rel=1e-13, abs=1e-14)


def test_kliep_divergence_closed_form():
    # -L_kliep(r*) = K/(K+nu) (D(q1||q0) - log nu) (E_q0[r*] = 1 for q1 << q0); K = nu = 1: D/2
    rng = np.random.default_rng(34)
    q1, q0 = rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))
    D = kl(q1, q0)
    for K, nu in ((1, 1), (2, 0.5), (4, 3)):
        assert rule_divergence("kliep", q1, q0, K, nu) == pytest.approx(
            K / (K + nu) * (D - math.log(nu)), rel=1e-13, abs=1e-15)


# --------------------------------------------------------------------------- minimum at r*
PROPER_CASES = [(rule, alpha, K, nu) for rule, alpha in RULES for K, nu in SLOTS
                if not (nu == 0 and rule in ASYMMETRIC_NAMES)]   # those raise (tested above)


@pytest.mark.parametrize("rule,alpha,K,nu", PROPER_CASES,
                         ids=[f"{_rid(r, a)}-{K}-{nu}" for r, a, K, nu in PROPER_CASES])
def test_minimum_at_r_star(rule, alpha, K, nu):
    # Thm 6 / Thm 19: -L(r) <= -L(r*) for a proper rule; q1 << q0 with full support
    rng = np.random.default_rng(35)
    q1, q0 = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3))
    star = q1 / q0
    best = population_objective_result(rule, star, q1, q0, K, nu, alpha, method="types")
    assert rule_divergence(rule, q1, q0, K, nu, alpha, method="types") == -best.value
    for _ in range(6):
        r = star * np.exp(rng.normal(0.0, 0.7, 3))
        other = population_objective_result(rule, r, q1, q0, K, nu, alpha, method="types")
        assert best.value <= other.value + best.error_estimate + other.error_estimate
    if nu == 0:
        # InfoNCE-type objectives see r only up to scale (Thm 3): r = C r* is also a minimiser
        scaled = population_objective_result(rule, 3.7 * star, q1, q0, K, nu, alpha,
                                             method="types")
        assert abs(scaled.value - best.value) <= 1e-12 * max(1.0, abs(best.value))
    else:
        # with the anchor the minimiser is unique (strictly proper rules): C r* is worse
        scaled = population_objective_result(rule, 3.7 * star, q1, q0, K, nu, alpha,
                                             method="types")
        assert scaled.value > best.value + 1e-9


def test_log_rule_divergence_is_anchored_divergence_minus_prior_entropy():
    # Sec. 3 (Eqs. 1-4): I(Z; X_{1:K}) = H(p(z)) - L_{K;nu}(r*), i.e. rule_divergence("log") + H
    from numerics import anchored_divergence
    rng = np.random.default_rng(36)
    q1, q0 = rng.dirichlet(np.ones(4)), rng.dirichlet(np.ones(4))
    for K, nu in ((1, 1), (2, 0), (3, 0.5), (5, 2)):
        probs = ([nu / (K + nu)] if nu > 0 else []) + [1 / (K + nu)] * K
        H = -math.fsum(p * math.log(p) for p in probs)
        assert rule_divergence("log", q1, q0, K, nu) + H == pytest.approx(
            anchored_divergence(q1, q0, K, nu), rel=1e-12, abs=1e-14)


# --------------------------------------------------------------------------- mpmath path
MP_RULES = [("log", None), ("power", 0.5), ("sym_inverse_log", None), ("pseudo_spherical", 1.5),
            ("kliep", None), ("robust_power", 2)]


@pytest.mark.parametrize("rule,alpha", MP_RULES, ids=[_rid(*x) for x in MP_RULES])
def test_mpmath_agrees_with_float64_and_the_definition(rule, alpha):
    q1, q0 = laws()["zeros"]
    K, nu = 2, 0.5
    low = population_objective_result(rule, CRITIC, q1, q0, K, nu, alpha, method="types")
    high = population_objective_result(rule, CRITIC, q1, q0, K, nu, alpha, method="types",
                                       dps=30)
    assert isinstance(high.value, mpmath.mpf) and high.dps == 30
    assert abs(high.value - mpmath.mpf(low.value)) <= low.error_estimate
    ref = brute_objective(rule, alpha, CRITIC, q1, q0, K, nu, dps=40)
    with mpmath.workdps(40):
        assert abs(high.value - ref) < mpmath.mpf("1e-27") * max(1, abs(ref))
    enum = population_objective_result(rule, CRITIC, q1, q0, K, nu, alpha, method="enumerate",
                                       dps=30)
    with mpmath.workdps(40):
        assert abs(enum.value - ref) < mpmath.mpf("1e-27") * max(1, abs(ref))


def test_power_laplace_has_no_mpmath_path():
    with pytest.raises(InputError) as info:
        population_objective("power", R3, Q1, Q0, 2, 1.0, 2, method="laplace", dps=30)
    assert info.value.argument == "dps"


# --------------------------------------------------------------------------- larger K
@pytest.mark.parametrize("alpha", [0.5, 2, 3])
@pytest.mark.parametrize("nu", [0, 1.0])
def test_power_laplace_at_k50(alpha, nu):
    # n = 2: the K - 1 = 49 slots of the joint term have 50 type classes, the noise term 51
    q1, q0 = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    r = np.array([0.5, 1.75])
    typ = population_objective_result("power", r, q1, q0, 50, nu, alpha, method="types")
    lap = population_objective_result("power", r, q1, q0, 50, nu, alpha, method="laplace")
    assert abs(lap.value - typ.value) <= lap.error_estimate + typ.error_estimate
    assert abs(lap.value - typ.value) <= 1e-9 * max(1.0, abs(typ.value))


def test_log_laplace_at_k50():
    q1, q0 = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    r = np.array([0.5, 1.75])
    for nu in (0, 0.5, 3.0):
        typ = population_objective_result("log", r, q1, q0, 50, nu, method="types")
        lap = population_objective_result("log", r, q1, q0, 50, nu, method="laplace")
        assert abs(lap.value - typ.value) <= lap.error_estimate + typ.error_estimate


@pytest.mark.parametrize("alpha", [0.5, 2, 3])
@pytest.mark.parametrize("nu", [0, 1.0, 5000.0])
def test_power_laplace_at_k_10_4(alpha, nu):
    # n = 2 keeps the type classes few (10^4 + 1) at K = 10^4: an exact reference for Laplace
    q1, q0 = np.array([0.3, 0.7]), np.array([0.6, 0.4])
    star = q1 / q0
    typ = population_objective_result("power", star, q1, q0, 10 ** 4, nu, alpha, method="types")
    lap = population_objective_result("power", star, q1, q0, 10 ** 4, nu, alpha,
                                      method="laplace")
    assert abs(lap.value - typ.value) <= lap.error_estimate + typ.error_estimate


def test_auto_picks_laplace_for_power_at_huge_k():
    rng = np.random.default_rng(37)
    q1, q0 = rng.dirichlet(np.ones(50)), rng.dirichlet(np.ones(50))
    res = population_objective_result("power", q1 / q0, q1, q0, 10 ** 4, 1.0, 2)
    assert res.method == "laplace"
    assert math.isfinite(res.value) and res.error_estimate < 1e-6
    # at r = r*, eta_theta is the true posterior eta*, and the Brier loss lambda_z = ||eta||^2/2
    # - eta_z averages over z ~ eta* to -||eta*||^2/2, which lies in [-1/2, 0]
    assert -0.5 - res.error_estimate <= res.value <= res.error_estimate
