"""The rows of Tables 3-7 *as the paper prints them* (App. D.5 and E.3; garbled OCR read via
Eqs. 6 and 8).

These are reference values typed in from the paper, independent of the derivations in
``theory``: the claims report compares each derived row with its printed counterpart.  The paper
drops additive constants (and, in Table 5, positive factors), so comparisons are made up to those.
"""

from __future__ import annotations

import sympy as sp

from theory.dre import LOG_SUM, NORM1, POWER_SUM, R1, R
from theory.symbols import ALPHA as a
from theory.symbols import K_SYM as K
from theory.symbols import NU as nu
from theory.symbols import class_probabilities

e0, e1 = class_probabilities(1)

#: Table 3 (binary, M = 1): name -> (lambda_0, lambda_1).
TABLE3: dict[str, tuple[sp.Expr, sp.Expr]] = {
    "kliep": (e1 / e0, -sp.log(e1 / e0)),
    "robust_power": ((e1 / e0) ** a / a, (e1 / e0) ** (a - 1) / (1 - a) + 1 / (a * (a - 1))),
    "inverse_log": (sp.log(e1 / e0) - 1, e0 / e1),
    "log": (-sp.log(e0), -sp.log(e1)),
    "power": tuple((e0**a + e1**a) / a - ez ** (a - 1) / (a - 1) for ez in (e0, e1)),
    "sym_inverse_log": tuple(sp.log(e0) + sp.log(e1) + 1 / ez for ez in (e0, e1)),
    "pseudo_spherical": tuple(-(ez / (e0**a + e1**a) ** (1 / a)) ** (a - 1) for ez in (e0, e1)),
}


def table4_row(name: str, M: int) -> tuple[sp.Expr, ...]:
    """Table 4 (symmetric, classes 0..M; App. D.5): its printed ``lambda_z`` column."""
    eta = class_probabilities(M)
    power_sum = sp.Add(*[e**a for e in eta])
    if name == "log":
        return tuple(-sp.log(e) for e in eta)
    if name == "power":
        return tuple(power_sum / a - e ** (a - 1) / (a - 1) for e in eta)
    if name == "sym_inverse_log":
        return tuple(sp.Add(*[sp.log(x) for x in eta]) + 1 / e for e in eta)
    if name == "pseudo_spherical":
        return tuple(-(e / power_sum ** (1 / a)) ** (a - 1) for e in eta)
    raise KeyError(name)


#: Table 5: name -> (integrand under q1, integrand under q0), in r = r(x).
TABLE5: dict[str, tuple[sp.Expr, sp.Expr]] = {
    "kliep": (-sp.log(R), R),
    "robust_power": ((R ** (a - 1) - 1) / (1 - a), R**a / a),
    "inverse_log": (1 / R, sp.log(R)),
}


def _table6_integrands(p: sp.Expr) -> dict[str, sp.Expr]:
    """Integrand of the term whose class probability is ``p / ||p_theta||_1``."""
    norm_alpha = POWER_SUM ** (1 / a)
    return {
        "log": -sp.log(p / NORM1),
        "power": POWER_SUM / (a * NORM1**a) - (p / NORM1) ** (a - 1) / (a - 1),
        # sum_k log(p_k / ||p||_1) + ||p||_1 / p  (the constant -(K+1) dropped)
        "sym_inverse_log": LOG_SUM - (K + 1) * sp.log(NORM1) + NORM1 / p,
        "pseudo_spherical": -(p / norm_alpha) ** (a - 1),
    }


#: Table 6 (anchor, nu > 0): name -> (integrand under q1 q0..q0, integrand under q0^K).
TABLE6: dict[str, tuple[sp.Expr, sp.Expr]] = {
    name: (pos, _table6_integrands(nu)[name]) for name, pos in _table6_integrands(R1).items()}

#: Table 7 (nu = 0): name -> integrand under q1 q0..q0 (||p||_1 = sum_i r(x_i), K classes).
TABLE7: dict[str, sp.Expr] = {
    name: (expr.subs(K + 1, K) if name == "sym_inverse_log" else expr)
    for name, expr in _table6_integrands(R1).items()}
