"""Population values of the Table 1 estimators and the Sec. 3.3 variants, for a critic ``r``.

A critic is given as ratios ``r(x) = e^{c(x)} > 0`` over the alphabet; ``q1`` and ``q0`` as in
Sec. 2.2 (for MI see :mod:`numerics.exact.mi`).  Each estimator has a training loss (minimised)
and an estimate ``I_hat`` (Table 1); both are exact expectations here, in nats:

==================  =====================================================  ==================
name                loss                                                   estimate
==================  =====================================================  ==================
``dv``, ``mine``    ``-E_q1[c] + log E_q0[e^c]``                           ``-loss``
``nwj``             ``-(E_q1[c] - E_q0[e^c] + 1)``                         ``-loss``
``infonce``         ``log K - D_InfoNCE(r)`` (Eq. 4, nu = 0)               ``D_InfoNCE(r)``
``infonce_anchor``  ``L_{K;nu}(r)`` (Eq. 4)                                 ``E_q1[c]`` (plug-in)
``js``              ``E_q1[softplus(-c)] + E_q0[softplus(c)]``             NWJ value
``smile``           ``L_JS``                                               ``E_q1[c] - log E_q0[e^{clip(c,-tau,tau)}]``
``js_plugin``       ``L_JS`` (PCC)                                         ``E_q1[c]`` (plug-in)
``drf``             ``-2 E_q1[e^c] + E_q0[e^{2c}]`` (chi^2, D-RFC)         ``E_q1[c]`` (plug-in)
``fdime_kl``        NWJ loss (the KL member of f-DIME)                      ``E_q1[c]`` (plug-in)
``fdime_gan``       ``E_q1[softplus(-c)] + E_q0[softplus(c)]`` (f-GAN)      ``E_q1[c]`` (plug-in)
``fdime_hellinger`` ``-(E_q1[1 - e^{-c/2}] - E_q0[e^{c/2} - 1])``           ``E_q1[c]`` (plug-in)
``alpha_infonce``   ``-D_alpha(r)`` (Poole et al. 2019)                    ``D_alpha(r)``
``mlinfonce``       ``-D_ML(r)`` (Song & Ermon 2020b)                      ``D_ML(r)``
==================  =====================================================  ==================

``D_alpha(r) = E_{q1(x_1) q0(x_2..x_K)}[log(r(x_1) / (alpha r(x_1) + (1-alpha)/(K-1)
sum_{i>=2} r(x_i)))]`` (Sec. 3.3).  ``D_ML`` with ``n`` positives ``x_1..x_n ~ q1`` and
``n(m-1)`` negatives ``y_k ~ q0`` (the multi-label classification of Song & Ermon 2020b: every
positive and negative of a batch of ``n`` rows with ``m`` candidates each in one softmax):
``D_ML(r) = E[(1/n) sum_i log(n m r(x_i) / (sum_j r(x_j) + sum_k r(y_k)))]``; with ``n = 1`` it is
InfoNCE with ``K = m``.  The paper's OCR of this formula is garbled; this reading is the one whose
``n = 1`` case is InfoNCE and whose bound ``<= D(q1||q0)`` the report checks (``sec3.3.mlinfonce``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from numerics.exact import laplace
from numerics.exact.distributions import as_critic, as_pair, as_slots
from numerics.exact.kjs import infonce_divergence_result, log_score_objective_result
from numerics.exact.units import to_bits
from theory.dre import DEFAULT_NU
from theory.errors import InputError

#: One name per estimator across the layers: the exact layer's names are the torch losses'
#: (:data:`numerics.neural.losses.LOSSES`), plus ``js_plugin`` (the JS loss read as its plug-in,
#: PCC; the benchmark's column of that name).
ESTIMATORS = ("dv", "mine", "nwj", "infonce", "infonce_anchor", "js", "smile", "js_plugin",
              "drf", "fdime_kl", "fdime_gan", "fdime_hellinger", "alpha_infonce", "mlinfonce")


@dataclass(frozen=True)
class EstimatorValue:
    """The population loss and estimate (nats) of one estimator at one critic."""

    name: str
    loss: float
    estimate: float

    def as_dict(self) -> dict[str, object]:
        return {"estimator": self.name, "loss_nats": self.loss, "estimate_nats": self.estimate,
                "estimate_bits": to_bits(self.estimate)}


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def _mean(q: np.ndarray, values: np.ndarray) -> float:
    keep = q > 0
    return float(q[keep] @ values[keep])


def _log_mean_exp(q: np.ndarray, c: np.ndarray) -> float:
    keep = q > 0
    top = float(c[keep].max())
    return top + math.log(float(q[keep] @ np.exp(c[keep] - top)))


def dv(c, q1, q0) -> float:
    """Donsker-Varadhan: ``E_q1[c] - log E_q0[e^c]`` (Table 1; <= D by the DV representation)."""
    return _mean(q1, c) - _log_mean_exp(q0, c)


def nwj(c, q1, q0) -> float:
    """NWJ in the paper's parametrisation: ``E_q1[c] - E_q0[e^c] + 1`` (Table 1)."""
    return _mean(q1, c) - _mean(q0, np.exp(c)) + 1.0


def js_loss(c, q1, q0) -> float:
    """``L_JS = E_q1[softplus(-c)] + E_q0[softplus(c)]`` (twice Eq. 4 at K = 1, nu = 1)."""
    return _mean(q1, _softplus(-c)) + _mean(q0, _softplus(c))


def smile(c, q1, q0, tau: float) -> float:
    """SMILE(tau): ``E_q1[c] - log E_q0[e^{clip(c, -tau, tau)}]``."""
    return _mean(q1, c) - _log_mean_exp(q0, np.clip(c, -tau, tau))


def drf_loss(c, q1, q0) -> float:
    """D-RFC / chi^2 / LSIF: ``-2 E_q1[e^c] + E_q0[e^{2c}]``, minimised at ``e^c = r*``."""
    return -2.0 * _mean(q1, np.exp(c)) + _mean(q0, np.exp(2.0 * c))


def alpha_infonce(r, q1, q0, K: int, alpha: float) -> float:
    """``D_alpha(r)`` (Sec. 3.3) by the Laplace method: ``E log(alpha r_1 + beta S)`` with
    ``beta = (1-alpha)/(K-1)`` is ``log beta + E log((alpha/beta) r_1 + S)``."""
    if K < 2:
        raise InputError("K", "alpha-InfoNCE needs K >= 2")
    if not 0 < alpha <= 1:
        raise InputError("alpha", f"alpha-InfoNCE needs 0 < alpha <= 1, got {alpha!r}")
    keep1, keep0 = q1 > 0, q0 > 0
    p1, r1 = q1[keep1] / q1.sum(), r[keep1]
    elogr = float(p1 @ np.log(r1))
    if alpha == 1:
        return 0.0
    beta = (1 - alpha) / (K - 1)
    first = laplace.Slots(p1, r1 * (alpha / beta))
    rest = laplace.Slots(q0[keep0], r[keep0])
    return elogr - math.log(beta) - laplace.expected_log(0.0, first, rest, K).value


def mlinfonce(r, q1, q0, positives: int, candidates: int) -> float:
    """``D_ML(r)`` with ``n = positives`` and ``m = candidates`` (Laplace method, one integral)."""
    n, m = as_slots(positives), as_slots(candidates)
    keep1, keep0 = q1 > 0, q0 > 0
    p1, r1 = q1[keep1] / q1.sum(), r[keep1]
    elogr = float(p1 @ np.log(r1))
    first = laplace.Slots(p1, r1)
    rest = laplace.Slots(q0[keep0], r[keep0])
    log_total = laplace.expected_log(0.0, first, rest, n * (m - 1) + 1, first_slots=n).value
    return math.log(n * m) + elogr - log_total


def population_estimator(name: str, critic: object, q1: object, q0: object, *,
                         K: int | None = None, nu: float | None = None, tau: float | None = None,
                         alpha: float | None = None, positives: int | None = None
                         ) -> EstimatorValue:
    """Loss and estimate (nats) of estimator ``name`` at critic ratios ``critic`` (see module)."""
    if name not in ESTIMATORS:
        raise InputError("name", f"unknown estimator {name!r}; known: {', '.join(ESTIMATORS)}")
    a, b = as_pair(q1, q0)
    r = as_critic(critic, a.shape)
    c = np.log(r)
    plug_in = _mean(a, c)
    if name in ("dv", "mine"):
        value = dv(c, a, b)
        return EstimatorValue(name, -value, value)
    if name == "nwj":
        value = nwj(c, a, b)
        return EstimatorValue(name, -value, value)
    if name == "fdime_kl":
        return EstimatorValue(name, -nwj(c, a, b), plug_in)
    if name == "js":
        return EstimatorValue(name, js_loss(c, a, b), nwj(c, a, b))
    if name == "fdime_gan":
        # f(u) = u log u - (u+1) log(u+1): T = f'(r) = log(r/(1+r)), f*(T) = -log(1 - e^T)
        value = float(a @ np.log(r / (1 + r))) + float(b @ np.log(1 / (1 + r)))
        return EstimatorValue(name, -value, plug_in)
    if name == "fdime_hellinger":
        # f(u) = (sqrt(u) - 1)^2: T = f'(r) = 1 - r^{-1/2}, f*(T) = T/(1 - T) = sqrt(r) - 1
        value = float(a @ (1 - r ** -0.5)) - float(b @ (np.sqrt(r) - 1))
        return EstimatorValue(name, -value, plug_in)
    if name == "js_plugin":
        return EstimatorValue(name, js_loss(c, a, b), plug_in)
    if name == "smile":
        if tau is None or not tau > 0:
            raise InputError("tau", f"SMILE needs a clipping threshold tau > 0, got {tau!r}")
        return EstimatorValue(name, js_loss(c, a, b), smile(c, a, b, float(tau)))
    if name == "drf":
        return EstimatorValue(name, drf_loss(c, a, b), plug_in)
    K_ = as_slots(K if K is not None else _missing("K", name))
    if name == "infonce":
        value = float(infonce_divergence_result(r, a, b, K_).value)
        return EstimatorValue(name, math.log(K_) - value, value)
    if name == "infonce_anchor":
        loss = float(log_score_objective_result(r, a, b, K_, DEFAULT_NU if nu is None else nu).value)
        return EstimatorValue(name, loss, plug_in)
    if name == "alpha_infonce":
        value = alpha_infonce(r, a, b, K_, float(alpha if alpha is not None else
                                                 _missing("alpha", name)))
        return EstimatorValue(name, -value, value)
    value = mlinfonce(r, a, b, positives if positives is not None else _missing("positives", name),
                      K_)
    return EstimatorValue(name, -value, value)


def _missing(argument: str, name: str):
    raise InputError(argument, f"estimator {name} needs {argument}")
