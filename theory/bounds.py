"""The paper's bounds as expressions (Prop 1, Thm 2, Thm 7, Eq. 5), in nats, and Thm 2
corrected (the envelope ``U_K(D)``, its closed-form upper bound, the chi^2 lower bound).

Symbols: ``D = D(q1||q0)``; ``K`` slots; ``beta = lim nu/K``; ``Elogr = E_{q1}[log r]`` and
``Er = E_{q0}[r]`` for a critic ``r``; ``p = e^{-D}``; ``chi2 = chi^2(q1||q0)``.  Bits appear
only in :func:`thm2_bound_bits`, for the paper's numeric examples.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from theory.errors import require_int

D = sp.Symbol("D", nonnegative=True)
K = sp.Symbol("K", positive=True)
BETA = sp.Symbol("beta", nonnegative=True)
E_LOG_R = sp.Symbol("Elogr", real=True)
E_R = sp.Symbol("Er", positive=True)
P = sp.Symbol("p", positive=True)
CHI2 = sp.Symbol("chi2", nonnegative=True)


def dv(elogr: sp.Expr = E_LOG_R, er: sp.Expr = E_R) -> sp.Expr:
    """Donsker-Varadhan: ``E_q1[log r] - log E_q0[r] <= D`` (Table 1)."""
    return elogr - sp.log(er)


def nwj(elogr: sp.Expr = E_LOG_R, er: sp.Expr = E_R) -> sp.Expr:
    """NWJ in the paper's parametrisation: ``E_q1[log r] - E_q0[r] + 1 <= D`` (Table 1)."""
    return elogr - er + 1


def prop1_bound(d: sp.Expr = D, k: sp.Expr = K) -> sp.Expr:
    """Prop 1: ``D_InfoNCE(r) <= min{log K, D}``."""
    return sp.Min(sp.log(k), d)


def thm2_kl_term(d: sp.Expr = D, k: sp.Expr = K) -> sp.Expr:
    """Thm 2's second term: ``D - log((e^D - 1)/K + 1)``."""
    return d - sp.log((sp.exp(d) - 1) / k + 1)


def thm2_bound(d: sp.Expr = D, k: sp.Expr = K) -> sp.Expr:
    """Thm 2: ``D_KJS(q1, q0) <= min{log K, D - log((e^D - 1)/K + 1)}`` (nats)."""
    return sp.Min(sp.log(k), thm2_kl_term(d, k))


def thm2_bound_bits(d_bits: sp.Expr, k: sp.Expr) -> sp.Expr:
    """Thm 2 in bits (the paper's unit): ``D - log2((2^D - 1)/K + 1)``, ``D`` in bits."""
    return d_bits - sp.log((2**d_bits - 1) / k + 1, 2)


def eq5(beta: sp.Expr = BETA, elogr: sp.Expr = E_LOG_R, er: sp.Expr = E_R) -> sp.Expr:
    """Eq. 5: ``E_q1[log r] - (beta+1) log(beta/(beta+1) + E_q0[r]/(beta+1)) <= D``."""
    return elogr - (beta + 1) * sp.log(beta / (beta + 1) + er / (beta + 1))


def thm7_limit(beta: sp.Expr = BETA, elogr: sp.Expr = E_LOG_R, er: sp.Expr = E_R) -> sp.Expr:
    """Thm 7: ``lim_K (-L_{K;nu} + log(K)/(beta+1))`` with ``nu/K -> beta``:
    ``beta/(beta+1) log beta + E_q1[log r]/(beta+1) - log(beta + E_q0[r])``."""
    return beta / (beta + 1) * sp.log(beta) + elogr / (beta + 1) - sp.log(beta + er)


def thm7_upper(beta: sp.Expr = BETA, d: sp.Expr = D) -> sp.Expr:
    """Thm 7's bound: ``beta/(beta+1) log beta + D/(beta+1) - log(beta+1)``."""
    return beta / (beta + 1) * sp.log(beta) + d / (beta + 1) - sp.log(beta + 1)


def anchored_log_objective_lln(k: sp.Expr, nu: sp.Expr, elogr: sp.Expr = E_LOG_R,
                               er: sp.Expr = E_R) -> sp.Expr:
    """``-L_{K;nu}`` of the log score with ``sum_i r(x_i)`` replaced by ``K E_q0[r]`` (law of
    large numbers, ``r(x_1)`` negligible against the sum): the heuristic behind Thm 7."""
    total = nu + k * er
    return k / (k + nu) * (elogr - sp.log(total)) + nu / (k + nu) * (sp.log(nu) - sp.log(total))


# ------------------------------------------------------------------------- Thm 2 corrected
def binomial_expectation(g: Callable[[int], sp.Expr], n: object, p: sp.Expr = P) -> sp.Expr:
    """``E g(B)``, ``B ~ Bin(n, p)``, as the finite sum ``sum_j C(n, j) p^j (1-p)^(n-j) g(j)``
    (explicit integer ``n >= 0``)."""
    n_ = require_int(n, "n", minimum=0)
    return sp.Add(*[sp.binomial(n_, j) * p**j * (1 - p) ** (n_ - j) * g(j)
                    for j in range(n_ + 1)])


def kjs_envelope_in_p(k: object, p: sp.Expr = P) -> sp.Expr:
    """``U_K = log K - E log(1 + B)``, ``B ~ Bin(K-1, p)``, ``p = e^{-D}``: ``D_KJS`` of every
    pair whose ratio ``q1/q0`` is constant on ``supp q1`` (Thm 2 corrected, Sec. 2.2), a
    polynomial in ``p`` with logarithmic coefficients (explicit integer ``K >= 1``)."""
    k_ = require_int(k, "K")
    return sp.log(k_) - binomial_expectation(lambda j: sp.log(1 + j), k_ - 1, p)


def kjs_envelope(k: object, d: sp.Expr = D) -> sp.Expr:
    """``U_K(D) = log K - E log(1 + Bin(K-1, e^{-D}))`` (nats; explicit integer ``K``): the
    largest ``D_KJS`` at ``KL(q1||q0) = D`` found (conjectured the supremum), attained by
    pairs with constant ratio on ``supp q1`` (Thm 2 corrected, Sec. 2.2)."""
    return kjs_envelope_in_p(k, sp.exp(-d))


def envelope_upper_bound(d: sp.Expr = D, k: sp.Expr = K) -> sp.Expr:
    """``D + log(1 - (1 - e^{-D})^K)``: ``U_K(D) <=`` this ``< min{log K, D}``, from
    ``E[1/(1+B)] = (1 - (1-p)^K)/(K p)`` and Jensen (Thm 2 corrected)."""
    return d + sp.log(1 - (1 - sp.exp(-d)) ** k)


def chi2_lower_bound(d: sp.Expr = D, chi2: sp.Expr = CHI2, k: sp.Expr = K) -> sp.Expr:
    """``D - log(1 + chi^2(q1||q0)/K) <= D_KJS`` for ``q1 << q0`` (Jensen on
    ``D_KJS = D - E log((1/K) sum_i r(x_i))``; Thm 2 corrected)."""
    return d - sp.log(1 + chi2 / k)
