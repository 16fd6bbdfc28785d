"""What the slot objectives converge to on the benchmark tasks (issue #13): InfoNCE's population
optimum ``D_KJS(K)`` and the anchored divergence, per MI level.  No torch here (numpy / scipy and
:mod:`numerics.exact`): the torch samplers of :mod:`numerics.bench.tasks` only fix the laws.

The benchmark's InfoNCE contrasts, for each ``x`` of a batch, ``K`` of the batch's ``y`` (one
positive, ``K - 1`` negatives; ``K = B - 1``, :func:`numerics.neural.losses.infonce_loss`), so its
supremum over critics is (Thm 2, averaged over ``x``)::

    D_KJS(K) = E_x E[ log( K r(x, y_1) / sum_{j=1..K} r(x, y_j) ) ],
    y_1 ~ p(y|x),  y_2..y_K ~ p(y) i.i.d.,  r = p(x, y) / (p(x) p(y)),

below ``min(log K, I)``.  The anchor's objective (Eq. 4, log score, anchor ``nu``) converges to
``I(Z; X_1:K) = H(prior) - L_{K;nu}(r)`` with ``L = K/(K+nu) E[log(P/r(x, y_1))] + nu/(K+nu)
E[log(P'/nu)]``, ``P = nu + sum_{j<=K} r(x, y_j)`` (the slots above) and ``P'`` the same with all
``K`` slots from ``p(y)``; its plug-in estimate targets the MI itself (Thm 3).

* **Gaussian tasks** (:func:`gaussian_slot_limits`): ``x, eps ~ N(0, I_d)``, ``y = rho x +
  sqrt(1 - rho^2) eps``, ``rho = sqrt(1 - exp(-2 I/d))``, where ``log r(x, y) = sum_k [-(1/2)
  log(1 - rho^2) - (rho^2 x_k^2 - 2 rho x_k y_k + rho^2 y_k^2) / (2 (1 - rho^2))]``.  Plain Monte
  Carlo over independent draws ``(x, y_1, .., y_K)`` (each ``x`` its own ``K - 1`` negatives),
  in chunks, seeded from the task (the same numbers on every run); the number of draws is set
  from a pilot so that the error bar, :data:`ERROR_BAR_SE` = 2 standard errors, is at most
  :data:`MAX_ERROR_BAR_BITS` = 0.01 bits for every value returned.  The cubic task (``y <-
  y^3``) has the same targets: ``r`` is invariant under an invertible map of ``y`` (the Jacobian
  ``|dy/dy'|`` is a factor of both ``p(y'|x)`` and ``p(y')``); ``cubic=True`` samples the cubed
  variable and evaluates its own densities, Jacobian included (:func:`gaussian_log_ratio`), and
  returns the same values up to rounding.
* **Items tasks** (digits; :func:`items_slot_limits`): exact, a finite sum.  Per source the
  ratio depends only on whether ``y``'s item is ``x``'s own (``r = 0``: ``Y`` differs from ``X``
  when the classes agree), another item of ``x``'s class (``r = 2 n_c (1 - p)/(n_c - 1)``) or an
  item of the other class (``r = 2 p``), since ``p(y) = 1/(2 n_c)`` for an item of class ``c``.
  With ``d`` independent sources the ratio is the product; given ``m`` sources of ``x`` in
  class 0, ``y`` collapses into the ratio classes ``(b_0, b_1)`` (how many sources of each of
  ``x``'s classes draw a same-class item, the rest the other class) plus one class ``r = 0``.
  :func:`numerics.exact.kjs.kway_jsd` / ``anchored_divergence`` on those laws, averaged over
  ``m ~ Binomial(d, 1/2)``; the error bar is the exact method's error estimate (x 2).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import gammaln, logsumexp

from numerics.exact.divergences import kl
from numerics.exact.kjs import anchored_divergence_result, kway_jsd_result, prior_entropy
from numerics.exact.units import LN2
from theory.errors import InputError

#: The error bar is this many standard errors (Monte Carlo) ...
ERROR_BAR_SE = 2.0
#: ... and at most this many bits for every Gaussian target.
MAX_ERROR_BAR_BITS = 0.01
#: Root of the seeds of the Gaussian Monte Carlo (each task's seed adds its dim, K and level).
SEED = 20260713


@dataclass(frozen=True)
class Estimate:
    """A target in nats: ``value``, its standard error ``se`` (0 if exact up to
    ``exact_error``), the number of Monte Carlo draws (0: exact) and the method."""

    value: float
    se: float
    samples: int
    method: str
    exact_error: float = 0.0

    @property
    def error_bar(self) -> float:
        """:data:`ERROR_BAR_SE` standard errors, or twice the exact method's error estimate."""
        return ERROR_BAR_SE * self.se if self.samples else 2.0 * self.exact_error

    def in_bits(self) -> dict[str, float]:
        return {"bits": self.value / LN2, "se_bits": self.se / LN2,
                "error_bar_bits": self.error_bar / LN2}


@dataclass(frozen=True)
class SlotLimits:
    """Per MI level and slot count ``K``: the MI (nats), ``D_KJS(K)`` and the anchored
    divergence per anchor ``nu``."""

    mi: float
    K: int
    kjs: Estimate
    anchored: dict[float, Estimate] = field(default_factory=dict)


def _check_K(K: object) -> int:
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise InputError("K", f"must be an integer >= 1, got {K!r}")
    return int(K)


def _check_nus(nus: Iterable[float]) -> tuple[float, ...]:
    out = tuple(sorted({float(n) for n in nus}))
    if any(not (math.isfinite(n) and n > 0) for n in out):
        raise InputError("nu", f"anchors must be finite numbers > 0, got {out!r}")
    return out


# ------------------------------------------------------------------------------ Gaussian
def gaussian_rho(dim: int, mi_nats: float) -> float:
    """``rho = sqrt(1 - exp(-2 I/d))`` (the task's per-coordinate correlation)."""
    return math.sqrt(-math.expm1(-2.0 * mi_nats / dim))


def gaussian_log_ratio(x: np.ndarray, y: np.ndarray, rho: float, cubic: bool = False
                       ) -> np.ndarray:
    """``log r(x, y) = log p(y|x) - log p(y)`` summed over the last axis (broadcasting).

    Plain: the closed form of the module docstring, summed as ``-(d/2) log(1 - rho^2) -
    (rho^2 (|x|^2 + |y|^2) - 2 rho <x, y>) / (2 (1 - rho^2))`` (inner products over the last
    axis).  ``cubic=True``: ``y`` is the cubed variable ``y' = y^3``; both densities are those of
    ``y'``, ``p(y'|x) = N(cbrt(y'); rho x, 1 - rho^2) |dy/dy'|`` and ``p(y') = N(cbrt(y'); 0, 1)
    |dy/dy'|``, ``|dy/dy'| = (1/3) |y'|^{-2/3}``, evaluated as written (the Jacobian cancels in
    the difference)."""
    s2 = 1.0 - rho * rho
    if not cubic:
        x, y = np.asarray(x, float), np.asarray(y, float)
        dim = np.broadcast_shapes(x.shape, y.shape)[-1]

        def dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return np.einsum("...d,...d->...", a, b)
        return (-0.5 * dim * math.log(s2)
                - (rho * rho * (dot(x, x) + dot(y, y)) - 2.0 * rho * dot(x, y)) / (2 * s2))
    u = np.cbrt(y)
    log_jac = -math.log(3.0) - (2.0 / 3.0) * np.log(np.abs(y))
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    log_cond = -half_log_2pi - 0.5 * math.log(s2) - (u - rho * x) ** 2 / (2 * s2) + log_jac
    log_marg = -half_log_2pi - 0.5 * u * u + log_jac
    return np.sum(log_cond - log_marg, axis=-1)


def gaussian_seed(dim: int, mi_nats: float, K: int, cubic: bool = False) -> np.random.SeedSequence:
    """The seed of one Gaussian target: :data:`SEED` with the task's dim, K, level and form."""
    return np.random.SeedSequence(SEED, spawn_key=(int(dim), int(K), round(mi_nats * 1e9),
                                                   int(cubic)))


class _Moments:
    """Running sum and sum of squares of per-draw values (float64)."""

    def __init__(self) -> None:
        self.n, self.s, self.ss = 0, 0.0, 0.0

    def add(self, v: np.ndarray) -> None:
        self.n += v.size
        self.s += float(v.sum())
        self.ss += float(np.dot(v, v))

    @property
    def mean(self) -> float:
        return self.s / self.n

    @property
    def sd(self) -> float:
        if self.n < 2:
            return math.inf
        return math.sqrt(max(self.ss - self.s * self.s / self.n, 0.0) / (self.n - 1))

    @property
    def se(self) -> float:
        return self.sd / math.sqrt(self.n)


def gaussian_slot_limits(dim: int, mi_nats: float, K: int, nus: Iterable[float] = (), *,
                         cubic: bool = False, seed: object = None,
                         max_error_bar_bits: float = MAX_ERROR_BAR_BITS, pilot: int = 16384,
                         max_samples: int = 4_000_000, chunk_floats: int = 1 << 22
                         ) -> SlotLimits:
    """``D_KJS(K)`` and the anchored divergences (``nus``) of the Gaussian task by Monte Carlo
    (module docstring): ``pilot`` draws of ``(x, y_1..y_K)`` (and one more ``y ~ p(y)`` for the
    anchor's all-noise slots), then as many as the pilot's spread needs for an error bar (2 SE)
    of at most ``max_error_bar_bits`` on every value, within ``max_samples`` (the error bars say
    what was reached).  ``seed``: default :func:`gaussian_seed`.  ``I = 0`` gives exactly 0."""
    dim = int(dim)
    if dim < 1:
        raise InputError("dim", f"must be an integer >= 1, got {dim!r}")
    if not (math.isfinite(mi_nats) and mi_nats >= 0):
        raise InputError("mi_nats", f"must be a finite number >= 0, got {mi_nats!r}")
    K, nus = _check_K(K), _check_nus(nus)
    if mi_nats == 0 or K == 1:      # r = 1 (or one slot): every term is exactly 0
        zero = Estimate(0.0, 0.0, 0, "exact (r = 1 or K = 1)")
        return SlotLimits(float(mi_nats), K, zero,
                          {nu: Estimate(0.0, 0.0, 0, "exact (r = 1 or K = 1)") for nu in nus})
    rho = gaussian_rho(dim, mi_nats)
    s = math.sqrt(1.0 - rho * rho)
    rng = np.random.default_rng(gaussian_seed(dim, mi_nats, K, cubic) if seed is None else seed)
    kjs, anch = _Moments(), {nu: _Moments() for nu in nus}
    target_se = max_error_bar_bits * LN2 / ERROR_BAR_SE
    per_chunk = max(1, chunk_floats // ((K + 1) * dim))
    log_k = math.log(K)

    def draw(n: int) -> None:
        x = rng.standard_normal((n, dim))
        y1 = rho * x + s * rng.standard_normal((n, dim))
        neg = rng.standard_normal((n, K - 1, dim))
        if cubic:
            y1, neg = y1 ** 3, neg ** 3
        lr1 = gaussian_log_ratio(x, y1, rho, cubic)
        lrn = gaussian_log_ratio(x[:, None, :], neg, rho, cubic)
        lse_neg = logsumexp(lrn, axis=1) if K > 1 else np.full(n, -np.inf)
        lse = np.logaddexp(lr1, lse_neg)
        kjs.add(log_k + lr1 - lse)
        if nus:
            y0 = rng.standard_normal((n, dim))
            lr0 = gaussian_log_ratio(x, y0 ** 3 if cubic else y0, rho, cubic)
            lse_noise = np.logaddexp(lr0, lse_neg)
            for nu, acc in anch.items():
                w = K / (K + nu)
                loss = w * (np.logaddexp(math.log(nu), lse) - lr1) + \
                    (1 - w) * (np.logaddexp(math.log(nu), lse_noise) - math.log(nu))
                acc.add(prior_entropy(K, nu) - loss)

    def run_to(total: int) -> None:
        while kjs.n < total:
            draw(min(per_chunk, total - kjs.n))

    run_to(min(pilot, max_samples))
    while True:
        worst = max([kjs.sd] + [a.sd for a in anch.values()])
        need = min(max_samples, math.ceil(1.1 * (worst / target_se) ** 2))
        if kjs.n >= need:
            break
        run_to(need)
    method = (f"Monte Carlo, {kjs.n} independent draws of (x, y_1..y_K)"
              + (" (cubic y, its own densities)" if cubic else "") + ", seeded")
    return SlotLimits(float(mi_nats), K, Estimate(kjs.mean, kjs.se, kjs.n, method),
                      {nu: Estimate(a.mean, a.se, a.n, method) for nu, a in anch.items()})


def gaussian_chi2(dim: int, mi_nats: float) -> float:
    """``chi^2(p(x, y) || p(x) p(y)) = (1 - rho^2)^{-d} - 1 = e^{2I} - 1`` (per coordinate
    ``int p^2/(p_x p_y) = 1/(1 - rho^2)``); with it ``D_KJS(K) >= I - log(1 + chi^2/K)``."""
    return math.expm1(2.0 * mi_nats)


# ------------------------------------------------------------------------------ items tasks
def items_source_classes(p: float, n_own: int, n_other: int) -> tuple[np.ndarray, ...]:
    """One source whose ``x`` has class ``c`` (``n_own`` items; ``n_other`` in the other class):
    ``(q1, q0, r)`` over ``y``'s ratio classes (x's own item, another item of class ``c``, an
    item of the other class).  ``p(y) = 1/(2 n)`` for an item of a class of ``n`` items."""
    q1 = np.array([0.0, 1.0 - p, p])
    q0 = np.array([1.0 / (2 * n_own), (n_own - 1) / (2.0 * n_own), 0.5])
    return q1, q0, q1 / q0


def items_pattern_laws(p: float, class_sizes: Sequence[int], d: int, m: int
                       ) -> tuple[np.ndarray, np.ndarray]:
    """``(q1, q0) = (p(y|x), p(y))`` over ``y``'s ratio classes when ``m`` of ``x``'s ``d``
    sources are in class 0: the classes ``(b_0, b_1)`` (``b_c`` of the sources of ``x``-class
    ``c`` draw another item of class ``c``, the others an item of the other class), then one
    class ``r = 0`` (some source draws ``x``'s own item; ``q1 = 0``)."""
    n0, n1 = int(class_sizes[0]), int(class_sizes[1])
    counts = (m, d - m)
    a = ((n0 - 1) / (2.0 * n0), (n1 - 1) / (2.0 * n1))

    def log_binom(n: int, k: np.ndarray) -> np.ndarray:
        return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)

    b0, b1 = np.meshgrid(np.arange(counts[0] + 1), np.arange(counts[1] + 1), indexing="ij")
    b0, b1 = b0.ravel(), b1.ravel()
    comb = log_binom(counts[0], b0) + log_binom(counts[1], b1)
    same, other = b0 + b1, d - b0 - b1
    def power(count: np.ndarray, prob: float) -> np.ndarray:
        """``count log(prob)``, with ``0 log 0 = 0`` and ``-inf`` for a positive count."""
        return np.where(count > 0, count * math.log(prob) if prob > 0 else -np.inf, 0.0)
    log_q1 = comb + power(same, 1.0 - p) + power(other, p)
    log_q0 = comb + b0 * math.log(a[0]) + b1 * math.log(a[1]) + other * math.log(0.5)
    q1 = np.where(np.isfinite(log_q1), np.exp(log_q1), 0.0)
    q0 = np.exp(log_q0)
    # P(no source draws x's own item) = (a_0 + 1/2)^m (a_1 + 1/2)^(d - m)
    zero = -math.expm1(counts[0] * math.log(a[0] + 0.5) + counts[1] * math.log(a[1] + 0.5))
    return np.append(q1, 0.0), np.append(q0, zero)


def items_slot_limits(p: float, class_sizes: Sequence[int], d: int, K: int,
                      nus: Iterable[float] = ()) -> SlotLimits:
    """``D_KJS(K)``, the anchored divergences (``nus``) and the MI of the items task, exactly
    (module docstring): the pattern ``m ~ Binomial(d, 1/2)`` of ``x``'s classes, per pattern
    :func:`items_pattern_laws` and :func:`numerics.exact.kjs.kway_jsd`."""
    n0, n1 = (int(c) for c in class_sizes)
    if min(n0, n1) < 2:
        raise InputError("class_sizes", "each class needs at least 2 items (Y differs from X)")
    if not 0 <= p <= 1:
        raise InputError("p", f"must be in [0, 1], got {p!r}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise InputError("d", f"must be an integer >= 1, got {d!r}")
    K, nus = _check_K(K), _check_nus(nus)
    mi, value, err = 0.0, 0.0, 0.0
    anch = {nu: [0.0, 0.0] for nu in nus}
    methods = set()
    for m in range(d + 1):
        w = math.comb(d, m) / 2.0 ** d
        q1, q0 = items_pattern_laws(p, (n0, n1), d, m)
        mi += w * kl(q1, q0)
        res = kway_jsd_result(q1, q0, K)
        value += w * res.value
        err += w * res.error_estimate
        methods.add(res.method)
        for nu, acc in anch.items():
            a = anchored_divergence_result(q1, q0, K, nu)
            acc[0] += w * a.value
            acc[1] += w * a.error_estimate
    method = (f"exact: {d + 1} patterns of x's classes, ratio classes, "
              f"numerics.exact.kjs ({'/'.join(sorted(methods))})")
    return SlotLimits(mi, K, Estimate(value, 0.0, 0, method, err),
                      {nu: Estimate(v, 0.0, 0, method, e) for nu, (v, e) in anch.items()})


__all__ = ["ERROR_BAR_SE", "MAX_ERROR_BAR_BITS", "Estimate", "SlotLimits", "gaussian_chi2",
           "gaussian_log_ratio", "gaussian_rho", "gaussian_seed", "gaussian_slot_limits",
           "items_pattern_laws", "items_slot_limits", "items_source_classes"]
