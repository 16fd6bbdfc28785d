"""Method (c): moments of ``nu + sum_i r(x_i)`` through the Laplace transform of ``r``.

The slots ``x_1..x_K`` are independent, so ``E exp(-t (nu + sum_i r(x_i)))`` factorises into
``e^{-t nu} phi_1(t) phi_0(t)^{K-1}`` with ``phi_j(t) = sum_x q_j(x) e^{-t r(x)}``.  Three
one-dimensional integral representations turn that into the moments the objectives need, at a
cost that does not grow with ``K``:

* log (Frullani):  ``log a = int_0^oo (e^{-t} - e^{-a t}) dt / t``;
* negative powers (Gamma):  ``a^{-s} = (1/Gamma(s)) int_0^oo t^{s-1} e^{-a t} dt`` (``s > 0``);
* fractional positive powers:  ``a^{s} = (s/Gamma(1-s)) int_0^oo (1 - e^{-a t}) t^{-s-1} dt``
  (``0 < s < 1``).

The integrals are taken in ``u = log t`` by composite Gauss-Legendre quadrature (panels of width
``PANEL_WIDTH``; order ``FINE`` against order ``COARSE`` gives the error estimate).  ``phi_0^{K-1}``
is formed as ``exp((K-1) log1p(-c_0))`` with ``c_0 = sum_x q_0(x)(1 - e^{-t r(x)})`` computed by
``expm1``: forming ``phi_0`` first and raising it to the power ``K - 1`` would amplify its rounding
error ``K`` times (``1e-10`` relative at ``K = 10^6``).  Nodes are processed in blocks of about
``CELLS / n``, so memory is ``O(CELLS + BLOCK n)`` for an alphabet of size ``n``.  With ``dps``
set, the log moment (Frullani) is evaluated with mpmath; the power moments run in float64 only
(their mpmath values come from type classes).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import mpmath as mp
import numpy as np

#: Width (in ``u = log t``) of a quadrature panel, and the Gauss-Legendre orders compared.
PANEL_WIDTH = 2.0
FINE, COARSE = 20, 12
#: Nodes summed at once (the quadrature sums ``BLOCK`` weighted nodes at a time).
BLOCK = 64
#: Integrand cells held at once: ``max(BLOCK, CELLS / n)`` nodes (a multiple of ``BLOCK``) for an
#: alphabet of ``n`` letters, so memory ``O(CELLS + BLOCK n)`` floats.
CELLS = 2 ** 16
#: Integrands are cut where they fall below this (relative) size.
CUTOFF = 1e-18


@dataclass(frozen=True)
class Slots:
    """The law of one slot: weights ``w`` (a probability or sub-probability vector) and ``r``."""

    weights: np.ndarray
    values: np.ndarray

    @property
    def mass(self) -> float:
        return float(self.weights.sum())

    def complement(self, t: np.ndarray) -> np.ndarray:
        """``c(t) = sum_x w(x) (1 - e^{-t r(x)})`` for every ``t`` (accurate near ``t = 0``)."""
        return -np.expm1(-np.outer(t, self.values)) @ self.weights

    def transform(self, t: np.ndarray, a: np.ndarray | None = None) -> np.ndarray:
        """``sum_x w(x) a(x) e^{-t r(x)}`` (``a = 1`` when omitted)."""
        w = self.weights if a is None else self.weights * a
        return np.exp(-np.outer(t, self.values)) @ w


@dataclass(frozen=True)
class Integral:
    """A quadrature value and its error estimate."""

    value: float
    error: float


@cache
def gauss_legendre(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the ``order``-point Gauss-Legendre rule on ``[-1, 1]`` (read-only)."""
    x, w = np.polynomial.legendre.leggauss(order)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def _panels(lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints and half-widths of the panels (width at most ``PANEL_WIDTH``) of ``[lo, hi]``."""
    panels = max(1, math.ceil((hi - lo) / PANEL_WIDTH))
    edges = np.linspace(lo, hi, panels + 1)
    return (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2


def _nodes(mid: np.ndarray, half: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite rule over the panels ``mid +- half``: ``order`` nodes each (nodes and weights,
    panel by panel)."""
    x, w = gauss_legendre(order)
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


def _evaluate(integrand: Callable[[np.ndarray], np.ndarray], u: np.ndarray,
              letters: int) -> np.ndarray:
    """``integrand(u)`` at every node, ``CELLS / letters`` nodes (a multiple of ``BLOCK``) a call."""
    step = BLOCK * max(1, CELLS // (BLOCK * max(letters, 1)))
    if u.size <= step:
        return integrand(u)
    return np.concatenate([integrand(u[start:start + step]) for start in range(0, u.size, step)])


def _blocked_dot(w: np.ndarray, f: np.ndarray) -> float:
    """``sum_j w_j f_j``, summed ``BLOCK`` terms at a time (the order of the sums is fixed)."""
    total = 0.0
    for start in range(0, w.size, BLOCK):
        total += float(np.dot(w[start:start + BLOCK], f[start:start + BLOCK]))
    return total


def _quadrature(integrand: Callable[[np.ndarray], np.ndarray], lo: float, hi: float,
                floor: float = 0.0, letters: int = 1) -> Integral:
    """``int_lo^hi integrand(u) du``: order ``FINE``, with error ``|fine - coarse|`` plus rounding.

    ``letters``: the alphabet size (the integrand's cost per node; it sets how many nodes are
    evaluated at once).  Rounding: each node carries a relative error of a few ``eps``
    (``phi^{K-1}`` adds at most ``(K-1)|log phi| eps`` where it is above ``e^{-45}``), so the sum
    carries ``64 eps int |integrand|``; ``floor`` adds ``64 eps floor`` per unit of ``u`` for
    integrands formed as a difference of two terms of size ``floor`` (the Frullani integrand)."""
    mid, half = _panels(lo, hi)
    u_fine, w_fine = _nodes(mid, half, FINE)
    u_coarse, w_coarse = _nodes(mid, half, COARSE)
    f = _evaluate(integrand, np.concatenate([u_fine, u_coarse]), letters)
    f_fine, f_coarse = f[:u_fine.size], f[u_fine.size:]
    value = _blocked_dot(w_fine, f_fine)
    magnitude = _blocked_dot(w_fine, np.abs(f_fine))
    rounding = 64 * np.finfo(float).eps * (magnitude + (hi - lo) * floor)
    return Integral(value, float(abs(value - _blocked_dot(w_coarse, f_coarse)) + rounding))


def _log_phi(slots: Slots, t: np.ndarray) -> np.ndarray:
    """``log(phi(t)/mass)``, ``phi(t) = sum_x w(x) e^{-t r(x)}``, as ``log1p(-c(t)/mass)``.

    Normalised by the mass: a law whose float64 weights sum to ``1 + eps`` would otherwise put
    ``(K - 1) eps`` into ``phi^{K-1}`` near ``t = 0``, which the ``dt/t`` measure integrates over
    the whole range of ``u``."""
    c = np.minimum(slots.complement(t) / slots.mass, 1.0)
    with np.errstate(divide="ignore"):
        return np.log1p(-c)


def _normalised(slots: Slots) -> Slots:
    """The law of the slots drawn from ``q0``: weights rescaled to sum to 1 exactly in value."""
    return Slots(slots.weights / slots.mass, slots.values)


def _letters(first: Slots, rest: Slots) -> int:
    """The larger alphabet of the two slot laws (the integrands' cost per node)."""
    return max(first.values.size, rest.values.size)


def _rate(nu: float, first: Slots) -> float:
    """``nu + min r`` over the first slot's support: the decay rate of the integrands."""
    rate = nu + float(first.values[first.weights > 0].min())
    if rate <= 0:
        raise ValueError("nu + r(x_1) must be > 0 on the first slot's support")
    return rate


def _upper(rate: float, power: float = 0.0) -> float:
    """``log T`` with ``t^power e^{-rate t} < e^{-45}`` for every ``t > T``."""
    T = 45.0 / rate
    while power * math.log(T) - rate * T > -45.0:
        T *= 2.0
    return math.log(T)


def expected_log(nu: float, first: Slots, rest: Slots, K: int, first_slots: int = 1
                 ) -> Integral:
    """``E[log(nu + r(x_1) + sum_{i=2}^K r(x_i))]``, ``x_1 ~ first``, ``x_i ~ rest`` (weights of
    ``first`` may sum to less than 1: the expectation is then over that sub-measure).

    With ``first_slots = m > 1`` the sum is ``nu + sum_{i<=m} r(x_i) + sum of K - 1 slots of
    rest`` with ``x_1..x_m`` i.i.d. from ``first`` (a probability vector then).

    Frullani: ``int_0^oo (m e^{-t} - e^{-t nu} phi_first(t) phi_rest(t)^{K-1}) dt/t``, written as
    ``m [(1 - e^{-t}) - (1 - e^{-t nu} phi_first/m phi_rest^{K-1})]`` and evaluated by ``expm1``.
    """
    m = first.mass
    rest = _normalised(rest)
    mean = nu + first_slots * float(first.values @ first.weights) / m + \
        (K - 1) * float(rest.values @ rest.weights)
    lo = math.log(CUTOFF / (1.0 + mean))
    hi = max(_upper(min(_rate(nu, first), 1.0)), lo + PANEL_WIDTH)

    def integrand(u: np.ndarray) -> np.ndarray:
        t = np.exp(u)
        log_rest = _log_phi(rest, t) if K > 1 else 0.0
        exponent = -t * nu + first_slots * _log_phi(first, t) + (K - 1) * log_rest
        return m * (np.expm1(-t) - np.expm1(exponent))

    return _quadrature(integrand, lo, hi, m, letters=_letters(first, rest))


def expected_inverse_power(nu: float, s: float, first: Slots, rest: Slots, K: int, *,
                           a_first: np.ndarray | None = None, b_rest: np.ndarray | None = None,
                           constant: float = 0.0) -> Integral:
    """``E[(A(x_1) + sum_{i>=2} B(x_i) + constant) (nu + sum_{i=1}^K r(x_i))^{-s}]``, ``s > 0``.

    ``A`` (on ``first``'s alphabet) and ``B`` (on ``rest``'s) default to 0.  Gamma representation:
    ``(1/Gamma(s)) int t^{s-1} e^{-t nu} [T_A phi_r^{K-1} + (K-1) phi_f T_B phi_r^{K-2}
    + constant phi_f phi_r^{K-1}] dt`` with ``T_A = sum_x w_first(x) A(x) e^{-t r(x)}``.
    """
    if s <= 0:
        raise ValueError("expected_inverse_power needs s > 0")
    m = first.mass
    rest = _normalised(rest)
    size = abs(constant) * m
    if a_first is not None:
        size += float(np.abs(a_first) @ first.weights)
    if b_rest is not None:
        size += (K - 1) * m * float(np.abs(b_rest) @ rest.weights)
    if size == 0.0:
        return Integral(0.0, 0.0)
    mean = nu + float(first.values @ first.weights) / m + \
        (K - 1) * float(rest.values @ rest.weights)
    # below lo the integrand is at most size t^{s-1}/Gamma(s): a tail size e^{s lo}/(s Gamma(s)),
    # CUTOFF relative to the value's scale size / (1 + mean)^s
    lo = (math.log(CUTOFF * s) + math.lgamma(s)) / s - math.log1p(mean)
    truncation = size * math.exp(s * lo - math.lgamma(s + 1))
    hi = max(_upper(_rate(nu, first), s), lo + PANEL_WIDTH)

    def integrand(u: np.ndarray) -> np.ndarray:
        t = np.exp(u)
        log_rest = _log_phi(rest, t) if K > 1 else np.zeros_like(t)
        log_first = _log_phi(first, t) + math.log(m)
        common = s * u - t * nu - math.lgamma(s)
        total = np.zeros_like(t)
        if a_first is not None:
            total += first.transform(t, a_first) * np.exp(common + (K - 1) * log_rest)
        if b_rest is not None and K > 1:
            others = (K - 2) * log_rest if K > 2 else 0.0
            total += (K - 1) * rest.transform(t, b_rest) * np.exp(common + log_first + others)
        if constant:
            total += constant * np.exp(common + log_first + (K - 1) * log_rest)
        return total

    body = _quadrature(integrand, lo, hi, letters=_letters(first, rest))
    return Integral(body.value, body.error + truncation)


def expected_fractional_power(nu: float, s: float, first: Slots, rest: Slots, K: int, *,
                              a_first: np.ndarray | None = None) -> Integral:
    """``E[A(x_1) (nu + sum_{i=1}^K r(x_i))^{s}]`` for ``0 < s < 1`` (``A = 1`` by default).

    ``(s/Gamma(1-s)) int t^{-s-1} sum_x w(x) A(x) (1 - e^{-t(nu + r(x))} phi_rest^{K-1}) dt``; past
    the last panel the bracket is ``sum_x w A`` and the tail ``T^{-s}/s`` is added exactly.
    """
    if not 0 < s < 1:
        raise ValueError("expected_fractional_power needs 0 < s < 1")
    rest = _normalised(rest)
    a = np.ones_like(first.values) if a_first is None else a_first
    wa = first.weights * a
    mean = nu + float(first.values @ first.weights) / first.mass + \
        (K - 1) * float(rest.values @ rest.weights)
    lo = math.log((CUTOFF * (1 - s)) ** (1 / (1 - s)) / (1.0 + mean))
    hi = max(_upper(_rate(nu, first)), lo + PANEL_WIDTH)
    coef = s / math.gamma(1 - s)

    def integrand(u: np.ndarray) -> np.ndarray:
        t = np.exp(u)
        log_rest = _log_phi(rest, t) if K > 1 else np.zeros_like(t)
        exponent = -np.outer(t, first.values) - (t * nu - (K - 1) * log_rest)[:, None]
        return coef * np.exp(-s * u) * (-np.expm1(exponent) @ wa)

    body = _quadrature(integrand, lo, hi, letters=_letters(first, rest))
    tail = coef * float(wa.sum()) * math.exp(-s * hi) / s
    return Integral(body.value + tail, body.error)


# ------------------------------------------------------------------ mpmath (dps digits)
def _mp_panels(lo: float, hi: float) -> list:
    panels = max(1, math.ceil((hi - lo) / PANEL_WIDTH))
    return [mp.mpf(lo) + (mp.mpf(hi) - lo) * i / panels for i in range(panels + 1)]


def _mp_phi(weights, values, t):
    """``log(phi(t)/mass)`` in mpmath, through ``c = sum w (1 - e^{-t r})`` by ``expm1``."""
    mass = mp.fsum(weights)
    c = mp.fsum(-w * mp.expm1(-t * v) for w, v in zip(weights, values))
    return mp.log1p(-c / mass)


def _mp_normalised(weights):
    total = mp.fsum(weights)
    return [w / total for w in weights]


def expected_log_mp(nu, first_w, first_r, rest_w, rest_r, K: int, dps: int):
    """:func:`expected_log` in mpmath at ``dps`` digits (inputs are lists of mpf): ``(value,
    mpmath.quad's error estimate)``."""
    with mp.workdps(dps + 10):
        rest_w = _mp_normalised(rest_w)
        m = mp.fsum(first_w)
        mean = float(nu + mp.fsum(w * v for w, v in zip(first_w, first_r)) / m
                     + (K - 1) * mp.fsum(w * v for w, v in zip(rest_w, rest_r)))
        cutoff = 10.0 ** (-dps - 3)
        lo = math.log(cutoff / (1.0 + mean))
        rate = float(nu + min(v for w, v in zip(first_w, first_r) if w > 0))
        hi = max(_upper_mp(min(rate, 1.0), dps), lo + PANEL_WIDTH)

        def integrand(u):
            t = mp.exp(u)
            log_rest = _mp_phi(rest_w, rest_r, t) if K > 1 else 0
            exponent = -t * nu + _mp_phi(first_w, first_r, t) + (K - 1) * log_rest
            return m * (mp.expm1(-t) - mp.expm1(exponent))

        value, error = mp.quad(integrand, _mp_panels(lo, hi), error=True)
    return value, float(error)


def _upper_mp(rate: float, dps: int, power: float = 0.0) -> float:
    """``log T`` with ``t^power e^{-rate t} < 10^{-dps-3}`` for ``t > T``."""
    target = (dps + 3) * math.log(10)
    T = target / rate
    while power * math.log(T) - rate * T > -target:
        T *= 2.0
    return math.log(T)
