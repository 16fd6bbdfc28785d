"""The K-way Jensen-Shannon divergence, the InfoNCE divergence of a critic and the anchored
divergence, exactly (Sec. 2.2, Thm 2, Sec. 3).

* ``D_InfoNCE(r) = E_{q1(x_1) q0(x_2..x_K)}[log(K r(x_1) / sum_i r(x_i))]``;
* ``D_KJS(q1, q0) = D_InfoNCE(r*)``, ``r* = q1/q0`` (Thm 2);
* the log-score objective ``L_{K;nu}(r)`` of Eq. 4 and the anchored divergence
  ``I(Z; X_{1:K}) = H(p(z)) - L_{K;nu}(r*)``, ``H(p(z)) = log(K + nu) - nu/(K+nu) log nu``.

Everything reduces to two log-moments of ``P = nu + sum_i r(x_i)``: over ``q1(x_1) q0(x_2..x_K)``
and over ``q0(x_1..x_K)``, computed by enumeration (a), type classes (b) or the Laplace method (c)
of :mod:`numerics.exact.laplace`, whose cost does not depend on ``K``.

Support: where ``q0 = 0 < q1`` the ratio ``r*`` is infinite.  Such an ``x_1`` takes the whole
posterior mass (``r(x_1)/P = 1``): it contributes ``log K`` to ``D_KJS`` and 0 to ``L`` (KL is then
infinite, ``D_KJS`` and the anchored divergence stay finite).  Letters with ``q0 = 0`` never
occupy slots drawn from ``q0``; letters with ``q1 = 0`` never occupy slot 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath as mp
import numpy as np

from numerics.exact import enumeration, laplace
from numerics.exact.distributions import as_anchor, as_critic, as_dps, as_pair, as_slots
from numerics.exact.result import METHODS, Result, round_to_dps
from theory.errors import InputError

EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class Split:
    """A critic on ``(q1, q0)``: ``q1``'s mass where ``r = inf``, ``q1``'s finite part
    ``(p1, r1)`` and ``q0``'s support ``(p0, r0)``."""

    infinite_mass: float
    p1: np.ndarray
    r1: np.ndarray
    p0: np.ndarray
    r0: np.ndarray

    @classmethod
    def of(cls, q1: np.ndarray, q0: np.ndarray, r: np.ndarray | None,
           dps: int | None = None) -> "Split":
        """Split ``(q1, q0, r)``; both laws are rescaled to sum to 1 (they are validated to
        within ``1e-9`` of it; with ``K`` slots a sum of ``1 + e`` would weigh ``1 + K e``).

        ``r = None`` is ``r* = q1/q0``.  With ``dps`` the rescaling and ``r*`` are computed in
        mpmath and the arrays hold mpmath numbers: a float64 ``q1/q0`` would cap the mpmath path
        at about 16 digits whatever ``dps`` asks for."""
        if dps is not None:
            return cls._exact(q1, q0, r, dps)
        if r is None:
            r = ratio(q1, q0)
        q1, q0 = q1 / q1.sum(), q0 / q0.sum()
        infinite = np.isinf(r) & (q1 > 0)
        finite = (q1 > 0) & np.isfinite(r)
        support0 = q0 > 0
        return cls(float(q1[infinite].sum()), q1[finite], r[finite], q0[support0], r[support0])

    @classmethod
    def _exact(cls, q1: np.ndarray, q0: np.ndarray, r: np.ndarray | None, dps: int) -> "Split":
        with mp.workdps(dps + 10):
            s1, s0 = mp.fsum(map(mp.mpf, q1)), mp.fsum(map(mp.mpf, q0))
            a = [mp.mpf(x) / s1 for x in q1]
            b = [mp.mpf(x) / s0 for x in q0]
            if r is None:
                rr = [x / y if y > 0 else (mp.inf if x > 0 else mp.mpf(0)) for x, y in zip(a, b)]
            else:
                rr = [mp.mpf(x) for x in r]
            infinite = [i for i, x in enumerate(a) if x > 0 and mp.isinf(rr[i])]
            finite = [i for i, x in enumerate(a) if x > 0 and not mp.isinf(rr[i])]
            support0 = [i for i, y in enumerate(b) if y > 0]

            def objects(values: list) -> np.ndarray:
                out = np.empty(len(values), dtype=object)
                out[:] = values
                return out

            return cls(mp.fsum(a[i] for i in infinite), objects([a[i] for i in finite]),
                       objects([rr[i] for i in finite]), objects([b[i] for i in support0]),
                       objects([rr[i] for i in support0]))


def ratio(q1: np.ndarray, q0: np.ndarray) -> np.ndarray:
    """``r* = q1/q0`` with ``inf`` where ``q0 = 0 < q1`` and 0 where both vanish."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q0 > 0, q1 / np.where(q0 > 0, q0, 1.0), np.where(q1 > 0, np.inf, 0.0))


# ----------------------------------------------------------------------------- public API
def kway_jsd(q1: object, q0: object, K: object, *, method: str = "auto", dps: int | None = None,
             normalize: bool = False) -> float:
    """``D_KJS(q1, q0)`` in nats (Thm 2): ``(1/K) sum_z D(p(x|z) || (1/K) sum_z' p(x|z'))``.

    Equal to ``D_InfoNCE(r*)`` and to ``I(Z; X_{1:K})`` for ``Z`` uniform on ``[K]``; bounded by
    ``min{log K, D(q1||q0)}``.  ``method``: ``enumerate``, ``types``, ``laplace`` or ``auto``;
    ``dps``: digits for the mpmath path (the value is then an mpmath number).
    """
    return kway_jsd_result(q1, q0, K, method=method, dps=dps, normalize=normalize).value


def kway_jsd_result(q1: object, q0: object, K: object, *, method: str = "auto",
                    dps: int | None = None, normalize: bool = False) -> Result:
    """:func:`kway_jsd` with the method used and an error estimate."""
    a, b = as_pair(q1, q0, normalize=normalize)
    dps_ = as_dps(dps)
    return _infonce(Split.of(a, b, None, dps_), as_slots(K), method, dps_)


def infonce_divergence(critic: object, q1: object, q0: object, K: object, *,
                       method: str = "auto", dps: int | None = None) -> float:
    """``D_InfoNCE(r)`` in nats (Sec. 2.2) for a critic ``r > 0`` given over the alphabet."""
    return infonce_divergence_result(critic, q1, q0, K, method=method, dps=dps).value


def infonce_divergence_result(critic: object, q1: object, q0: object, K: object, *,
                              method: str = "auto", dps: int | None = None) -> Result:
    a, b = as_pair(q1, q0)
    r = as_critic(critic, a.shape)
    dps_ = as_dps(dps)
    return _infonce(Split.of(a, b, r, dps_), as_slots(K), method, dps_)


def log_score_objective_result(critic: object, q1: object, q0: object, K: object, nu: object,
                               *, method: str = "auto", dps: int | None = None) -> Result:
    """Eq. 4: ``L_{K;nu}(r) = -(K/(K+nu)) E[log(r(x_1)/P)] - (nu/(K+nu)) E_{q0^K}[log(nu/P)]``,
    ``P = nu + sum_i r(x_i)`` (nats; ``nu = 0``: InfoNCE's loss, ``log K - D_InfoNCE``)."""
    a, b = as_pair(q1, q0)
    r = as_critic(critic, a.shape, allow_infinite=True)
    K_, nu_ = as_slots(K), as_anchor(nu, K)
    dps_ = as_dps(dps)
    return _log_objective(Split.of(a, b, r, dps_), K_, nu_, method, dps_)


def anchored_divergence(q1: object, q0: object, K: object, nu: object, *, method: str = "auto",
                        dps: int | None = None, normalize: bool = False) -> float:
    """``I(Z; X_{1:K}) = H(p(z)) - L_{K;nu}(r*)`` in nats (Sec. 3, log score).

    Classes ``z = 0..K`` with ``p(0) = nu/(K+nu)``; ``nu = 0`` gives ``D_KJS`` and ``K = 1,
    nu = 1`` the Jensen-Shannon divergence.  ``L_{K;nu}(r*)`` is the minimum of Eq. 4 (Thm 3), so
    this is the prior entropy minus the optimal log loss.
    """
    return anchored_divergence_result(q1, q0, K, nu, method=method, dps=dps,
                                      normalize=normalize).value


def anchored_divergence_result(q1: object, q0: object, K: object, nu: object, *,
                               method: str = "auto", dps: int | None = None,
                               normalize: bool = False) -> Result:
    a, b = as_pair(q1, q0, normalize=normalize)
    K_, nu_ = as_slots(K), as_anchor(nu, K)
    dps_ = as_dps(dps)
    loss = _log_objective(Split.of(a, b, None, dps_), K_, nu_, method, dps_)
    if loss.dps is None:
        prior = prior_entropy(K_, nu_)
        return Result(prior - loss.value, loss.method, loss.error_estimate + EPS * abs(prior))
    with mp.workdps(loss.dps + 10):
        value = prior_entropy(K_, nu_, loss.dps + 10) - loss.value
    return Result(round_to_dps(value, loss.dps), loss.method, loss.error_estimate, loss.dps)


def prior_entropy(K: int, nu: float, dps: int | None = None):
    """``H(p(z)) = log(K + nu) - (nu/(K+nu)) log nu`` (nats; ``0 log 0 = 0``)."""
    if dps is None:
        return math.log(K + nu) - (nu / (K + nu) * math.log(nu) if nu > 0 else 0.0)
    with mp.workdps(dps):
        nu_ = mp.mpf(nu)
        return mp.log(K + nu_) - (nu_ / (K + nu_) * mp.log(nu_) if nu > 0 else 0)


# ----------------------------------------------------------------------------- methods
def choose_method(method: str, n0: int, K: int) -> str:
    """``auto``: type classes while they are few (exact sums), else the Laplace method."""
    if method not in METHODS:
        raise InputError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    if method != "auto":
        return method
    if enumeration.count_types(max(n0, 1), K) <= 20_000:
        return "types"
    return "laplace"


def _infonce(split: Split, K: int, method: str, dps: int | None) -> Result:
    """``D_InfoNCE(r) = log K - L_{K;0}(r)``: InfoNCE's loss is Eq. 4 at ``nu = 0`` (Sec. 3).
    With one slot there is nothing to classify: exactly 0."""
    if K == 1:
        return Result(_zero(dps), choose_method(method, split.p0.size, K), 0.0, dps)
    loss = _log_objective(split, K, 0.0, method, dps)
    if dps is None:
        return Result(math.log(K) - loss.value, loss.method,
                      loss.error_estimate + 4 * EPS * math.log(K), None)
    with mp.workdps(dps + 10):
        value = mp.log(K) - loss.value
    return Result(round_to_dps(value, dps), loss.method, loss.error_estimate, dps)


def _log_objective(split: Split, K: int, nu: float, method: str, dps: int | None) -> Result:
    """Eq. 4 as ``K/(K+nu) (E_joint log P - E_p1 log r1) + nu/(K+nu) (E_noise log P - log nu)``.

    ``q1``'s letters with ``r = inf`` contribute 0 (``r(x_1)/P = 1``)."""
    method = choose_method(method, split.p0.size, K)
    if split.p1.size == 0:
        joint = Result(_zero(dps), method, 0.0, dps)
    else:
        joint = _joint_log(split, K, nu, method, dps)
    noise = _noise_log(split, K, nu, method, dps) if nu > 0 else Result(_zero(dps), method, 0.0)
    if dps is None:
        elogr = float(split.p1 @ np.log(split.r1))
        value = K / (K + nu) * (joint.value - elogr)
        if nu > 0:
            value += nu / (K + nu) * (noise.value - math.log(nu))
        err = joint.error_estimate + noise.error_estimate + 4 * EPS * (abs(elogr) + 1)
        return Result(value, method, err, None)
    with mp.workdps(dps + 10):
        nu_ = mp.mpf(nu)
        elogr = mp.fsum(mp.mpf(p) * mp.log(mp.mpf(r)) for p, r in zip(split.p1, split.r1))
        value = K / (K + nu_) * (joint.value - elogr)
        if nu > 0:
            value += nu_ / (K + nu_) * (noise.value - mp.log(nu_))
    return Result(round_to_dps(value, dps), method, joint.error_estimate + noise.error_estimate, dps)


def _zero(dps: int | None):
    if dps is None:
        return 0.0
    return mp.mpf(0)


def _joint_log(split: Split, K: int, nu: float, method: str, dps: int | None) -> Result:
    """``E[log(nu + r(x_1) + sum_{i=2}^K r(x_i))]`` over ``p1`` (finite part of ``q1``) x ``q0``."""
    return _log_moment(split.p1, split.r1, split.p0, split.r0, K, nu, method, dps)


def _noise_log(split: Split, K: int, nu: float, method: str, dps: int | None) -> Result:
    """``E_{q0^K}[log(nu + sum_i r(x_i))]``."""
    return _log_moment(split.p0, split.r0, split.p0, split.r0, K, nu, method, dps)


def _log_moment(p1, r1, p0, r0, K: int, nu: float, method: str, dps: int | None) -> Result:
    if method == "laplace":
        if dps is None:
            got = laplace.expected_log(nu, laplace.Slots(p1, r1), laplace.Slots(p0, r0), K)
            return Result(got.value, method, got.error, None)
        with mp.workdps(dps + 10):
            conv = [list(map(mp.mpf, v)) for v in (p1, r1, p0, r0)]
            value, error = laplace.expected_log_mp(mp.mpf(nu), *conv, K, dps)
        return Result(value, method, max(error, 10.0 ** (-dps)), dps)
    if dps is None:
        if method == "enumerate":
            log_w, sums = _configurations(p0, r0, K - 1)
        else:
            log_w, sums = _types(p0, r0, K - 1)
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        values = np.log(nu + r1[None, :] + sums[:, None]) @ p1
        value = float(w @ values)
        scale = float(w @ np.abs(values)) + 1.0
        # rounding of the log-weights (gammaln of K) and of the sums
        spread = float(np.max(np.abs(log_w))) + math.log2(w.size + 2)
        return Result(value, method, 4 * EPS * scale * spread, None)
    with mp.workdps(dps + 10):
        p1m, r1m = list(map(mp.mpf, p1)), list(map(mp.mpf, r1))
        value = mp.fsum(mp.exp(mp.mpf(lw)) * mp.fsum(p * mp.log(nu + r + mp.mpf(s))
                                                     for p, r in zip(p1m, r1m))
                        for lw, s in _exact_weights(p0, r0, K - 1, method))
    return Result(round_to_dps(value, dps), method, 10.0 ** (-dps), dps)


def _configurations(p0: np.ndarray, r0: np.ndarray, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """``(log weight, sum of r)`` for every ``x_{2:K}`` in the support of ``q0``."""
    idx = enumeration.configurations(p0.size, slots)
    return np.log(p0)[idx].sum(axis=1), r0[idx].sum(axis=1)


def _types(p0: np.ndarray, r0: np.ndarray, slots: int) -> tuple[np.ndarray, np.ndarray]:
    """``(log multinomial weight, sum of r)`` for every type class of ``x_{2:K}``."""
    counts = enumeration.type_counts(p0.size, slots)
    return enumeration.log_type_probabilities(p0.size, slots, np.log(p0)), counts @ r0


def _exact_weights(p0: np.ndarray, r0: np.ndarray, slots: int, method: str):
    """The same weights and sums with the weights' logs recomputed in mpmath (exact counts)."""
    p0m, r0m = list(map(mp.mpf, p0)), list(map(mp.mpf, r0))
    total = mp.fsum(p0m)
    p0m = [p / total for p in p0m]
    if method == "enumerate":
        idx = enumeration.configurations(p0.size, slots)
        for row in idx:
            yield (mp.log(mp.fprod(p0m[i] for i in row)) if slots else mp.mpf(0),
                   mp.fsum(r0m[i] for i in row))
        return
    for c in enumeration.type_counts(p0.size, slots):
        lw = mp.log(mp.factorial(slots)) + mp.fsum(
            int(k) * mp.log(p) - mp.log(mp.factorial(int(k))) for k, p in zip(c, p0m))
        yield lw, mp.fsum(int(k) * r for k, r in zip(c, r0m))
