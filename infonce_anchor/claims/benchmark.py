"""Claims of Sec. 4.1, Figures 1 / 3 and App. G checked on benchmark sweep results (issues #5, #12),
and Sec. 2.2's central statement on them (issue #13: ``sec2.2.infonce-on-benchmark``, InfoNCE's
held-out estimate against its limit ``D_KJS(K)``, stored per level in ``levels.json["targets"]``).

The checks read the ``levels.json`` a sweep writes (``infonce-anchor bench CONFIG``): per run and
MI level, the held-out estimate of every estimator.  Where to look, first hit wins:

1. ``$INFONCE_ANCHOR_BENCH_RESULTS/<name>/levels.json`` (``verify --bench-results DIR`` sets it;
   e.g. the ``bench-results`` directory of a GPU run of the full configs);
2. ``infonce_anchor/shipped_results/<name>/levels.json``, shipped with the package (package data,
   so a wheel install reads the same results).

For each claim the paper-settings sweep (``fig1-gaussian``, ``fig3-cubic``, ``digits``) is
preferred to its reduced CPU counterpart (``*-cpu``).  The criteria are fixed in advance, follow
the paper's words, and are stated in the evidence (numbers in bits).  A claim that holds is
``verified-sampled``; one that fails at the paper's settings (2 x 512 critics, 20 seeds, 4000
steps a level, lr 1e-4) is ``refuted``; one that fails only at reduced settings, or only on the
digits stand-in for MNIST, stays ``open`` with the numbers, since the reduction (or the stand-in)
may be the cause.  A sweep may leave out (critic, batch size) pairs by design
(``train["exclude"]``): those are not required, and the evidence says so.

The seed-to-seed spread is used two ways: ``SPREAD`` standard errors (of a level-averaged MSE) to
decide whether two estimators' errors are distinguishable, and ``SPREAD`` pooled seed standard
deviations (the width of a figure's band, which does not shrink with more seeds) to decide
whether two curves perform comparably.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from infonce_anchor.claims.registry import Outcome, claim
from numerics.exact.units import LN2

ENV = "INFONCE_ANCHOR_BENCH_RESULTS"
SHIPPED = Path(__file__).resolve().parents[1] / "shipped_results"   # package data
#: Multiplier of the seed-to-seed spread (standard errors or pooled sd, see the module doc).
SPREAD = 2.0
#: InfoNCE "saturates": its mean may exceed log2 K by this much (bits) at levels above log2 K.
CEILING_SLACK = 0.05
#: Fig. 3 "tracks": level-averaged |bias| at most half the 2-bit spacing of the staircase (bits).
TRACK_BITS = 1.0
#: The estimators the paper calls existing (Fig. 1's columns less its own two, the anchor and
#: its Spherical variant).
EXISTING = ("nwj", "js", "nwj_plugin", "js_plugin", "drf", "infonce")


def find_results(names: tuple[str, ...], filename: str = "levels.json"
                 ) -> tuple[dict | None, str]:
    """The first ``<name>/<filename>`` among ``names`` (paper settings first), under
    ``$INFONCE_ANCHOR_BENCH_RESULTS`` and then the shipped results, and its path."""
    roots = ([Path(os.environ[ENV])] if os.environ.get(ENV) else []) + [SHIPPED]
    for name in names:
        for root in roots:
            path = root / name / filename
            if path.exists():
                shown = path.relative_to(SHIPPED.parents[1]) if root == SHIPPED else path
                return json.loads(path.read_text()), str(shown)
    return None, ""


def paper_settings(results: dict) -> bool:
    """App. G's settings: 2 x 512 critics of both kinds, >= 20 seeds, the 2-10 bit staircase
    of 4000 steps a level in d = 10, Adam lr 1e-4 (``incomplete`` checks what finished).  Pairs
    (critic, batch size) cut by design (``train["exclude"]``) and the precision (fp32, tf32 or
    the validated bf16) do not change this."""
    tr, task = results["train"], results["task"]
    return (tr["hidden"] == 512 and tr["layers"] == 2 and tr["seeds"] >= 20
            and task["steps_per_level"] >= 4000 and float(tr["lr"]) == 1e-4
            and [float(b) for b in task["levels_bits"]] == [2.0, 4.0, 6.0, 8.0, 10.0]
            and task.get("dim", 10) == 10
            and {"joint", "separable"} <= set(tr["critics"]))


def excluded(results: dict) -> set[tuple[str, int]]:
    """The (critic, batch size) pairs the sweep's config leaves out by design."""
    return {(str(c), int(B)) for c, B in results["train"].get("exclude", [])}


def _cut_text(results: dict) -> str:
    cut = sorted(excluded(results))
    return f"; not run by design: {', '.join(f'{c}/B{B}' for c, B in cut)}" if cut else ""


def incomplete(results: dict, path: str, estimators: tuple[str, ...],
               batch_sizes: tuple[int, ...] | None = None) -> Outcome | None:
    """``open`` when the sweep has unfinished units or lacks an estimator / batch size the
    claim compares (a verdict on part of a sweep could be wrong either way); else None.  Pairs
    excluded by design are not required."""
    tab = Table(results)
    missing = results.get("missing_units", 0)
    wanted_B = batch_sizes or tuple(tab.batch_sizes[:1])
    critics = sorted(set(results["train"].get("critics", [])) | set(tab.critics)) or ["?"]
    cut = excluded(results)
    absent = [f"{e}/{c}/B{B}" for c in critics for B in wanted_B if (c, B) not in cut
              for e in estimators if not tab.has(e, c, B)]
    if not missing and not absent and tab.critics:
        return None
    why = []
    if missing:
        why.append(f"{missing} unit(s) unfinished")
    if absent:
        why.append(f"no results for {', '.join(absent[:6])}{' ...' if len(absent) > 6 else ''}")
    return Outcome("open", settings_text(results, path), "the sweep is incomplete ("
                   + "; ".join(why) + "); finish it with infonce-anchor bench (it resumes)")


def settings_text(results: dict, path: str) -> str:
    tr, task = results["train"], results["task"]
    names = [n for n in results.get("device_names", []) if n and n != "?"]
    devices = ", ".join(results["devices"]) + (f" ({', '.join(names)})" if names else "")
    precision = f", precision {tr['precision']}" if tr.get("precision") else ""
    return (f"sweep {results['name']} ({path}; devices {devices}): "
            f"{task['kind']} staircase {task['levels_bits']} bits x {task['steps_per_level']} "
            f"steps, critics {tr['critics']} 2 x {tr['hidden']} MLP, lr {tr['lr']}{precision}, "
            f"{tr['seeds']} seeds, held-out estimates ({tr['eval_batches']} batches a level)"
            + _cut_text(results))


class Table:
    """Per (estimator, critic, batch size): held-out estimates in bits, ``(levels, runs)``."""

    def __init__(self, results: dict) -> None:
        self.entries = {(e["estimator"], e["critic"], e["batch_size"]): e
                        for e in results["entries"]}
        self.critics = sorted({k[1] for k in self.entries})
        self.batch_sizes = sorted({k[2] for k in self.entries})

    def has(self, est: str, critic: str, B: int) -> bool:
        return (est, critic, B) in self.entries

    def values_bits(self, est: str, critic: str, B: int) -> tuple[np.ndarray, np.ndarray]:
        e = self.entries[(est, critic, B)]
        values = np.array([[np.nan if v is None else v for v in row]
                           for row in e["heldout_nats"]], float) / LN2
        return values, np.array(e["true_nats"]) / LN2

    def bias(self, est: str, critic: str, B: int) -> np.ndarray:
        """Per level: mean over finite runs minus the truth (bits)."""
        v, t = self.values_bits(est, critic, B)
        return np.array([np.nanmean(row) for row in v]) - t

    def seed_sd(self, est: str, critic: str, B: int) -> np.ndarray:
        """Per level: the sample sd (ddof 1) over finite runs (bits); 0 with under 2 runs."""
        v, _ = self.values_bits(est, critic, B)
        return np.array([np.std(r[np.isfinite(r)], ddof=1) if np.isfinite(r).sum() > 1 else 0.0
                         for r in v])

    def run_errors(self, est: str, critic: str, B: int) -> np.ndarray:
        """Per run: squared error (bits^2) averaged over the levels; inf if the run diverged."""
        v, t = self.values_bits(est, critic, B)
        return np.where(np.isfinite(v), (v - t[:, None]) ** 2, np.inf).mean(axis=0)

    def mean_mse(self, est: str, critic: str, B: int) -> float:
        """MSE (bits^2) per level over runs, averaged over the levels; a diverged run counts
        as infinite error."""
        return float(self.run_errors(est, critic, B).mean())

    def mse_se(self, est: str, critic: str, B: int) -> float:
        """Standard error over seeds of :meth:`mean_mse` (0 with under 2 runs; inf if a run
        diverged)."""
        e = self.run_errors(est, critic, B)
        if not np.isfinite(e).all():
            return math.inf
        return float(np.std(e, ddof=1) / math.sqrt(len(e))) if len(e) > 1 else 0.0

    def mean_abs_bias(self, est: str, critic: str, B: int) -> float:
        return float(np.mean(np.abs(self.bias(est, critic, B))))


#: The correction of a benchmark claim refuted at the paper's settings.
PAPER_SETTINGS_CORRECTION = ("does not reproduce at the paper's settings; what holds instead is "
                             "what the evidence measures (numbers in bits), no corrected wording "
                             "is known")


def _verdict(ok: bool, results: dict, method: str, evidence: str, details: dict) -> Outcome:
    if ok:
        return Outcome("verified-sampled", method, evidence, details)
    if paper_settings(results):
        # Severity: major.  An empirical statement that fails at the paper's own settings fails
        # in substance; no correction of the wording is known, the measured numbers stand.
        return Outcome("refuted", method, evidence, details, severity="major",
                       correction=PAPER_SETTINGS_CORRECTION)
    return Outcome("open", method, "not reproduced at reduced settings (the reduction may be "
                   "the cause; run the paper-settings config on a GPU): " + evidence, details)


def _missing(names: tuple[str, ...]) -> Outcome:
    return Outcome("open", "-", f"no benchmark results found ({' or '.join(names)}); run "
                   f"infonce-anchor bench benchmarks/configs/{names[-1].replace('-', '_')}.toml "
                   f"and verify --bench-results bench-results")


# --- the criteria, shared by the claims --------------------------------------------------------


def near_lowest(tab: Table, critic: str, B: int) -> tuple[bool, str, dict]:
    """'low-bias, low-variance performance compared to the existing estimators' (Fig. 1
    caption) / 'tracks ground truth MI most closely' (Sec. 4.1): the anchor's level-averaged
    MSE (bias^2 + seed variance) is the lowest among the existing estimators present, or above
    the lowest by at most SPREAD standard errors of the difference."""
    others = {e: tab.mean_mse(e, critic, B) for e in EXISTING if tab.has(e, critic, B)}
    best = min(others, key=others.get)
    a, se_a = tab.mean_mse("infonce_anchor", critic, B), tab.mse_se("infonce_anchor", critic, B)
    margin = SPREAD * math.hypot(se_a, tab.mse_se(best, critic, B))
    ok = bool(a <= others[best] or (math.isfinite(a) and a - others[best] <= margin))
    text = (f"MSE anchor {a:.3f} +/- {se_a:.3f} (SE) vs lowest existing {best} "
            f"{others[best]:.3f} bits^2 (allowed gap {margin:.3f})")
    return ok, text, {"anchor_mse_bits2": round(a, 4), "anchor_mse_se_bits2": round(se_a, 4),
                      "existing_mse_bits2": {e: round(m, 4) for e, m in others.items()},
                      "lowest_existing": best, "allowed_gap_bits2": round(margin, 4)}


def excess_over_anchor(tab: Table, critic: str, B: int, est: str = "js_plugin"
                       ) -> tuple[float, float]:
    """How much farther from the truth ``est`` is than the anchor, |bias| averaged over the
    levels (bits; negative: closer), and the comparability tolerance SPREAD x the pooled seed sd
    averaged over the levels.  SPREAD x pooled sd >= sd_anchor + sd_est, so every gap at which
    the two curves' +/-1 sd bands overlap is within the tolerance."""
    excess = np.abs(tab.bias(est, critic, B)) - np.abs(tab.bias("infonce_anchor", critic, B))
    pooled = np.sqrt((tab.seed_sd(est, critic, B) ** 2
                      + tab.seed_sd("infonce_anchor", critic, B) ** 2) / 2)
    return float(np.mean(excess)), float(SPREAD * np.mean(pooled))


def saturates(tab: Table, critic: str, B: int) -> tuple[bool, float]:
    """InfoNCE's mean stays <= log2 K + CEILING_SLACK at the levels above log2 K (K = B - 1)."""
    v, t = tab.values_bits("infonce", critic, B)
    logk = math.log2(B - 1)
    above = t > logk
    means = np.nanmean(v[above], axis=1) if above.any() else np.zeros(0)
    return bool(np.all(means <= logk + CEILING_SLACK)), logk


GAUSSIAN_CRITERIA = (
    "criteria (fixed in advance), for every critic: (i) low bias and low variance compared to "
    "the existing estimators (NWJ, JS, NWJ-plugin, JS-plugin, DRF, InfoNCE): the anchor's MSE "
    "over seeds averaged over the levels (bias^2 + seed variance) is the lowest, or above the "
    f"lowest by at most {SPREAD:g} standard errors of the difference (each the SE over seeds of "
    "a run's level-averaged squared error; combined in quadrature); (ii) InfoNCE saturates near "
    f"log2 K: its mean is <= log2 K + {CEILING_SLACK} bits at every level above log2 K "
    "(K = B - 1); (iii) JS-plugin 'performs comparably': its |bias| exceeds the anchor's, "
    f"averaged over the levels, by at most {SPREAD:g} x the pooled seed sd averaged over the "
    f"levels ({SPREAD:g} pooled sd >= sd_anchor + sd_JS-plugin, so any gap at which the two "
    "+/-1 sd bands overlap passes; one verdict for the panel, as 'on Gaussians' is; a "
    "JS-plugin closer to the truth than the anchor counts as comparable)")


def gaussian_panel(tab: Table, B: int) -> tuple[bool, str, dict]:
    """Criteria (i)-(iii) of the Gaussian panel at batch size ``B`` (see GAUSSIAN_CRITERIA)."""
    ok, parts, details = True, [], {}
    for critic in tab.critics:
        low, low_text, low_details = near_lowest(tab, critic, B)
        sat, logk = saturates(tab, critic, B)
        excess, tol = excess_over_anchor(tab, critic, B)
        ok &= low and sat and excess <= tol
        details[critic] = {**low_details, "near_lowest": low, "infonce_saturates": sat,
                           "js_plugin_excess_abs_bias_bits": round(excess, 3),
                           "comparable_tolerance_bits": round(tol, 3),
                           "js_plugin_comparable": excess <= tol,
                           "anchor_bias_bits": np.round(tab.bias("infonce_anchor", critic, B),
                                                        3).tolist(),
                           "js_plugin_bias_bits": np.round(tab.bias("js_plugin", critic, B),
                                                           3).tolist(),
                           "infonce_bias_bits": np.round(tab.bias("infonce", critic, B),
                                                         3).tolist()}
        parts.append(f"{critic} B={B}: (i) {low_text}: {low}; (ii) InfoNCE <= log2 K + "
                     f"{CEILING_SLACK} = {logk + CEILING_SLACK:.2f} bits above log2 K: {sat}; "
                     f"(iii) JS-plugin |bias| minus the anchor's {excess:+.3f} bits vs "
                     f"tolerance {tol:.3f}: {excess <= tol}")
    return ok, "; ".join(parts), details


# --- Figure 1, Gaussian panel ------------------------------------------------------------------

FIG1 = ("fig1-gaussian", "fig1-gaussian-cpu")
FIG1_B16 = ("fig1-gaussian-b16",)
FIG1_ESTIMATORS = ("nwj", "js", "nwj_plugin", "js_plugin", "drf", "infonce", "spherical",
                   "infonce_anchor")


def _gaussian(names: tuple[str, ...], B: int) -> tuple[dict | None, str, Outcome | None]:
    """A Gaussian-panel sweep at batch size ``B``: (results, path, an ``open`` outcome if it
    is missing or incomplete)."""
    results, path = find_results(names)
    if results is None:
        return None, "", _missing(names)
    return results, path, incomplete(results, path, FIG1_ESTIMATORS, (B,))


def _b16_rescue(criterion: Callable[[Table, int], bool]) -> str:
    """Text when a complete paper-settings B = 16 Gaussian sweep satisfies ``criterion``: App. G
    gives 16 as the Gaussian batch size, so a failure at the caption's 64 alone is not a
    refutation; else ''."""
    results, path, partial = _gaussian(FIG1_B16, 16)
    if results is None or partial is not None or not paper_settings(results):
        return ""
    if not criterion(Table(results), 16):
        return ""
    return (f"it fails at the caption's B = 64 but holds at B = 16 ({path}), the Gaussian batch "
            "size App. G gives; the text disagrees on which the panel used (claim "
            "fig1.batch-size), so no refutation: ")


@claim("fig1", "Fig. 1, Gaussian panel (B = 64): InfoNCE-anchor shows low-bias, low-variance "
       "performance compared to the existing estimators; InfoNCE saturates near log2 K; "
       "JS-plugin performs comparably on Gaussians.",
       "Fig. 1 caption, Sec. 4.1", "benchmark")
def check_fig1() -> Outcome:
    """'Across all the cases, the proposed InfoNCE-anchor estimator consistently demonstrates
    low-bias, low-variance performance compared to the existing estimators' (Fig. 1 caption);
    'JS-plugin ... performs comparably on Gaussians' (Sec. 4.1): the Gaussian panel only."""
    results, path, partial = _gaussian(FIG1, 64)
    if partial is not None:
        return partial
    ok, text, details = gaussian_panel(Table(results), 64)
    method = settings_text(results, path)
    evidence = text + ". " + GAUSSIAN_CRITERIA
    rescue = "" if ok or not paper_settings(results) else \
        _b16_rescue(lambda tab, B: gaussian_panel(tab, B)[0])
    details = {"settings": method, **details}
    if rescue:
        return Outcome("open", method, rescue + evidence, details)
    minor = _only_js_plugin_ahead(Table(results), details) if paper_settings(results) else None
    if not ok and minor:
        # Severity: minor.  Only criterion (i) fails, and only because JS-plugin's MSE is lower
        # than the anchor's; every other existing estimator is worse, and the paper itself says
        # "JS-plugin ... performs comparably on Gaussians" (Sec. 4.1).
        return Outcome("refuted", method, evidence, details, severity="minor", correction=minor)
    return _verdict(ok, results, method, evidence, details)


def _only_js_plugin_ahead(tab: Table, details: dict) -> str | None:
    """The correction when fig1 fails only by criterion (i), with JS-plugin the one existing
    estimator whose MSE is below the anchor's by more than the allowed gap, on some critic; else
    None."""
    ahead = []
    for critic in tab.critics:
        d = details[critic]
        if not (d["infonce_saturates"] and d["js_plugin_comparable"]):
            return None
        if d["near_lowest"]:
            continue
        margin = d["anchor_mse_bits2"] - d["allowed_gap_bits2"]
        better = [e for e, m in d["existing_mse_bits2"].items() if m < margin]
        if better != ["js_plugin"]:
            return None
        ahead.append(f"{critic} critic: JS-plugin {d['existing_mse_bits2']['js_plugin']:.3f} vs "
                     f"anchor {d['anchor_mse_bits2']:.3f} bits^2")
    return ("the anchor is low-bias and low-variance compared to NWJ, JS, NWJ-plugin, DRF and "
            "InfoNCE, and JS-plugin has the lower MSE (" + "; ".join(ahead) + "), as Sec. "
            "4.1's 'JS-plugin performs comparably on Gaussians' allows") if ahead else None


@claim("sec4.1.spherical", "The spherical-score variant estimates MI worse than the log score.",
       "Sec. 4.1", "benchmark")
def check_spherical() -> Outcome:
    results, path = find_results(FIG1)
    if results is None:
        return _missing(FIG1)
    partial = incomplete(results, path, ("spherical", "infonce_anchor"))
    if partial is not None:
        return partial
    tab = Table(results)
    B = tab.batch_sizes[0]
    parts, ok, details = [], True, {"settings": settings_text(results, path)}
    for critic in tab.critics:
        s = tab.mean_mse("spherical", critic, B)
        a = tab.mean_mse("infonce_anchor", critic, B)
        ok &= s > a
        details[critic] = {"spherical_mse_bits2": round(s, 4), "anchor_mse_bits2": round(a, 4),
                           "spherical_bias_bits": np.round(tab.bias("spherical", critic, B),
                                                           3).tolist()}
        parts.append(f"{critic}: level-averaged MSE spherical {s:.3f} vs log score "
                     f"(InfoNCE-anchor) {a:.3f} bits^2")
    return _verdict(ok, results, settings_text(results, path), "; ".join(parts) +
                    ". Criterion: Spherical's MSE above the anchor's for every critic.", details)


# --- Sec. 4.1 across domains -------------------------------------------------------------------

DIGITS = ("digits", "digits-cpu")
STAND_IN = ("the image domain is scikit-learn's 8x8 digits (0 vs 1; y is 10 images, 640 pixels), "
            "a stand-in for MNIST (28x28); the IMDB/BERT text domain is not available offline "
            "and was not run")
DOMAIN_CRITERIA = (
    "criteria (fixed in advance), for every critic in both sweeps, Gaussian at B = 64 and "
    f"digits: (a) 'tracks ground truth MI most closely across domains': criterion (i) of fig1 "
    f"on each domain (the anchor's level-averaged MSE lowest among the existing estimators in "
    f"the sweep, or within {SPREAD:g} SE of the difference of the lowest); (b) JS-plugin "
    "'deteriorates on higher-dimensional tasks': on digits its level-averaged |bias| exceeds "
    f"the anchor's by more than {SPREAD:g} x the pooled seed sd (fig1's comparability "
    "tolerance), and by more than it does on the Gaussian")


def _domain_needs(results: dict) -> tuple[str, ...]:
    """The Fig. 1 estimators the sweep's config lists (the anchor and JS-plugin always)."""
    listed = results["train"].get("estimators", FIG1_ESTIMATORS)
    return tuple(e for e in FIG1_ESTIMATORS
                 if e in listed or e in ("infonce_anchor", "js_plugin"))


def _domains() -> tuple[dict, Outcome | None]:
    """The Gaussian (B = 64) and digits sweeps, or an ``open`` outcome if one is missing or
    incomplete."""
    found = {"gaussian": find_results(FIG1), "digits": find_results(DIGITS)}
    absent = [n for n, (r, _) in found.items() if r is None]
    if absent:
        return found, Outcome("open", "-", "needs both the Gaussian and the digits sweep; "
                              + "; ".join(_missing(FIG1 if n == "gaussian" else DIGITS).evidence
                                          for n in absent))
    for name, (r, path) in found.items():
        partial = incomplete(r, path, _domain_needs(r), (64,))
        if partial is not None:
            return found, Outcome("open", partial.method, f"{name} sweep: " + partial.evidence)
    return found, None


def _domain_parts(g: Table, d: Table) -> tuple[bool, bool, str, dict]:
    """(Gaussian part of (a) ok, everything else ok, the text, details) per common critic."""
    g_ok, rest_ok, parts, details = True, True, [], {}
    for critic in sorted(set(g.critics) & set(d.critics)):
        lows = {n: near_lowest(t, critic, 64) for n, t in (("gaussian", g), ("digits", d))}
        (g_ex, g_tol), (d_ex, d_tol) = (excess_over_anchor(t, critic, 64) for t in (g, d))
        worse = d_ex > d_tol and d_ex > g_ex
        g_ok &= lows["gaussian"][0]
        rest_ok &= lows["digits"][0] and worse
        details[critic] = {**{f"{n}_near_lowest": lw[2] | {"ok": lw[0]}
                              for n, lw in lows.items()},
                           "js_plugin_excess_bits": {"gaussian": round(g_ex, 3),
                                                     "digits": round(d_ex, 3)},
                           "digits_tolerance_bits": round(d_tol, 3), "deteriorates": worse}
        parts.append(f"{critic}: (a) Gaussian {lows['gaussian'][1]}: {lows['gaussian'][0]}; "
                     f"digits {lows['digits'][1]}: {lows['digits'][0]}; (b) JS-plugin |bias| "
                     f"minus the anchor's: digits {d_ex:+.3f} bits (tolerance {d_tol:.3f}), "
                     f"Gaussian {g_ex:+.3f} bits: deteriorates {worse}")
    return g_ok, rest_ok, "; ".join(parts), details


@claim("sec4.1.across-domains", "InfoNCE-anchor tracks ground truth MI most closely across "
       "domains; JS-plugin deteriorates on higher-dimensional tasks (MNIST, texts).",
       "Sec. 4.1", "benchmark")
def check_across_domains() -> Outcome:
    """'InfoNCE-anchor tracks ground truth MI most closely across domains. JS-plugin ...
    deteriorates on higher-dimensional tasks such as MNIST and texts' (Sec. 4.1), on the
    Gaussian sweep and the digits stand-in for MNIST.  A failure on the stand-in stays open."""
    found, partial = _domains()
    if partial is not None:
        return partial
    (gr, gpath), (dr, dpath) = found["gaussian"], found["digits"]
    g_ok, rest_ok, text, details = _domain_parts(Table(gr), Table(dr))
    method = settings_text(gr, gpath) + " | " + settings_text(dr, dpath)
    if not details:
        return Outcome("open", method, "the two sweeps have no critic in common")
    evidence = f"{text}. {DOMAIN_CRITERIA}. Domains: {STAND_IN}"
    details = {"settings": method, **details}
    if g_ok and rest_ok:
        return Outcome("verified-sampled", method, evidence, details)
    if not g_ok and paper_settings(gr) and paper_settings(dr):
        rescue = _b16_rescue(lambda tab, B: all(near_lowest(tab, c, B)[0] for c in tab.critics))
        if rescue:
            return Outcome("open", method, rescue + evidence, details)
        # Severity: major, as in _verdict (fails at the paper's settings)
        return Outcome("refuted", method, "fails on the Gaussian domain at the paper's "
                       "settings: " + evidence, details, severity="major",
                       correction=PAPER_SETTINGS_CORRECTION)
    return Outcome("open", method, f"not reproduced: {_domain_why(g_ok, rest_ok)}. {evidence}",
                   details)


def _domain_why(g_ok: bool, rest_ok: bool) -> str:
    """Why a failure that is not a refutation stays open: a claim *across* domains is decided
    only when every domain's sweep is at the paper's settings (the Gaussian panel alone is
    claim fig1)."""
    why = [] if g_ok else ["the Gaussian part fails (claim fig1 decides the Gaussian panel; "
                           "across domains needs every domain at the paper's settings)"]
    if not rest_ok:
        why.append("the digits part fails, but digits is a stand-in for MNIST / texts (8x8 "
                   "images, not MNIST's 28x28 or BERT text embeddings), so a failure there does "
                   "not show the paper's MNIST / text statement false")
    return "; ".join(why)


# --- Figure 1's batch size: caption vs App. G --------------------------------------------------

CAPTION = ("Fig. 1 caption (Sec. 4.1; paper.txt lines 492-493): 'All experiments were done with "
           "batch size 64 and averaged over 20 random runs.'")
APP_G = ("App. G.1 (paper.txt lines 1348-1349): 'Batch size varied by dataset: 16 for Gaussian "
         "data and 64 for MNIST and IMDB.'")


def _panel_at(names: tuple[str, ...], B: int) -> tuple[bool | None, str]:
    """fig1's Gaussian criteria on the sweep ``names`` at batch size ``B``: (holds, text);
    None when the sweep is missing or incomplete."""
    results, path, partial = _gaussian(names, B)
    if partial is not None:
        return None, f"B = {B}: no complete sweep ({' or '.join(names)})"
    ok, _, _ = gaussian_panel(Table(results), B)
    where = "paper settings" if paper_settings(results) else "reduced settings"
    return ok, (f"B = {B} ({results['name']}, {where}): fig1's criteria "
                f"{'hold' if ok else 'fail'}")


@claim("fig1.batch-size", "The batch size of Fig. 1's Gaussian panel is stated consistently "
       "(caption: 'batch size 64' for all experiments; App. G: '16 for Gaussian data').",
       "Fig. 1 caption, App. G.1", "benchmark")
def check_fig1_batch_size() -> Outcome:
    """The caption's 'All experiments were done with batch size 64' against App. G's 'Batch
    size varied by dataset: 16 for Gaussian data and 64 for MNIST and IMDB': they contradict
    each other for the Gaussian panel (a minor finding of the text).  With both Gaussian sweeps
    the evidence adds whether fig1's conclusions differ between B = 16 and B = 64."""
    at = {B: _panel_at(names, B) for B, names in ((64, FIG1), (16, FIG1_B16))}
    sweeps = "; ".join(text for _, text in at.values())
    if at[64][0] is not None and at[16][0] is not None:
        sweeps += ("; the Gaussian-panel conclusions " + ("do not differ" if at[64][0] == at[16][0]
                                                          else "differ") + " between B = 16 and "
                   "B = 64")
    # Severity: minor.  A reporting inconsistency (one of two numbers is a slip), not a failed
    # result: either value makes the text consistent; the paper does not say which it is.
    return Outcome("refuted", "reading the text (paper.txt, OCR of the paper)",
                   f"minor, in the text: {CAPTION} {APP_G} For the Gaussian panel the two "
                   "give B = 64 and B = 16; both cannot hold, and the text does not say which "
                   f"was used. Sweeps: {sweeps}.",
                   {"caption_batch_size": 64, "app_g_gaussian_batch_size": 16,
                    **{f"fig1_criteria_hold_B{B}": ok for B, (ok, _) in at.items()}},
                   severity="minor",
                   correction="one of the two statements is a slip: the Gaussian panel used "
                   "either B = 64 (caption) or B = 16 (App. G.1), and the paper does not say "
                   "which")


# --- Figure 3 ----------------------------------------------------------------------------------

FIG3 = ("fig3-cubic", "fig3-cubic-cpu")
FIG3_B = (16, 64, 256)


def _tracks(tab: Table, critic: str, B: int) -> tuple[float, float]:
    """Level-averaged |bias| (bits) of the anchor and of JS-plugin."""
    return (tab.mean_abs_bias("infonce_anchor", critic, B),
            tab.mean_abs_bias("js_plugin", critic, B))


@claim("fig3", "On the cubic Gaussian task with batch sizes 16, 64, 256, InfoNCE-anchor "
       "exhibits a consistent performance; JS-plugin also performs remarkably well.",
       "App. G, Fig. 3", "benchmark")
def check_fig3() -> Outcome:
    """'It clearly shows that InfoNCE-anchor exhibits a consistent performance, but we note
    that JS-plugin also performs remarkably well in this simple benchmark' (App. G.1)."""
    results, path = find_results(FIG3)
    if results is None:
        return _missing(FIG3)
    partial = incomplete(results, path, ("infonce_anchor", "js_plugin"), FIG3_B)
    if partial is not None:
        return partial
    tab = Table(results)
    parts, ok, details = [], True, {"settings": settings_text(results, path)}
    for critic in tab.critics:
        ran = [B for B in FIG3_B if tab.has("infonce_anchor", critic, B)
               and tab.has("js_plugin", critic, B)]      # the rest cut by design
        for B in ran:
            anchor, js = _tracks(tab, critic, B)
            ok &= anchor <= TRACK_BITS and js <= TRACK_BITS
            details[f"{critic}/B{B}"] = {"anchor_mean_abs_bias_bits": round(anchor, 3),
                                         "js_plugin_mean_abs_bias_bits": round(js, 3)}
            parts.append(f"{critic} B={B}: mean |bias| anchor {anchor:.2f}, JS-plugin "
                         f"{js:.2f} bits")
        spread = [details[f"{critic}/B{B}"]["anchor_mean_abs_bias_bits"] for B in ran]
        parts.append(f"{critic}: the anchor's range over batch sizes "
                     f"{max(spread) - min(spread):.2f} bits")
    cut = _cut_text(results).removeprefix("; ")
    return _verdict(ok, results, settings_text(results, path), "; ".join(parts) + ". Criteria "
                    "(fixed in advance), at every (critic, batch size) that ran: the anchor's "
                    f"'consistent performance': its |bias| averaged over the levels <= "
                    f"{TRACK_BITS:g} bit at every batch size (half the 2-bit level spacing, so "
                    "the estimate identifies the level; with all batch sizes within it, they "
                    f"differ by at most {TRACK_BITS:g} bit); JS-plugin 'performs remarkably "
                    f"well': the same <= {TRACK_BITS:g} bit at every batch size"
                    + (f" ({cut}; those pairs are not required)" if cut else "") + ".", details)


# --- Sec. 2.2 on the benchmark: InfoNCE converges to D_KJS(K), not to the MI ------------------

#: The sweep that decides sec2.2.infonce-on-benchmark (paper settings, B = 64) ...
KJS_DECIDING = ("fig1-gaussian", 64)
#: ... and those reported beside it (never deciding): other paper-settings runs first.
KJS_REPORTED = ("fig1-gaussian-fp32-check", "fig1-gaussian-b16", "fig3-cubic", "digits",
                "reviewers-alpha-ml", "fig1-gaussian-cpu", "fig3-cubic-cpu", "digits-cpu",
                "reviewers-alpha-ml-cpu")
#: |mean - D_KJS| may be this many bits plus KJS_SE x the combined standard error.
KJS_TOL_BITS = 0.25
KJS_SE = 3.0
#: Where MI - D_KJS(K) exceeds this (bits), the estimate must be closer to D_KJS than to the MI.
KJS_GAP_BITS = 0.5
KJS_CRITERIA = (
    "criteria (fixed before the InfoNCE numbers of the shipped runs were looked at), decided on "
    "the paper-settings Gaussian sweep fig1-gaussian at B = 64 (K = 63), for each critic and "
    f"at every level: (a) |mean held-out InfoNCE estimate - D_KJS(K)| <= {KJS_TOL_BITS} bits + "
    f"{KJS_SE:g} x sqrt(SE^2 + e^2), SE the standard error of the mean across seeds (sd "
    "ddof 1 / sqrt(runs)) and e the target's error bar (2 SE of its Monte Carlo, <= 0.01 "
    f"bits); (b) at the levels where MI - D_KJS(K) > {KJS_GAP_BITS} bits, the mean is closer "
    "to D_KJS(K) than to the MI. D_KJS(K) = E_x E log(K r(x,y_1) / sum_j r(x,y_j)), y_1 ~ "
    "p(y|x), y_2..y_K ~ p(y), is stored per level in the sweep's levels.json (targets; "
    "numerics.bench.targets). The other sweeps are reported with the same criteria and do not "
    "decide")


def kjs_rows(results: dict, B: int) -> list[dict] | None:
    """Per critic and level of ``results`` at batch size ``B``: InfoNCE's held-out mean and SE
    across seeds, ``D_KJS(K)`` with its error bar, the MI (bits) and criteria (a), (b) of
    :data:`KJS_CRITERIA`; None without InfoNCE or targets at ``B``."""
    per = results.get("targets", {}).get("batch_sizes", {}).get(str(B))
    tab = Table(results)
    critics = [c for c in tab.critics if tab.has("infonce", c, B)]
    if per is None or not critics:
        return None
    rows = []
    for critic in critics:
        v, truth = tab.values_bits("infonce", critic, B)
        for level, (runs, mi, t) in enumerate(zip(v, truth, per["levels"])):
            ok = runs[np.isfinite(runs)]
            n = ok.size
            mean = float(ok.mean()) if n else math.nan
            se = float(ok.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
            kjs, bar = t["kjs_bits"], t["kjs_error_bar_bits"]
            tol = KJS_TOL_BITS + KJS_SE * math.hypot(se, bar)
            dev = mean - kjs
            gap = float(mi) - kjs > KJS_GAP_BITS
            closer = abs(dev) < abs(mean - float(mi)) if n else False
            rows.append({"critic": critic, "B": B, "level": level, "mi_bits": round(float(mi), 4),
                         "kjs_bits": round(kjs, 4), "kjs_error_bar_bits": round(bar, 4),
                         "infonce_mean_bits": round(mean, 4), "se_bits": round(se, 4),
                         "runs": n, "bias_vs_mi_bits": round(mean - float(mi), 4),
                         "bias_vs_kjs_bits": round(dev, 4), "tolerance_bits": round(tol, 4),
                         "a_on_kjs": bool(n and abs(dev) <= tol),
                         "b_applies": gap, "b_closer_to_kjs": closer if gap else None,
                         "holds": bool(n and abs(dev) <= tol and (closer or not gap))})
    return rows


def _kjs_text(rows: list[dict]) -> str:
    return "; ".join(
        f"{r['critic']} L{r['level']} (MI {r['mi_bits']:.2f}): InfoNCE {r['infonce_mean_bits']:.3f}"
        f" +/- {r['se_bits']:.3f} vs D_KJS {r['kjs_bits']:.3f} +/- {r['kjs_error_bar_bits']:.3f}, "
        f"dev {r['bias_vs_kjs_bits']:+.3f} (tol {r['tolerance_bits']:.3f})"
        + (f", closer to D_KJS than to MI: {r['b_closer_to_kjs']}" if r["b_applies"] else "")
        + ("" if r["holds"] else " FAILS") for r in rows)


def _kjs_reported() -> tuple[list[str], dict]:
    """The other sweeps found (each batch size with InfoNCE and targets), one line each."""
    lines, details = [], {}
    for name in KJS_REPORTED:
        results, _ = find_results((name,))
        if results is None:
            continue
        where = "paper settings" if paper_settings(results) else "reduced settings"
        missing = results.get("missing_units", 0)
        for B in Table(results).batch_sizes:
            rows = kjs_rows(results, B)
            if rows is None:
                if not results.get("targets") and Table(results).has(
                        "infonce", Table(results).critics[0], B):
                    lines.append(f"{name} B={B}: no targets in its levels.json")
                continue
            bad = [r for r in rows if not r["holds"]]
            worst = max(rows, key=lambda r: abs(r["bias_vs_kjs_bits"]))
            lines.append(
                f"{name} B={B} ({where}{f', {missing} units unfinished' if missing else ''}): "
                + ("holds" if not bad else "fails at " + ", ".join(
                    f"{r['critic']} L{r['level']} (dev {r['bias_vs_kjs_bits']:+.3f}, tol "
                    f"{r['tolerance_bits']:.3f})" for r in bad))
                + f"; largest |dev| {abs(worst['bias_vs_kjs_bits']):.3f} bits ({worst['critic']} "
                f"L{worst['level']})")
            details[f"{name}/B{B}"] = rows
    return lines, details


@claim("sec2.2.infonce-on-benchmark", "Trained InfoNCE's held-out estimate sits on D_KJS(K), "
       "not on the MI, at every level of the benchmark (K = B - 1).", "Sec. 2.2, Thm 2; Sec. 4.1",
       "benchmark")
def check_infonce_on_benchmark() -> Outcome:
    """InfoNCE's population optimum with ``K`` slots is ``D_KJS(K)`` (Thm 2), not the MI: the
    benchmark's held-out InfoNCE estimates against the targets stored in its ``levels.json``
    (:data:`KJS_CRITERIA`)."""
    name, B = KJS_DECIDING
    reported, rep_details = _kjs_reported()
    tail = (" Reported, not deciding: " + "; ".join(reported) + ".") if reported else ""
    results, path = find_results((name,))
    if results is None or not paper_settings(results):
        why = (f"no paper-settings sweep {name} found" if results is None else
               f"{path} is not at the paper's settings")
        return Outcome("open", "-", f"{why}; run benchmarks/configs/fig1_gaussian.toml on a GPU "
                       f"and summarise it. {KJS_CRITERIA}.{tail}", {"reported": rep_details})
    method = (settings_text(results, path) + "; targets: "
              + results.get("targets", {}).get("method", "none"))
    partial = incomplete(results, path, ("infonce",), (B,))
    if partial is not None:
        return Outcome("open", partial.method, partial.evidence + tail,
                       {"reported": rep_details})
    rows = kjs_rows(results, B)
    if rows is None:
        return Outcome("open", method, f"{path} has no targets at B = {B}; add them with "
                       f"infonce-anchor bench CONFIG --summarize-only --out {Path(path).parent}."
                       f" {KJS_CRITERIA}.{tail}", {"reported": rep_details})
    bad = [r for r in rows if not r["holds"]]
    evidence = f"{name}, B = {B}, K = {B - 1}: {_kjs_text(rows)}. {KJS_CRITERIA}.{tail}"
    details = {"settings": method, "deciding": rows, "reported": rep_details}
    if not bad:
        return Outcome("verified-sampled", method, evidence, details)
    where = ", ".join(f"{r['critic']} level {r['level']} (MI {r['mi_bits']:.0f} bits): "
                      f"{r['infonce_mean_bits']:.3f} vs D_KJS {r['kjs_bits']:.3f}, off by "
                      f"{abs(r['bias_vs_kjs_bits']):.3f} bits against a tolerance of "
                      f"{r['tolerance_bits']:.3f}" + (
                          "" if r["b_closer_to_kjs"] in (None, True) else
                          "; closer to the MI than to D_KJS") for r in bad)
    # Severity: major.  A fixed-criteria statement fails at the paper's settings; the numbers
    # say where and by how much (no rewording is known that the data would confirm).
    return Outcome("refuted", method, "fails at " + where + ". " + evidence, details,
                   severity="major", correction="at the paper's settings the trained InfoNCE "
                   "estimate departs from D_KJS(K) at " + where)
