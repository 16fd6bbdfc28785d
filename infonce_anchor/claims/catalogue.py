"""Every claim of the report: this module imports each topic module (importing one registers
its claims with :mod:`~infonce_anchor.claims.registry`) and lists the claims in the paper's order.

It is the only place that loads the topic modules; none of them imports it, and the registry
imports none of them.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from infonce_anchor.claims import (
    benchmark,
    bounds,
    estimators,
    objectives,
    pending,
    scoring_rules,
    ssl,
    tables,
)
from infonce_anchor.claims.registry import REGISTRY, Claim, paper_order

#: The modules that register claims, one a topic of the paper.
TOPICS = (scoring_rules, objectives, bounds, estimators, tables, benchmark, ssl, pending)


def load() -> dict[str, Claim]:
    """Every claim, in paper order (:func:`~infonce_anchor.claims.registry.paper_order`)."""
    ordered = sorted(REGISTRY.values(), key=lambda c: paper_order(c.id))
    return {c.id: c for c in ordered}


def select(patterns: Iterable[str] | None = None, layers: Iterable[str] | None = None
           ) -> list[Claim]:
    """Claims whose id matches any glob in ``patterns`` and whose layer is in ``layers``."""
    claims = list(load().values())
    if patterns:
        pats = list(patterns)
        claims = [c for c in claims if any(fnmatch.fnmatch(c.id, p) for p in pats)]
    if layers:
        wanted = set(layers)
        claims = [c for c in claims if c.layer in wanted]
    return claims
