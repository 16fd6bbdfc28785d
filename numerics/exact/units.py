"""Units: nats inside the toolkit, bits only at the edge (printing, tables, JSON for people).

The one definition of the conversion; every layer imports it from here."""

from __future__ import annotations

import math

#: ``log 2``: one bit in nats.
LN2 = math.log(2)


def to_bits(nats: float):
    """``nats / log 2`` (works on floats and numpy arrays)."""
    return nats / LN2


def to_nats(bits: float):
    """``bits * log 2``."""
    return bits * LN2
