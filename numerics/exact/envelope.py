"""The range of ``D_KJS`` at a fixed KL divergence: Thm 2 (Sec. 2.2) corrected, in nats.

Notation: ``K`` slots, ``D = KL(q1||q0)``, ``p = e^{-D}``, ``B ~ Binomial(K-1, p)``.

* **Envelope.** ``U_K(D) = log K - E log(1 + B)`` is ``D_KJS`` of every pair whose ratio
  ``r = q1/q0`` is constant (``= e^D``) on the support of ``q1``, e.g. ``q1 = (1, 0)``,
  ``q0 = (p, 1 - p)`` (:func:`envelope_pair`): slot 1 lies in ``A = supp q1`` (of ``q0``-mass
  ``p``), each other slot with probability ``p``, and ``log(K r(x_1)/sum_i r(x_i)) =
  log(K/(1 + B))``.  No pair with ``KL = D`` found so far exceeds it (:func:`search_envelope`,
  ``benchmarks/envelope_search.py``): the conjecture is ``sup{D_KJS : KL = D} = U_K(D)``.
* **Infimum 0**, not attained for ``D > 0``: :func:`vanishing_pair` has ``KL = D`` and
  ``D_KJS <= eps log K`` (the channel is linear in ``q1`` and mutual information is convex in the
  channel).
* **Closed-form bound.** ``E[1/(1+B)] = (1 - (1-p)^K)/(K p)``, and Jensen gives
  ``U_K(D) <= D + log(1 - (1 - e^{-D})^K) < min{log K, D}`` (:func:`envelope_upper_bound`).
* **Lower bound** for ``q1 << q0``: ``D_KJS >= D - log(1 + chi^2(q1||q0)/K)``
  (:func:`chi2_lower_bound`; Jensen on ``D_KJS = D - E log((1/K) sum_i r(x_i))``).

The paper's Thm 2 states ``D_KJS <= min{log K, D - log((e^D - 1)/K + 1)}``; that expression is
the chi^2 lower bound with ``chi^2`` replaced by ``e^D - 1 <= chi^2`` (equal on the
constant-ratio family, where it lies *below* ``U_K(D)``).  The symbolic forms are in
:mod:`theory.bounds`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import mpmath as mp
import numpy as np
from scipy import optimize, stats

from numerics.exact.distributions import as_dps, as_pair, as_slots
from numerics.exact.divergences import chi2, kl
from numerics.exact.kjs import kway_jsd_result
from numerics.exact.result import Result, round_to_dps
from theory.errors import InputError

EPS = float(np.finfo(float).eps)
#: Smallest q0-mass :func:`vanishing_pair` may give a letter (float64 keeps it normal).
TINY = 1e-300
#: ``|KL - D|`` up to which :func:`search_envelope` counts an optimiser's pair as on the
#: constraint surface (SLSQP's tolerance is 1e-10 on the constraint).
KL_TOLERANCE = 1e-7


# ----------------------------------------------------------------------------- input checks
def as_divergence(D: object, name: str = "D", *, positive: bool = False) -> float:
    """``D``: a finite real number ``>= 0`` (``> 0`` with ``positive``), in nats."""
    if isinstance(D, bool) or not isinstance(D, numbers.Real):
        raise InputError(name, f"the KL divergence must be a number (nats), got {D!r}")
    value = float(D)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        rule = "> 0" if positive else ">= 0"
        raise InputError(name, f"the KL divergence must be a finite number {rule} (nats), "
                         f"got {D!r}")
    return value


def _as_fraction(eps: object, name: str = "eps") -> float:
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or \
            not 0 < float(eps) <= 1:
        raise InputError(name, f"the mixing weight must be a number in (0, 1], got {eps!r}")
    return float(eps)


# ----------------------------------------------------------------------------- the envelope
def kjs_envelope(D: object, K: object, *, dps: int | None = None):
    """``U_K(D) = log K - E log(1 + B)``, ``B ~ Bin(K-1, e^{-D})`` (nats): the largest
    ``D_KJS`` found at ``KL(q1||q0) = D`` (Thm 2 corrected, Sec. 2.2; conjectured to be the
    supremum), attained by every pair with constant ratio ``q1/q0`` on ``supp q1``.

    Computed as ``E[-log(1 - C/K)]`` with ``C = K-1-B ~ Bin(K-1, 1 - e^{-D})``, a sum of
    non-negative terms (no cancellation as ``D -> 0``), over the binomial's bulk (the tail left
    out is below ``1e-300`` by Hoeffding): stable for ``K`` up to ``10^6`` and beyond.  ``D``
    finite ``>= 0``; ``dps``: digits of the mpmath path (the value is then an mpmath number).
    """
    return kjs_envelope_result(D, K, dps=dps).value


def kjs_envelope_result(D: object, K: object, *, dps: int | None = None) -> Result:
    """:func:`kjs_envelope` with an error estimate (method ``binomial``)."""
    d, k, dps_ = as_divergence(D), as_slots(K), as_dps(dps)
    n = k - 1
    if n == 0 or d == 0:
        return Result(mp.mpf(0) if dps_ else 0.0, "binomial", 0.0, dps_)
    if dps_ is not None:
        return _envelope_mp(d, k, dps_)
    # C = K-1-B counts the slots outside supp q1: C ~ Bin(n, q), q = 1 - e^{-D}; the pmf is
    # taken on whichever of C, B has the smaller success probability (no rounding of q to 1)
    p, q = math.exp(-d), -math.expm1(-d)
    lo, hi = _window(n, min(p, q), 745.0)
    j = np.arange(lo, hi + 1, dtype=np.float64)
    pmf = stats.binom.pmf(j, n, min(p, q))
    pmf /= pmf.sum()  # the window holds all but 1e-300: fixes scipy's scale error at tiny p
    c = j if q <= p else n - j
    value = float(pmf @ _log_ratio(c, k))
    # relative: scipy's binomial pmf is accurate to a few eps in the bulk, the logs to one eps
    return Result(value, "binomial", 64 * EPS * value, None)


def _log_ratio(c: np.ndarray, k: int) -> np.ndarray:
    """``-log(1 - c/K) = log(K/(K - c))`` for integers ``0 <= c < K``: ``log1p`` where ``c/K``
    is small, a difference of logs of exact integers where ``K - c`` is."""
    small = c <= k / 2
    with np.errstate(divide="ignore"):
        return np.where(small, -np.log1p(-np.where(small, c, 0.0) / k),
                        math.log(k) - np.log(np.where(small, 1.0, k - c)))


def _window(n: int, q: float, log_tail: float) -> tuple[int, int]:
    """``[lo, hi]`` holding all but ``e^{-log_tail}`` of ``Bin(n, q)`` (Hoeffding:
    ``P(|C - nq| >= t) <= 2 exp(-2 t^2/n)``)."""
    t = math.sqrt(n * (log_tail + 1.0) / 2.0) + 1.0
    mu = n * q
    return max(0, math.floor(mu - t)), min(n, math.ceil(mu + t))


def _envelope_mp(d: float, k: int, dps: int) -> Result:
    n = k - 1
    with mp.workdps(dps + 15):
        p, q = mp.exp(-mp.mpf(d)), -mp.expm1(-mp.mpf(d))
        lo, hi = _window(n, float(q), (dps + 15) * math.log(10))
        ratio = q / p
        # log pmf of C ~ Bin(n, q) at lo, then pmf(c + 1) = pmf(c) (n - c)/(c + 1) q/p
        log_first = (mp.loggamma(n + 1) - mp.loggamma(lo + 1) - mp.loggamma(n - lo + 1)
                     + lo * mp.log(q) - (n - lo) * mp.mpf(d))
        pmf, total = mp.exp(log_first), mp.mpf(0)
        for c in range(lo, hi + 1):
            total += pmf * mp.log(mp.mpf(k) / (k - c))
            pmf *= mp.mpf(n - c) / (c + 1) * ratio
        value = round_to_dps(total, dps)
    return Result(value, "binomial", 10.0 ** (-dps), dps)


def envelope_pair(D: object) -> tuple[np.ndarray, np.ndarray]:
    """The pair attaining :func:`kjs_envelope` (Thm 2 corrected, Sec. 2.2):
    ``q1 = (1, 0)``, ``q0 = (e^{-D}, 1 - e^{-D})``, so ``KL(q1||q0) = D`` and the ratio is
    ``e^D`` on ``supp q1``.  Every pair with constant ratio on ``supp q1`` has the same
    ``D_KJS = U_K(D)``.  ``D`` finite ``>= 0`` with ``e^{-D}`` a normal float64 (``D < 690``).
    """
    d = as_divergence(D)
    p = math.exp(-d)
    if p < TINY:
        raise InputError("D", f"e^-D underflows float64 at D = {d!r} nats: use D < 690")
    return np.array([1.0, 0.0]), np.array([p, -math.expm1(-d)])


def envelope_upper_bound(D: object, K: object) -> float:
    """``D + log(1 - (1 - e^{-D})^K)`` (nats), an upper bound on ``U_K(D)`` (Thm 2 corrected,
    Sec. 2.2): ``E[1/(1+B)] = (1 - (1-p)^K)/(K p)`` (as ``C(K-1, j)/(j+1) = C(K, j+1)/K``) and
    Jensen (``-log`` convex) give ``E log(1 + B) >= log(K p) - log(1 - (1-p)^K)``.  It is
    ``< D`` for ``D > 0`` and ``<= log K`` (Bernoulli: ``1 - (1-p)^K <= K p``)."""
    d, k = as_divergence(D), as_slots(K)
    if d == 0 or k == 1:  # both sides vanish (at K = 1 exactly: D + log e^{-D})
        return 0.0
    p = math.exp(-d)
    # 1 - (1 - p)^K = -expm1(K log1p(-p)), without cancellation for small or large p
    mass = -math.expm1(k * math.log1p(-p))
    if d <= math.log(k):  # D + log(mass), mass <= 1: never above D
        return d + math.log(mass)
    # log K + log E[1/(1+B)], E[1/(1+B)] = mass/(K p) <= 1: never above log K, and no
    # cancellation between D and log(mass) ~ log(K p) when p is small
    return math.log(k) + math.log(min(1.0, mass / (k * p)))


# ----------------------------------------------------------------------------- the infimum
def vanishing_pair(D: object, eps: object) -> tuple[np.ndarray, np.ndarray]:
    """A pair with ``KL(q1||q0) = D`` and ``D_KJS <= eps log K`` (Thm 2 corrected, Sec. 2.2:
    the infimum of ``D_KJS`` at fixed ``D > 0`` is 0, not attained).

    ``q1 = (1 - eps) q0 + eps delta_0`` with ``q0 = (t, 1 - t)``, ``t`` solved so that
    ``KL = D`` (``KL`` runs from ``inf`` at ``t = 0`` to 0 at ``t = 1``, so a root exists for
    every ``eps`` in ``(0, 1]``).  The channel ``p(x_{1:K} | z)`` is linear in ``q1``, hence the
    mixture ``(1 - eps) [q1 = q0: I = 0] + eps [q1 = delta_0]``, and ``I(Z; X_{1:K})`` is convex
    in the channel for the uniform prior on ``Z``: ``D_KJS <= eps log K``.  ``t`` falls like
    ``eps e^{-D/eps}``: an ``eps`` that would push it below ``1e-300`` is an error.
    """
    d, e = as_divergence(D, positive=True), _as_fraction(eps)
    log1m = math.log1p(-e) if e < 1 else -math.inf

    def excess(u: float) -> float:  # KL - D as a function of u = log t
        t = math.exp(u)
        # KL = q1(0) log(1 - eps + eps/t) + (1 - eps)(1 - t) log(1 - eps)
        head = ((1 - e) * t + e) * np.logaddexp(log1m, math.log(e) - u)
        tail = (1 - e) * (1 - t) * log1m if e < 1 else 0.0
        return float(head + tail) - d

    lo = math.log(TINY)
    if excess(lo) < 0:
        raise InputError("eps", f"too small for D = {d:.6g} nats in float64: q0's letter "
                         "would fall below 1e-300 (t ~ eps e^(-D/eps)); use a larger eps")
    u = optimize.brentq(excess, lo, 0.0, xtol=1e-15, rtol=4 * EPS, maxiter=500)
    t = math.exp(u)
    q0 = np.array([t, 1.0 - t])
    return np.array([(1 - e) * t + e, (1 - e) * (1 - t)]), q0


# ----------------------------------------------------------------------------- lower bound
def chi2_lower_bound(q1: object, q0: object, K: object) -> float:
    """``D - log(1 + chi^2(q1||q0)/K)`` (nats), a lower bound on ``D_KJS(q1, q0)`` for
    ``q1 << q0`` (Thm 2 corrected, Sec. 2.2).

    With ``r = q1/q0`` and ``S = sum_i r(x_i)`` (``x_1 ~ q1``, the others ``~ q0``):
    ``D_KJS = E log r(x_1) - E log(S/K) = D - E log(S/K)``; Jensen gives
    ``E log(S/K) <= log E(S/K)``, and ``E S = E_q1 r + (K-1) E_q0 r = 1 + chi^2 + K - 1``.
    Equality iff ``S/K`` is a.s. constant (``q1 = q0``; ``K = 1`` with ``r`` constant on
    ``supp q1``).  Thm 2's ``D - log(1 + (e^D - 1)/K)`` is this with ``chi^2`` replaced by
    ``e^D - 1 <= chi^2``.
    """
    a, b = as_pair(q1, q0)
    k = as_slots(K)
    c2 = chi2(a, b)
    if not math.isfinite(c2):
        raise InputError("q0", "the chi^2 lower bound needs q1 << q0: q0 must be > 0 wherever "
                         "q1 > 0")
    return kl(a, b) - math.log1p(c2 / k)


# ----------------------------------------------------------------------------- the search
@dataclass(frozen=True)
class EnvelopeSearch:
    """What :func:`search_envelope` found: the pair with the largest exact ``D_KJS`` among the
    optimiser's runs that ended on ``|KL - D| <= KL_TOLERANCE``, its ``D_KJS`` (nats, with the
    error estimate), its ``KL``, ``U_K`` at that ``KL`` and the excess ``D_KJS - U_K(KL)``;
    ``max_excess`` is the largest excess over *all* runs (nats) and ``max_excess_error`` that
    run's error estimate (a counterexample needs ``max_excess > max_excess_error``),
    ``by_letters`` the best per alphabet size."""

    D: float
    K: int
    q1: list[float]
    q0: list[float]
    kjs: float
    kjs_error: float
    kl: float
    envelope: float
    excess: float
    max_excess: float
    max_excess_error: float
    letters: int
    runs: int
    by_letters: dict[int, dict[str, float]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["by_letters"] = {str(n): v for n, v in self.by_letters.items()}
        return out


def search_envelope(D: object, K: object, *, letters: Sequence[int] = (2, 3, 4, 5),
                    starts: int = 8, seed: int = 0) -> EnvelopeSearch:
    """Maximise the exact ``D_KJS(q1, q0)`` over pairs on ``n`` letters (each ``n`` in
    ``letters``) with ``KL(q1||q0) = D``, by SLSQP from ``starts`` random feasible points per
    ``n`` (``q1`` Dirichlet, ``q0`` = ``q1`` tilted by a random ``w^s``, ``s`` solved for
    ``KL = D``), to test the conjecture ``sup{D_KJS : KL = D} = U_K(D)`` (Thm 2 corrected,
    Sec. 2.2).  Each run's end point is normalised, and its ``D_KJS`` and ``KL`` recomputed
    exactly; the excess is taken against ``U_K`` at *that* ``KL`` (the constraint holds only to
    the optimiser's tolerance).  Seeded: the same arguments give the same result."""
    d, k = as_divergence(D, positive=True), as_slots(K)
    sizes = _as_letters(letters)
    if isinstance(starts, bool) or not isinstance(starts, numbers.Integral) or starts < 1:
        raise InputError("starts", f"must be an integer >= 1, got {starts!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise InputError("seed", f"must be an integer >= 0, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    best: dict[str, object] | None = None
    max_excess, max_excess_error, runs, by_letters = -math.inf, 0.0, 0, {}
    for n in sizes:
        for _ in range(int(starts)):
            start = _feasible_start(n, d, rng)
            found = _evaluate(*_slsqp(start, n, d, k), k)
            runs += 1
            if found["excess"] > max_excess:
                max_excess, max_excess_error = found["excess"], found["kjs_error"]
            if abs(found["kl"] - d) > KL_TOLERANCE * max(1.0, d):
                continue
            row = by_letters.get(n)
            if row is None or found["kjs"] > row["kjs"]:
                by_letters[n] = {key: found[key] for key in ("kjs", "kl", "envelope", "excess")}
            if best is None or found["kjs"] > best["kjs"]:
                best = {**found, "letters": n}
    if best is None:
        raise InputError("starts", "no run ended on the constraint KL = D: use more starts")
    return EnvelopeSearch(d, k, best["q1"], best["q0"], best["kjs"], best["kjs_error"],
                          best["kl"], best["envelope"], best["excess"], max_excess,
                          max_excess_error, best["letters"], runs, by_letters)


def _as_letters(letters: object) -> list[int]:
    try:
        sizes = list(letters)  # type: ignore[call-overload]
    except TypeError:
        raise InputError("letters", f"must be a sequence of integers >= 2, got {letters!r}") \
            from None
    if not sizes or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 2
                        for n in sizes):
        raise InputError("letters", f"must be a non-empty sequence of integers >= 2, "
                         f"got {letters!r}")
    return [int(n) for n in sizes]


def _feasible_start(n: int, d: float, rng: np.random.Generator) -> np.ndarray:
    """``(q1, q0)`` with ``KL = D``: ``q1`` Dirichlet, ``q0 = q1 w^s / sum`` for a random ``w``
    (``KL`` grows from 0 at ``s = 0`` to infinity unless ``q1`` sits on ``argmax w``)."""
    while True:
        q1 = rng.dirichlet(np.full(n, rng.choice((0.3, 1.0))))
        logw = rng.normal(0.0, 1.0, n)
        hi = 1.0
        while _tilt_gap(hi, q1, logw, d) < 0 and hi < 1e4:
            hi *= 2
        if _tilt_gap(hi, q1, logw, d) < 0:
            continue
        s = optimize.brentq(_tilt_gap, 0.0, hi, args=(q1, logw, d), xtol=1e-14)
        q0 = _tilted(s, q1, logw)
        if q0.min() > 1e-12:
            return np.concatenate([q1, q0])


def _tilted(s: float, q1: np.ndarray, logw: np.ndarray) -> np.ndarray:
    """``q1 w^s / sum`` (in logs)."""
    z = np.log(q1) + s * logw
    w = np.exp(z - z.max())
    return w / w.sum()


def _tilt_gap(s: float, q1: np.ndarray, logw: np.ndarray, d: float) -> float:
    """``KL(q1 || q1 w^s / sum) - D``."""
    q0 = _tilted(s, q1, logw)
    return float(np.sum(q1 * (np.log(q1) - np.log(np.maximum(q0, 1e-300))))) - d


def _normalised(x: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    q1, q0 = np.clip(x[:n], 0.0, None), np.clip(x[n:], 1e-300, None)
    return q1 / q1.sum(), q0 / q0.sum()


def _slsqp(x0: np.ndarray, n: int, d: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    def objective(x: np.ndarray) -> float:
        return -float(kway_jsd_result(*_normalised(x, n), k).value)

    constraints = [{"type": "eq", "fun": lambda x: float(np.sum(x[:n]) - 1.0)},
                   {"type": "eq", "fun": lambda x: float(np.sum(x[n:]) - 1.0)},
                   {"type": "eq", "fun": lambda x: kl(*_normalised(x, n)) - d}]
    bounds = [(0.0, 1.0)] * n + [(1e-12, 1.0)] * n
    res = optimize.minimize(objective, x0, method="SLSQP", bounds=bounds,
                            constraints=constraints,
                            options={"maxiter": 300, "ftol": 1e-13})
    x = res.x if np.all(np.isfinite(res.x)) else x0
    return _normalised(x, n)


def _evaluate(q1: np.ndarray, q0: np.ndarray, k: int) -> dict[str, object]:
    """Exact ``D_KJS``, ``KL``, ``U_K(KL)`` and the excess of a pair."""
    res = kway_jsd_result(q1, q0, k)
    divergence = kl(q1, q0)
    env = kjs_envelope_result(divergence, k)
    return {"q1": q1.tolist(), "q0": q0.tolist(), "kjs": float(res.value),
            "kjs_error": res.error_estimate + env.error_estimate, "kl": divergence,
            "envelope": env.value, "excess": float(res.value) - env.value}
