"""Classical divergences between discrete distributions (Sec. 2.2, 3.4), in nats.

``D_f(q1 || q0) = sum_x q0(x) f(q1(x)/q0(x))`` with the convention ``q0 f(q1/q0) =
q1 lim_{t->oo} f(t)/t`` where ``q0 = 0 < q1`` (infinite for KL and chi^2).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from numerics.exact.distributions import as_pair


def kl(q1: object, q0: object, *, normalize: bool = False) -> float:
    """``D(q1 || q0) = E_q1[log q1/q0]`` (``inf`` if ``q1`` puts mass where ``q0`` has none)."""
    a, b = as_pair(q1, q0, normalize=normalize)
    keep = a > 0
    p, q = a[keep], b[keep]
    if not q.all():
        return math.inf
    return float((p * (np.log(p) - np.log(q))).sum())


def chi2(q1: object, q0: object, *, normalize: bool = False) -> float:
    """``chi^2(q1 || q0) = E_q0[(r* - 1)^2] = sum q1^2/q0 - 1`` (``inf`` off ``q0``'s support)."""
    a, b = as_pair(q1, q0, normalize=normalize)
    if np.any((b == 0) & (a > 0)):
        return math.inf
    keep = b > 0
    return float(np.sum(a[keep] ** 2 / b[keep]) - 1.0)


def f_divergence(f: Callable[[np.ndarray], np.ndarray], q1: object, q0: object, *,
                 slope_at_infinity: float = math.inf, normalize: bool = False) -> float:
    """``D_f(q1 || q0) = sum_{q0 > 0} q0 f(q1/q0) + slope_at_infinity * q1(q0 = 0)``.

    ``f`` is convex with ``f(1) = 0`` (vectorised over numpy arrays); ``slope_at_infinity`` is
    ``lim_{t->oo} f(t)/t`` (``inf`` for KL and chi^2; ``log 2`` for Jensen-Shannon's ``f``).
    """
    a, b = as_pair(q1, q0, normalize=normalize)
    keep = b > 0
    value = float(np.sum(b[keep] * f(a[keep] / b[keep])))
    outside = float(a[~keep].sum())
    if outside > 0:
        return math.inf if math.isinf(slope_at_infinity) else value + slope_at_infinity * outside
    return value


def js(q1: object, q0: object, *, normalize: bool = False) -> float:
    """Jensen-Shannon: ``(1/2) D(q1||m) + (1/2) D(q0||m)``, ``m = (q1+q0)/2``.

    This is the anchored divergence at ``K = 1, nu = 1`` (classes ``q0`` and ``q1``, prior 1/2);
    ``D_KJS`` at ``K = 2`` is the JS divergence of the product laws ``q1 x q0`` and ``q0 x q1``."""
    a, b = as_pair(q1, q0, normalize=normalize)
    m = (a + b) / 2
    return 0.5 * kl(a, m) + 0.5 * kl(b, m)
