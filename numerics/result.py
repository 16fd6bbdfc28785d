"""The value of an exact computation: nats, the method used and an error estimate."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

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
            "value_nats": value, "value_bits": value / math.log(2), "method": self.method,
            "error_estimate_nats": self.error_estimate}
        if self.dps is not None:
            out["dps"] = self.dps
            import mpmath
            out["value_nats_digits"] = mpmath.nstr(self.value, self.dps)
        return out
