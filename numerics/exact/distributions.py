"""Validated discrete distributions, slot counts and anchor weights (array inputs, nats)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from theory.errors import InputError

#: Largest allowed |sum - 1| of a probability vector unless ``normalize=True``.
SUM_TOLERANCE = 1e-9


def as_distribution(p: object, name: str, *, normalize: bool = False) -> np.ndarray:
    """``p`` as a float64 probability vector over an alphabet of any size.

    Errors (naming ``name``): not one-dimensional or empty, NaN or infinite entries, negative
    entries, or a sum off 1 by more than ``SUM_TOLERANCE`` (unless ``normalize``).
    """
    return as_probabilities(p, name, ndim=1, normalize=normalize)


def as_probabilities(p: object, name: str, *, ndim: int, normalize: bool = False) -> np.ndarray:
    """``p`` as a float64 probability array with ``ndim`` dimensions (1: a law over an alphabet,
    2: a joint table ``p(x, y)``), validated as in :func:`as_distribution`."""
    what = "array of probabilities" if ndim == 1 else f"{ndim}-D table of probabilities"
    try:
        arr = np.asarray(p, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(name, f"must be an {what}, got {p!r}") from None
    if arr.ndim != ndim or arr.size == 0:
        raise InputError(name, f"must be a non-empty {ndim}-D array, got shape {arr.shape}")
    if not arr.min() >= 0:  # NaN, -inf or a negative entry
        _check_entries(arr, name)
    total = float(arr.sum())
    if not math.isfinite(total):  # +inf (or a sum that overflows)
        _check_entries(arr, name)
    if normalize:
        if total <= 0:
            raise InputError(name, "cannot normalise: the entries sum to 0")
        return arr / total
    if abs(total - 1.0) > SUM_TOLERANCE:
        raise InputError(name, f"probabilities must sum to 1 (off by {total - 1.0:.3g}; "
                         "pass normalize=True to rescale)")
    return arr


def _check_entries(arr: np.ndarray, name: str) -> None:
    """Raise on NaN or infinite entries, then on negative ones (the checks of
    :func:`as_probabilities`, run in full only where its quick tests failed)."""
    if not np.all(np.isfinite(arr)):
        raise InputError(name, "entries must be finite numbers (found NaN or inf)")
    if np.any(arr < 0):
        raise InputError(name, f"probabilities must be >= 0 (found {float(arr[arr < 0][0])!r})")


def as_pair(q1: object, q0: object, *, normalize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``q1`` and ``q0`` over the same alphabet."""
    a = as_distribution(q1, "q1", normalize=normalize)
    b = as_distribution(q0, "q0", normalize=normalize)
    if a.shape != b.shape:
        raise InputError("q0", f"must have the same shape as q1: {b.shape} vs {a.shape}")
    return a, b


def as_slots(K: object) -> int:
    """``K``: an integer >= 1."""
    if isinstance(K, bool) or not isinstance(K, numbers.Integral) or int(K) < 1:
        raise InputError("K", f"the number of slots must be an integer >= 1, got {K!r}")
    return int(K)


def as_anchor(nu: object, K: int | None = None) -> float:
    """``nu``: a finite number >= 0; with ``K = 1`` it must be > 0 (one class otherwise)."""
    if isinstance(nu, bool) or not isinstance(nu, numbers.Real):
        raise InputError("nu", f"the anchor weight must be a number >= 0, got {nu!r}")
    value = float(nu)
    if not math.isfinite(value) or value < 0:
        raise InputError("nu", f"the anchor weight must be a finite number >= 0, got {nu!r}")
    if K is not None and int(K) == 1 and value == 0:
        raise InputError("nu", "K = 1 with nu = 0 is degenerate (one class): use nu > 0")
    return value


def as_critic(critic: object, shape: tuple[int, ...], *, allow_infinite: bool = False,
              name: str = "critic") -> np.ndarray:
    """A critic ``r`` given as ratios ``r(x) > 0`` over the alphabet (``shape`` of ``q1``)."""
    try:
        r = np.asarray(critic, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(name, f"must be an array of ratios r(x) > 0, got {critic!r}") from None
    if r.shape != shape:
        raise InputError(name, f"must have the alphabet's shape {shape}, got {r.shape}")
    if np.any(np.isnan(r)):
        raise InputError(name, "ratios r(x) must not be NaN")
    if not allow_infinite and not np.all(np.isfinite(r)):
        raise InputError(name, "ratios r(x) must be finite")
    if np.any(r <= 0):
        raise InputError(name, f"ratios r(x) must be > 0 (found {float(r[r <= 0][0])!r}); a critic "
                         "given as scores c = log r is converted with r = exp(c)")
    return r


def as_dps(dps: object) -> int | None:
    """``dps``: ``None`` (float64) or an integer number of digits >= 15."""
    if dps is None:
        return None
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral) or int(dps) < 15:
        raise InputError("dps", f"digits of precision must be an integer >= 15, got {dps!r}")
    return int(dps)
