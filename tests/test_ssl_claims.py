"""The SSL claims (issue #14): ``sec4.3.small.anchor`` and ``sec4.3.small.ordering`` decide by
the criteria stated in :mod:`infonce_anchor.claims.ssl` (verified when they hold; ``open``, not
refuted, when they fail on this stand-in for the paper's CIFAR-100 setting), on made-up results
written to a folder that ``$INFONCE_ANCHOR_BENCH_RESULTS`` points at.

The made-up records are chosen so that the expected verdict follows from the criteria by hand:
the paired differences are constant across seeds where the interval must exclude 0 (sd 0, so
the interval is the point), or alternate in sign with mean 0 where it must contain 0.
"""

from __future__ import annotations

import json

import pytest

from infonce_anchor.claims import benchmark as benchmark_claims
from infonce_anchor.claims import ssl as ssl_claims
from infonce_anchor.claims.benchmark import ENV

SEEDS = range(5)


def _records(top1: dict[str, list[float]]) -> list[dict]:
    return [{"method": m, "seed": s, "top1": v / 100, "top5": 1.0, "diverged_at": None}
            for m, values in top1.items() for s, v in zip(SEEDS, values)]


def _write(tmp_path, monkeypatch, top1: dict[str, list[float]]) -> None:
    folder = tmp_path / ssl_claims.RUN
    folder.mkdir()
    (folder / "summary.json").write_text(json.dumps({"records": _records(top1)}))
    monkeypatch.setenv(ENV, str(tmp_path))


#: Table 2's pattern: anchor = InfoNCE +- noise, chi^2 below, JS well below, Spherical collapsed
PAPER_LIKE = {
    "infonce": [96.0, 96.5, 95.5, 96.2, 95.8],
    "infonce_anchor": [96.2, 96.3, 95.7, 96.0, 95.8],   # differences +.2 -.2 +.2 -.2 0: mean 0
    "chi2": [95.0, 95.5, 94.5, 95.2, 94.8],
    "js": [93.0, 93.5, 92.5, 93.2, 92.8],               # InfoNCE - JS = 3 for every seed
    "spherical": [10.0, 11.0, 9.0, 10.0, 10.0],
    "random": [90.0, 90.0, 90.0, 90.0, 90.0],
}


def test_paper_like_results_verify_both(tmp_path, monkeypatch):
    _write(tmp_path, monkeypatch, PAPER_LIKE)
    anchor, ordering = ssl_claims.check_anchor(), ssl_claims.check_ordering()
    assert anchor.status == "verified-sampled", anchor.evidence
    assert ordering.status == "verified-sampled", ordering.evidence
    assert ordering.details["parts"] == {"order": True, "js_below_infonce": True,
                                         "spherical_collapses": True}
    assert "+0.00 points" in anchor.evidence


def test_anchor_better_for_every_seed_fails_and_stays_open(tmp_path, monkeypatch):
    top1 = dict(PAPER_LIKE, infonce_anchor=[v + 1.0 for v in PAPER_LIKE["infonce"]])
    _write(tmp_path, monkeypatch, top1)
    out = ssl_claims.check_anchor()
    # a failure on the stand-in is never a refutation of the paper (CIFAR-100 / ResNet-18)
    assert out.status == "open" and out.severity is None
    assert "raises top-1 by 1.00 points" in out.evidence and "Not a refutation" in out.evidence
    assert out.details["difference"]["ci95"] == pytest.approx([1.0, 1.0])


def test_each_ordering_part_can_fail_alone(tmp_path, monkeypatch):
    # chi^2 above InfoNCE: (a) fails, (b) and (c) hold
    _write(tmp_path, monkeypatch, dict(PAPER_LIKE, chi2=[v + 1 for v in PAPER_LIKE["infonce"]]))
    out = ssl_claims.check_ordering()
    assert out.status == "open" and out.severity is None
    assert out.details["parts"] == {"order": False, "js_below_infonce": True,
                                    "spherical_collapses": True}
    assert "not in Table 2's order" in out.evidence


def test_spherical_above_random_does_not_collapse(tmp_path, monkeypatch):
    _write(tmp_path, monkeypatch, dict(PAPER_LIKE, spherical=[91.0] * 5))
    out = ssl_claims.check_ordering()
    assert out.details["parts"]["spherical_collapses"] is False
    assert out.status == "open"
    assert "does not collapse" in out.evidence


def test_js_within_noise_of_infonce_fails_part_b(tmp_path, monkeypatch):
    # InfoNCE - JS = +1, -1, +1, -1, +0.5 points: mean 0.1, the interval contains 0; chi^2 =
    # JS + 0.05 keeps the order of the means (96.0 > 95.95 > 95.9), so only (b) fails
    js = [v - d for v, d in zip(PAPER_LIKE["infonce"], [1, -1, 1, -1, 0.5])]
    _write(tmp_path, monkeypatch, dict(PAPER_LIKE, js=js, chi2=[v + 0.05 for v in js]))
    out = ssl_claims.check_ordering()
    assert out.details["parts"] == {"order": True, "js_below_infonce": False,
                                    "spherical_collapses": True}
    assert out.status == "open" and "not below InfoNCE beyond seed noise" in out.evidence


def test_too_few_seeds_or_no_results_stay_open(tmp_path, monkeypatch):
    few = {m: v[:3] for m, v in PAPER_LIKE.items()}
    _write(tmp_path, monkeypatch, few)
    assert ssl_claims.check_anchor().status == "open"
    assert "fewer than the 5 required" in ssl_claims.check_ordering().evidence


def test_no_results_anywhere_is_open(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, str(tmp_path))
    monkeypatch.setattr(benchmark_claims, "SHIPPED", tmp_path / "none")
    out = ssl_claims.check_anchor()
    assert out.status == "open" and "no SSL results found" in out.evidence
