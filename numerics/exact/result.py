"""The value of an exact computation: nats, the method used and an error estimate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath

from numerics.exact.units import to_bits

#: ``method`` names shared by every exact computation.
METHODS = ("auto", "enumerate", "types", "laplace")


@dataclass(frozen=True)
class Result:
    """``value`` in nats (a float, or an mpmath number when ``dps`` was asked for), the method
    that produced it and an estimate of its absolute error (nats)."""

    value: Any
    method: str
    error_estimate: float
    dps: int | None = None

    def __float__(self) -> float:
        return float(self.value)

    def as_dict(self) -> dict[str, object]:
        value = float(self.value)
        out: dict[str, object] = {
            "value_nats": value, "value_bits": to_bits(value), "method": self.method,
            "error_estimate_nats": self.error_estimate}
        if self.dps is not None:
            out["dps"] = self.dps
            out["value_nats_digits"] = mpmath.nstr(self.value, self.dps)
        return out


def round_to_dps(value, dps: int):
    """An mpmath number carried with guard digits, returned at ``dps`` digits."""
    with mpmath.workdps(dps):
        return +value
