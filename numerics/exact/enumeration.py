"""Methods (a) and (b): every ``x_{2:K}`` over an alphabet, or every type (letter counts).

Type classes: the multiset of ``K - 1`` letters drawn i.i.d. from ``q0`` has multinomial
probability ``(K-1)!/prod_x c_x! prod_x q0(x)^{c_x}``; any permutation-invariant function of the
slots is constant on a class, so the ``n^{K-1}`` configurations collapse to
``binom(K - 2 + n, n - 1)`` classes.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from scipy.special import gammaln

from theory.errors import InputError

#: Largest number of configurations (or type classes) either method will enumerate.
ENUMERATION_LIMIT = 2_000_000
#: Tables of type classes kept between calls: at most ``CACHED_TABLES``, each of at most
#: ``CACHED_CELLS`` counts (larger ones are rebuilt at each call).
CACHED_TABLES, CACHED_CELLS = 64, 2 ** 18


def count_configurations(n: int, slots: int) -> int:
    return n ** slots


def count_types(n: int, slots: int) -> int:
    return math.comb(slots + n - 1, n - 1)


def _check(size: int, what: str) -> None:
    if size > ENUMERATION_LIMIT:
        raise InputError("method", f"{what} would enumerate {size:,} terms (limit "
                         f"{ENUMERATION_LIMIT:,}); use method='laplace' or 'auto'")


def configurations(n: int, slots: int) -> np.ndarray:
    """Every index vector in ``range(n)^slots``, one per row."""
    _check(count_configurations(n, slots), "method='enumerate'")
    if slots == 0:
        return np.zeros((1, 0), dtype=np.int64)
    grid = np.indices((n,) * slots).reshape(slots, -1).T
    return np.ascontiguousarray(grid)


def type_counts(n: int, slots: int) -> np.ndarray:
    """Every count vector ``c`` in ``N^n`` with ``sum c = slots``, one per row (read-only).

    Stars and bars: the ``n - 1`` bars sit at positions ``b_1 < ... < b_{n-1}`` among
    ``slots + n - 1``, and ``c_i = b_i - b_{i-1} - 1`` with ``b_0 = -1``, ``b_n = slots + n - 1``
    (rows in the lexicographic order of the bars).  Tables of up to ``CACHED_CELLS`` entries are
    kept: the claims ask for the same ``(n, slots)`` thousands of times."""
    size = count_types(n, slots)
    _check(size, "method='types'")
    if _cached(n, size):
        return _cached_type_counts(n, slots)
    return _stars_and_bars(n, slots)


def _cached(n: int, rows: int) -> bool:
    """Whether a table of ``rows`` type classes of ``n`` letters is kept between calls."""
    return rows * n <= CACHED_CELLS


@lru_cache(maxsize=CACHED_TABLES)
def _cached_type_counts(n: int, slots: int) -> np.ndarray:
    return _stars_and_bars(n, slots)


def _stars_and_bars(n: int, slots: int) -> np.ndarray:
    """:func:`type_counts` built afresh (a read-only array)."""
    rows = count_types(n, slots)
    bars = np.array(list(itertools.combinations(range(slots + n - 1), n - 1)),
                    dtype=np.int64).reshape(rows, n - 1)
    edges = np.hstack([np.full((rows, 1), -1), bars, np.full((rows, 1), slots + n - 1)])
    counts = np.diff(edges, axis=1) - 1
    counts.setflags(write=False)
    return counts


def log_type_probabilities(n: int, slots: int, log_p: np.ndarray) -> np.ndarray:
    """:func:`log_multinomial` of every row of ``type_counts(n, slots)`` (the multinomial
    coefficients ``log((sum c)!/prod c!)`` are kept between calls with the table)."""
    counts = type_counts(n, slots)
    if not _cached(n, counts.shape[0]):
        return log_multinomial(counts, log_p)
    return _log_coefficients(n, slots) + _log_powers(counts, log_p)


@lru_cache(maxsize=CACHED_TABLES)
def _log_coefficients(n: int, slots: int) -> np.ndarray:
    """``log((sum c)!/prod c!)`` for every row ``c`` of ``type_counts(n, slots)`` (read-only)."""
    counts = type_counts(n, slots)
    out = gammaln(counts.sum(axis=1) + 1) - gammaln(counts + 1).sum(axis=1)
    out.setflags(write=False)
    return out


def _log_powers(counts: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """``sum_x c_x log p(x)`` for each row of ``counts`` (``0 log 0 = 0``)."""
    return np.where(counts > 0, counts * log_p[None, :], 0.0).sum(axis=1)


def log_multinomial(counts: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """``log((sum c)!/prod c! prod p^c)`` for each row of ``counts`` (``0 log 0 = 0``)."""
    total = counts.sum(axis=1)
    return gammaln(total + 1) - gammaln(counts + 1).sum(axis=1) + _log_powers(counts, log_p)
