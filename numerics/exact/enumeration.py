"""Methods (a) and (b): every ``x_{2:K}`` over an alphabet, or every type (letter counts).

Type classes: the multiset of ``K - 1`` letters drawn i.i.d. from ``q0`` has multinomial
probability ``(K-1)!/prod_x c_x! prod_x q0(x)^{c_x}``; any permutation-invariant function of the
slots is constant on a class, so the ``n^{K-1}`` configurations collapse to
``binom(K - 2 + n, n - 1)`` classes.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy.special import gammaln

from theory.errors import InputError

#: Largest number of configurations (or type classes) either method will enumerate.
ENUMERATION_LIMIT = 2_000_000


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
    """Every count vector ``c`` in ``N^n`` with ``sum c = slots``, one per row."""
    _check(count_types(n, slots), "method='types'")
    rows = []
    for cuts in itertools.combinations(range(slots + n - 1), n - 1):
        bounds = (-1,) + cuts + (slots + n - 1,)
        rows.append([bounds[i + 1] - bounds[i] - 1 for i in range(n)])
    return np.asarray(rows, dtype=np.int64).reshape(-1, n)


def log_multinomial(counts: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """``log((sum c)!/prod c! prod p^c)`` for each row of ``counts`` (``0 log 0 = 0``)."""
    total = counts.sum(axis=1)
    terms = np.where(counts > 0, counts * log_p[None, :], 0.0)
    return gammaln(total + 1) - gammaln(counts + 1).sum(axis=1) + terms.sum(axis=1)
