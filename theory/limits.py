"""``alpha -> 1`` limits of the parametric catalogue rules (Table 3 footnotes, Table 5).

A rule is determined for estimation purposes by its loss *differences* ``lambda_z - lambda_0``
up to a positive factor (an additive constant common to all classes, and a positive scale,
change neither regret signs nor minimisers).  Each limit is computed with ``sympy.limit``:

* ``robust_power -> kliep``: the generator itself converges, ``(rho^a - rho)/(a(a-1)) -> rho log rho``;
* ``power -> log``: ``lambda_z - lambda_0`` converges to the log score's differences;
* ``pseudo_spherical -> log`` (the paper's footnote 4): the differences vanish like ``(alpha - 1)``;
  after dividing by ``alpha - 1`` they converge to the log score's.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from theory import catalogue
from theory.symbols import ALPHA, symbolic_zero


@dataclass(frozen=True)
class LimitCheck:
    family: str
    target: str
    quantity: str
    limit: str
    holds: bool


#: family -> (target rule, scale applied before the limit, compare generators?)
LIMITS: dict[str, tuple[str, sp.Expr, bool]] = {
    "robust_power": ("kliep", sp.Integer(1), True),
    "power": ("log", sp.Integer(1), False),
    "pseudo_spherical": ("log", 1 / (ALPHA - 1), False),
}


def alpha_to_one(family: str, M: int = 1) -> LimitCheck:
    """The ``alpha -> 1`` limit of ``family`` against its target (see module docstring)."""
    target, scale, generators = LIMITS[family]
    if generators:
        gen = catalogue.entry(family).generator(M).expr
        goal = catalogue.entry(target).generator(M).expr
        lim = sp.limit(gen, ALPHA, 1)
        return LimitCheck(family, target, "generator", str(lim), symbolic_zero(lim - goal))
    rule = catalogue.entry(family).rule(M)
    goal = catalogue.entry(target).rule(M)
    limits = []
    for z in range(1, M + 1):
        diff = sp.simplify((rule.losses[z] - rule.losses[0]) * scale)
        limits.append(sp.limit(diff, ALPHA, 1))
    holds = all(symbolic_zero(l - (goal.losses[z] - goal.losses[0]))
                for z, l in zip(range(1, M + 1), limits))
    what = "lambda_z - lambda_0" + ("" if scale == 1 else f" times {scale}")
    return LimitCheck(family, target, what, ", ".join(map(str, limits)), holds)


def quotient_limit(numerator: sp.Expr, variable: sp.Symbol, point: sp.Expr) -> sp.Expr | None:
    """``lim_{x -> x0} N(x) / (x - x0)`` as ``N'(x0)``, or None where that is not established.

    When ``N(x0) = 0``, ``N(x) / (x - x0) = (N(x) - N(x0)) / (x - x0)``, whose limit is ``N'(x0)``
    by the definition of the derivative, for ``N`` differentiable at ``x0``.  The caller passes an
    ``N`` built from powers and logs of positive quantities (smooth in ``x`` there); here
    ``N(x0) = 0`` is proved by :func:`~theory.symbols.symbolic_zero`, and ``N(x0)``, ``N'(x0)``
    must evaluate to finite expressions (no ``nan``, ``zoo``, ``oo``).  Much cheaper than
    ``sympy.limit``'s series expansions on the catalogue's powers ``x**alpha``.
    """
    at = numerator.subs(variable, point)
    slope = sp.diff(numerator, variable).subs(variable, point)
    if any(v.has(sp.nan, sp.zoo, sp.oo, -sp.oo) for v in (at, slope)) or not symbolic_zero(at):
        return None
    return slope
