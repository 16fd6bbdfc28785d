"""What the sweep commands (``bench``, ``ssl``) share when they write results: strict JSON
values and the optional plotting dependency."""

from __future__ import annotations

import math
import sys
from typing import Any

import numpy as np


def strict_json(obj: Any) -> Any:
    """``obj`` as strict JSON values: NaN / inf (e.g. the sd of one run) as None, tuples as
    lists, numpy scalars as Python numbers, so that any JSON parser reads the file."""
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k if isinstance(k, str) else str(k): strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict_json(v) for v in obj]
    return obj


def have_matplotlib(skipped: str = "plots") -> bool:
    """Whether matplotlib imports; else a note on stderr saying what is ``skipped``."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print(f"note: no {skipped} (matplotlib is not installed)", file=sys.stderr)
        return False
    return True
