"""The paper's bounds as expressions (Prop 1, Thm 2, Thm 7, Eq. 5), in nats.

Symbols: ``D = D(q1||q0)``; ``K`` slots; ``beta = lim nu/K``; ``Elogr = E_{q1}[log r]`` and
``Er = E_{q0}[r]`` for a critic ``r``.  Bits appear only in :func:`thm2_bound_bits`, for the
paper's numeric examples.
"""

from __future__ import annotations

import sympy as sp

D = sp.Symbol("D", nonnegative=True)
K = sp.Symbol("K", positive=True)
BETA = sp.Symbol("beta", nonnegative=True)
E_LOG_R = sp.Symbol("Elogr", real=True)
E_R = sp.Symbol("Er", positive=True)


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
