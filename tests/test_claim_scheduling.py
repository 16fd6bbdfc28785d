"""How ``verify`` spreads the checks over worker processes (issue #11, item 6).

Claims that share work run in one worker (``registry.work_groups``): every claim is run exactly
once, in one group, the groups with most work start first, and a parallel run gives the same
outcome for every claim as a serial one.  The serial run is the reference: it is the plain loop
``run_claim`` over the claims, with no scheduling at all.
"""

from __future__ import annotations

import importlib

from infonce_anchor.claims.catalogue import select
from infonce_anchor.claims.registry import (
    GROUP_SECONDS,
    SAMPLED_GROUP,
    run_all,
    run_claim,
    work_group,
    work_groups,
)


def test_every_claim_is_in_exactly_one_group():
    claims = [c for c in select() if c.check is not None]
    groups = work_groups(claims)
    ids = [c.id for g in groups for c in g]
    assert sorted(ids) == sorted(c.id for c in claims)
    assert len(ids) == len(set(ids))
    for g in groups:
        assert len({work_group(c) for c in g}) == 1


def test_trained_critic_claims_share_one_group_and_groups_start_largest_first():
    claims = [c for c in select() if c.check is not None]
    groups = work_groups(claims)
    sampled = [g for g in groups if work_group(g[0]) == SAMPLED_GROUP]
    assert len(sampled) == 1
    assert {c.id for c in sampled[0]} == {c.id for c in claims if c.layer == "sampled"}
    assumed = [GROUP_SECONDS.get(work_group(g[0]), 0.0) for g in groups]
    assert assumed == sorted(assumed, reverse=True)
    assert assumed[0] > 0


def test_assumed_group_costs_name_real_groups():
    """A renamed topic module must not leave its cost behind under the old name."""
    for name in GROUP_SECONDS:
        if name != SAMPLED_GROUP:
            importlib.import_module(name)
    names = {work_group(c) for c in select() if c.check is not None}
    assert set(GROUP_SECONDS) <= names


def test_group_keeps_the_claims_order():
    claims = [c for c in select(["prop*", "thm6.*", "table1*"]) if c.check is not None]
    for g in work_groups(claims):
        positions = [claims.index(c) for c in g]
        assert positions == sorted(positions)


def test_parallel_run_equals_serial_run():
    # fast claims from four groups (symbolic, exact, benchmark), so two workers get work
    claims = select(["thm6.*", "table1", "prop1.*", "thm2.a", "thm2.b", "fig1.*", "eq4*"])
    assert len({work_group(c) for c in claims}) >= 3
    parallel = run_all(claims, workers=2)
    serial = [run_claim(c) for c in claims]
    assert [r.claim.id for r in parallel] == [c.id for c in claims]
    for p, s in zip(parallel, serial):
        assert (p.outcome.status, p.outcome.evidence, p.outcome.details) == \
            (s.outcome.status, s.outcome.evidence, s.outcome.details), p.claim.id
        assert not p.crashed
