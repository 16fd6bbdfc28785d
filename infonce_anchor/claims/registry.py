"""The registry of the paper's claims and what checking each one found.

A claim is one statement of the paper (split into parts ``thm2.a``, ``thm2.b`` ...), the layer
that checks it, and either a check (a function returning an :class:`Outcome`) or the reason it is
still open.  Checks never adjust a claim to make it pass: a statement that fails is ``refuted``,
with a reproducible counterexample in ``details``.

A refuted outcome also carries a :data:`Severity` and a ``correction``: ``major`` when the
statement fails in substance (the correction then says what is true instead, where known),
``minor`` when it holds after a stated correction (a constant factor, an equality case, a typo;
the correction says what the statement becomes).  The status stays ``refuted`` either way.

This module is a leaf: the topic modules import it to register their claims (:func:`claim`,
:func:`pending`), and it imports none of them; :mod:`infonce_anchor.claims.catalogue` imports
them all and lists the claims.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["verified-symbolic", "verified-exact", "verified-sampled", "refuted", "open"]
STATUSES: tuple[str, ...] = ("verified-symbolic", "verified-exact", "verified-sampled",
                             "refuted", "open")
Layer = Literal["symbolic", "exact", "sampled", "benchmark", "external"]
Severity = Literal["major", "minor"]
SEVERITIES: tuple[str, ...] = ("major", "minor")

#: The correction of a refuted outcome whose check rated nothing (e.g. a check that only expected
#: to verify): such a refutation counts as ``major`` until a check states a correction.
UNRATED_CORRECTION = ("none stated: the check found the statement false without rating it, so "
                      "it counts as major")


@dataclass(frozen=True)
class Outcome:
    """What a check found.

    ``severity`` and ``correction`` belong to refuted outcomes only (``None`` otherwise): a
    ``minor`` refutation must state its correction; a refuted outcome with no severity is
    ``major`` with :data:`UNRATED_CORRECTION`.
    """

    status: Status
    method: str
    evidence: str
    details: dict[str, object] = field(default_factory=dict)
    severity: Severity | None = None
    correction: str | None = None

    def __post_init__(self) -> None:
        if self.status != "refuted":
            if self.severity is not None or self.correction is not None:
                raise ValueError(f"a {self.status} outcome has no severity or correction "
                                 f"(got {self.severity!r}, {self.correction!r})")
            return
        if self.severity is None:
            object.__setattr__(self, "severity", "major")
            if not self.correction:
                object.__setattr__(self, "correction", UNRATED_CORRECTION)
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity is one of {SEVERITIES}, got {self.severity!r}")
        if not self.correction:
            raise ValueError(f"a {self.severity} refutation states its correction")

    @property
    def label(self) -> str:
        """The status as reported: ``refuted (minor)``, ``refuted (major)`` or the status."""
        return f"{self.status} ({self.severity})" if self.severity else self.status


@dataclass(frozen=True)
class Claim:
    """One statement of the paper."""

    id: str
    statement: str
    source: str
    layer: Layer
    check: Callable[[], Outcome] | None = None
    open_reason: str = ""


@dataclass(frozen=True)
class ClaimResult:
    claim: Claim
    outcome: Outcome
    seconds: float
    crashed: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"id": self.claim.id, "statement": self.claim.statement,
                "source": self.claim.source, "layer": self.claim.layer,
                "status": self.outcome.status, "severity": self.outcome.severity,
                "method": self.outcome.method, "evidence": self.outcome.evidence,
                "correction": self.outcome.correction, "details": self.outcome.details,
                "seconds": round(self.seconds, 3)}


REGISTRY: dict[str, Claim] = {}

#: Claims whose checks share work run in one worker, one after another, so that what the first
#: derives (a topic module's memoised rules and Theorem-9 certificates, the torch import and
#: its first kernels) serves the rest instead of being derived again in every worker.  A group
#: is the check's topic module; every trained-critic (``sampled``) claim joins one group.
SAMPLED_GROUP = "sampled (torch)"

#: Seconds each group took run alone on the 2-core machine (``benchmarks/bench_verify.py``
#: prints them); the largest groups start first, so that both workers stay busy to the end.
GROUP_SECONDS: dict[str, float] = {
    "infonce_anchor.claims.scoring_rules": 19.3, "infonce_anchor.claims.tables": 8.8,
    SAMPLED_GROUP: 7.2, "infonce_anchor.claims.objectives": 7.8,
    "infonce_anchor.claims.bounds": 3.0, "infonce_anchor.claims.estimators": 1.7}


def _add(c: Claim) -> None:
    if c.id in REGISTRY:
        raise ValueError(f"claim {c.id!r} registered twice")
    if c.id != c.id.lower():
        raise ValueError(f"claim ids are lower-case, got {c.id!r}")
    REGISTRY[c.id] = c


def claim(id: str, statement: str, source: str, layer: Layer = "symbolic"
          ) -> Callable[[Callable[[], Outcome]], Callable[[], Outcome]]:
    """Register the decorated function as the check of claim ``id``."""
    def register(fn: Callable[[], Outcome]) -> Callable[[], Outcome]:
        _add(Claim(id, statement, source, layer, fn))
        return fn
    return register


def pending(id: str, statement: str, source: str, layer: Layer, reason: str) -> None:
    """Register a claim whose check belongs to a layer not built yet (status ``open``)."""
    _add(Claim(id, statement, source, layer, None, reason))


def run_claim(c: Claim) -> ClaimResult:
    """Run one claim's check; a crash is reported as ``open`` with the error (never hidden)."""
    start = time.perf_counter()
    if c.check is None:
        return ClaimResult(c, Outcome("open", "-", c.open_reason), 0.0)
    try:
        outcome = c.check()
    except Exception as exc:  # noqa: BLE001 - a crashing check must still be reported
        tb = traceback.format_exc(limit=3)
        return ClaimResult(c, Outcome("open", "check crashed", f"{type(exc).__name__}: {exc}",
                                      {"traceback": tb}), time.perf_counter() - start, True)
    return ClaimResult(c, outcome, time.perf_counter() - start)


#: The order of the report: the paper's order of statements (by id prefix).
PAPER_ORDER: tuple[str, ...] = (
    "table1", "prop1", "thm2", "text", "eq4", "thm3", "appendix-a", "thm7", "eq5", "sec3.3",
    "prop5", "thm6", "sec3.4", "table3", "table4", "table5", "table6", "table7", "lemma10",
    "thm9", "prop11", "prop13", "prop14", "prop15", "cor16", "remark17", "thm18", "thm19",
    "prop20", "lemma21", "sampled", "sec2.2", "fig1", "fig3", "sec4.1", "fig2", "sec4.3", "table2")


def paper_order(claim_id: str) -> tuple[int, str]:
    """Sort key: position of the id's prefix in :data:`PAPER_ORDER`, then the id."""
    for i, prefix in enumerate(PAPER_ORDER):
        if claim_id == prefix or claim_id.startswith(prefix + ".") or \
                claim_id.startswith(prefix + "-"):
            return i, claim_id
    return len(PAPER_ORDER), claim_id


def work_group(c: Claim) -> str:
    """The group of claims whose checks share work with ``c``'s (see :data:`GROUP_SECONDS`)."""
    if c.layer == "sampled":
        return SAMPLED_GROUP
    return getattr(c.check, "__module__", None) or "-"


def work_groups(claims: list[Claim]) -> list[list[Claim]]:
    """``claims`` split by :func:`work_group`, the groups expected to take longest first
    (longest-processing-time-first list scheduling); claims keep their order in a group."""
    groups: dict[str, list[Claim]] = {}
    for c in claims:
        groups.setdefault(work_group(c), []).append(c)
    order = sorted(groups, key=lambda g: -GROUP_SECONDS.get(g, 0.0))
    return [groups[g] for g in order]


def run_claims(claims: list[Claim]) -> list[ClaimResult]:
    """Run the checks one after another (in one process: they share memoised work)."""
    return [run_claim(c) for c in claims]


def run_all(claims: list[Claim], *, workers: int = 1,
            progress: Callable[[ClaimResult], None] | None = None) -> list[ClaimResult]:
    """Run the checks (in ``workers`` processes when > 1); results in the order of ``claims``."""
    results: dict[str, ClaimResult] = {}
    runnable = [c for c in claims if c.check is not None]
    for c in claims:
        if c.check is None:
            results[c.id] = run_claim(c)
    if workers > 1 and len(runnable) > 1:
        groups = work_groups(runnable)
        with ProcessPoolExecutor(max_workers=min(workers, len(groups))) as pool:
            # a claim pickles with its check (module and name): a worker that starts afresh
            # imports that module, which registers it again; no lookup in the registry
            futures = [pool.submit(run_claims, group) for group in groups]
            for fut in as_completed(futures):
                for res in fut.result():
                    results[res.claim.id] = res
                    if progress:
                        progress(res)
    else:
        for c in runnable:
            res = run_claim(c)
            results[c.id] = res
            if progress:
                progress(res)
    return [results[c.id] for c in claims]
