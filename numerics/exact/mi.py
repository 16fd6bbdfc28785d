"""Mutual information from a joint table ``p(x, y)`` (Sec. 3.1): ``q1 = p(x|y)``, ``q0 = p(x)``.

Slot objectives (InfoNCE, InfoNCE-anchor, alpha-InfoNCE, the K-way JSD, every Table 5-7 rule)
are averaged over ``y ~ p(y)`` with the critic's column ``r(., y)``: the population form of the
minibatch losses, whose negatives for ``y_i`` are the other rows' ``x_j ~ p(x)``.  Single-slot
bounds (DV, NWJ, JS, SMILE, chi^2) compare ``p(x, y)`` with ``p(x) p(y)`` directly.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from numerics.exact.distributions import as_critic, as_probabilities
from numerics.exact.divergences import kl
from numerics.exact.estimators import EstimatorValue, population_estimator
from numerics.exact.kjs import anchored_divergence, kway_jsd
from numerics.exact.objectives import population_objective


def as_joint(p: object, name: str = "joint", *, normalize: bool = False) -> np.ndarray:
    """``p(x, y)`` as a 2-D float64 table (rows ``x``, columns ``y``), validated and rescaled to
    sum to 1 exactly in value (it is validated to within ``1e-9`` of it)."""
    arr = as_probabilities(p, name, ndim=2, normalize=normalize)
    return arr / arr.sum()


def marginals(joint: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return joint.sum(axis=1), joint.sum(axis=0)


def mutual_information(joint: object) -> float:
    """``I(X; Y) = D(p(x, y) || p(x) p(y))`` in nats."""
    p = as_joint(joint)
    px, py = marginals(p)
    return kl(p.ravel(), np.outer(px, py).ravel())


def pmi(joint: object) -> np.ndarray:
    """The pointwise MI ``log p(x, y)/(p(x) p(y))`` (``-inf`` where ``p(x, y) = 0``)."""
    p = as_joint(joint)
    px, py = marginals(p)
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log(np.outer(px, py))


def average_over_y(fn: Callable[[np.ndarray, np.ndarray, int], float], joint: object) -> float:
    """``sum_y p(y) fn(p(x|y), p(x), y)``."""
    p = as_joint(joint)
    px, py = marginals(p)
    return float(sum(py[y] * fn(p[:, y] / py[y], px, y) for y in range(p.shape[1]) if py[y] > 0))


def mi_kway_jsd(joint: object, K: int) -> float:
    """``E_y D_KJS(p(x|y), p(x))``: what InfoNCE with ``K`` slots estimates (Thm 2)."""
    return average_over_y(lambda q1, q0, _: float(kway_jsd(q1, q0, K)), joint)


def mi_anchored_divergence(joint: object, K: int, nu: float) -> float:
    """``E_y I(Z; X_{1:K})`` of the log score with anchor ``nu`` (Sec. 3.1)."""
    return average_over_y(lambda q1, q0, _: float(anchored_divergence(q1, q0, K, nu)), joint)


def _critic_table(critic: object, shape: tuple[int, int]) -> np.ndarray:
    return as_critic(np.asarray(critic, dtype=np.float64).ravel() if np.ndim(critic) == 2
                     else critic, (shape[0] * shape[1],)).reshape(shape)


def mi_population_objective(rule: str, critic: object, joint: object, K: int, nu: float,
                            alpha: float | None = None, **kwargs) -> float:
    """``E_y L^lambda_{K;nu}(r(., y); p(x|y), p(x))`` for a critic table ``r(x, y) > 0``."""
    p = as_joint(joint)
    r = _critic_table(critic, p.shape)
    return average_over_y(lambda q1, q0, y: float(population_objective(
        rule, r[:, y], q1, q0, K, nu, alpha, **kwargs)), p)


SLOT_ESTIMATORS = ("infonce", "infonce_anchor", "alpha_infonce", "mlinfonce")


def mi_estimator(name: str, critic: object, joint: object, **params):
    """Population loss and estimate of a Table 1 estimator for ``I(X; Y)``, critic ``r(x, y)``.

    Slot estimators (InfoNCE, InfoNCE-anchor, alpha-InfoNCE, MLInfoNCE) average the conditional
    form over ``y``; the others compare ``p(x, y)`` with ``p(x) p(y)`` directly (Table 1).
    """
    p = as_joint(joint)
    r = _critic_table(critic, p.shape)
    if name not in SLOT_ESTIMATORS:
        px, py = marginals(p)
        return population_estimator(name, r.ravel(), p.ravel(), np.outer(px, py).ravel(),
                                    **params)
    px, py = marginals(p)
    values = [(py[y], population_estimator(name, r[:, y], p[:, y] / py[y], px, **params))
              for y in range(p.shape[1]) if py[y] > 0]
    return EstimatorValue(name, float(sum(w * v.loss for w, v in values)),
                          float(sum(w * v.estimate for w, v in values)))
