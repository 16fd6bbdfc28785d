"""Time and check the exact-numerics layer (``numerics``): the K-way Jensen-Shannon divergence.

Measured in one run (all values in nats, times in milliseconds unless stated):

a. ``D_KJS(q1, q0)`` for an alphabet of ``n = 1000`` letters (seeded Dirichlet(1) ``q1`` and
   ``q0``), ``K = 10**6`` slots, ``method='laplace'``, float64: median and min wall time over
   ``--repeat`` calls, the value, the reported error estimate and the relative error against two
   independent high-precision references (see below); peak traced memory (``tracemalloc``) of
   one call at ``n = 1000`` and ``n = 10000`` (the Laplace method should be ``O(n)``).
   Goal (issue #3): median <= 50 ms and relative error <= 1e-10; PASS/FAIL is printed for each.

   References.  The mpmath path (``kway_jsd(..., method='laplace', dps=30)``) is pure Python,
   ``O(n * nodes)``: about 35 s at ``n = 100`` and several minutes at ``n = 1000`` on the 2-core
   machine, so at ``n = 1000`` two float routes serve as references instead:

   * R1 "fine quadrature": the same float64 Laplace code with panels 8x narrower and a 2x higher
     Gauss-Legendre order (``numerics.exact.laplace.PANEL_WIDTH = 0.25``, ``FINE = 40``, patched for
     the call and restored);
   * R2 "independent": this script's own Frullani integral
     ``E log A = int (e^{-t} - phi_1(t) phi_0(t)^{K-1}) dt/t`` evaluated in x87 extended
     precision (``np.longdouble``, 64-bit mantissa) and integrated by adaptive Gauss-Kronrod
     (``scipy.integrate.quad``, QUADPACK) over unit panels of ``u = log t``: no code shared with
     ``numerics.exact.laplace``.

   PASS/FAIL uses the larger of the two relative errors.  At ``n = 100`` the mpmath reference
   (30 digits) is run too, and both the float64 value and R2 are compared with it (``--no-mp``
   skips it).
b. Laplace vs type-class enumeration (``method='types'``) at ``n = 10``, ``K = 8``: both times,
   the ratio, and the agreement of the values.
c. Against a general-purpose information-theory library, ``dit`` (optional, benchmark-only:
   ``pip install dit``): the joint law of ``(Z, X_1..X_K)`` with ``Z`` uniform on ``[K]`` and
   ``p(x|z) = q1(x_z) prod_{i != z} q0(x_i)`` over the product space, and dit's
   ``I(Z; X_{1:K})`` (bits, converted to nats), which equals ``D_KJS``; at ``n = 10``, ``K = 4``
   (``10^4`` outcomes x 4) with repeats, then single runs at ``K = 5, 6, ...`` up to
   ``--dit-max-k`` while a run stays under 30 s.  Skipped with a message when dit is missing.

    python benchmarks/bench_exact.py [--repeat N] [--json] [--no-mp] [--dit-max-k K]

``--json`` prints one JSON object instead of the text report.  Exit status 0 unless a value
check fails (values that disagree); missed speed goals are reported, not fatal.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import statistics
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numerics  # noqa: E402
from numerics.exact import laplace  # noqa: E402
from numerics.exact.units import LN2  # noqa: E402

SEED = 20240607
GOAL_MS = 50.0
GOAL_REL = 1e-10
DIT_TIME_LIMIT_S = 30.0


# ----------------------------------------------------------------------------- helpers
def dirichlet_pair(n: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Seeded Dirichlet(1) ``q1`` and ``q0`` on ``n`` letters."""
    rng = np.random.default_rng([seed, n])
    return rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))


def timed(fn, repeat: int, warmup: bool = True) -> tuple[list[float], object]:
    """Wall times (ms) of ``repeat`` calls of ``fn`` (after one untimed warm-up) and its result."""
    out = fn() if warmup else None
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times, out


def peak_mib(fn) -> float:
    """Peak memory traced by ``tracemalloc`` during one call of ``fn`` (MiB)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def fine_quadrature(q1: np.ndarray, q0: np.ndarray, K: int) -> numerics.Result:
    """R1: the float64 Laplace method with ``PANEL_WIDTH = 0.25`` and ``FINE = 40``."""
    saved = laplace.PANEL_WIDTH, laplace.FINE
    laplace.PANEL_WIDTH, laplace.FINE = 0.25, 40
    try:
        return numerics.kway_jsd_result(q1, q0, K, method="laplace")
    finally:
        laplace.PANEL_WIDTH, laplace.FINE = saved


def frullani_longdouble(q1: np.ndarray, q0: np.ndarray, K: int) -> tuple[float, float]:
    """R2: ``D_KJS`` by this script's own Frullani integral in ``np.longdouble`` with QUADPACK.

    ``D_KJS = log K + E_q1[log r*] - E[log(r*(x_1) + sum_{i>=2} r*(x_i))]`` (``q1 << q0``) and
    ``E log A = int_R (e^{-t} - E e^{-t A}) du``, ``t = e^u``, ``E e^{-tA} = phi_1 phi_0^{K-1}``,
    ``phi_j = 1 - c_j``, ``c_j(t) = sum_x q_j(x)(1 - e^{-t r*(x)})`` (``expm1``, ``log1p``).
    Returns ``(value, QUADPACK's error estimate)`` in nats.
    """
    from scipy.integrate import IntegrationWarning, quad

    LD = np.longdouble
    a, b = q1.astype(LD), q0.astype(LD)
    a, b = a / a.sum(), b / b.sum()
    if np.any((b == 0) & (a > 0)):
        raise ValueError("the longdouble reference needs q1 << q0")
    keep1, keep0 = a > 0, b > 0
    r = np.where(keep0, a / np.where(keep0, b, LD(1)), LD(0))
    p1, r1, p0, r0 = a[keep1], r[keep1], b[keep0], r[keep0]
    const = np.log(LD(K)) + np.sum(p1 * np.log(r1))
    km1 = LD(K - 1)

    def integrand(u: float) -> float:
        t = np.exp(LD(u))
        c1 = min(-np.sum(p1 * np.expm1(-t * r1)), LD(1))
        c0 = min(-np.sum(p0 * np.expm1(-t * r0)), LD(1))
        with np.errstate(divide="ignore"):
            log_mgf = np.log1p(-c1) + km1 * np.log1p(-c0)
        return float(np.expm1(-t) - np.expm1(log_mgf))

    mean = float(np.sum(p1 * r1)) + (K - 1)
    lo = math.floor(math.log(1e-24 / (1.0 + mean)))  # integrand ~ t (mean - 1) below
    hi = math.ceil(math.log(80.0 / min(1.0, float(r1.min()))))  # e^{-t min A} < e^{-80} above
    pieces, errors = [], []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", IntegrationWarning)
        for left in range(lo, hi):
            value, err = quad(integrand, left, left + 1, epsabs=1e-16, epsrel=1e-13, limit=200)
            pieces.append(value)
            errors.append(err)
    if any(issubclass(w.category, IntegrationWarning) for w in caught):
        raise RuntimeError("QUADPACK did not reach the requested tolerance: "
                           + "; ".join(str(w.message).split("\n")[0] for w in caught))
    elog = math.fsum(pieces)
    return float(const - LD(elog)), math.fsum(errors)


def rel(x: float, ref: float) -> float:
    return abs(float(x) - float(ref)) / abs(float(ref))


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# ----------------------------------------------------------------------------- parts
def part_a(repeat: int, use_mp: bool) -> dict:
    n, K = 1000, 10**6
    q1, q0 = dirichlet_pair(n)
    times, res = timed(lambda: numerics.kway_jsd_result(q1, q0, K, method="laplace"), repeat)
    assert res.method == "laplace"
    r1 = fine_quadrature(q1, q0, K)
    start = time.perf_counter()
    r2, r2_err = frullani_longdouble(q1, q0, K)
    r2_seconds = time.perf_counter() - start
    rel1, rel2 = rel(res.value, r1.value), rel(res.value, r2)
    out: dict = {
        "n": n, "K": K, "method": res.method, "seed": SEED,
        "median_ms": statistics.median(times), "min_ms": min(times), "times_ms": times,
        "value_nats": float(res.value), "value_bits": float(res.value) / LN2,
        "error_estimate_nats": res.error_estimate,
        "kl_nats": numerics.kl(q1, q0), "log_K_nats": math.log(K),
        "ref_fine_quadrature_nats": float(r1.value), "rel_err_vs_fine_quadrature": rel1,
        "ref_longdouble_frullani_nats": r2, "ref_longdouble_quad_error_nats": r2_err,
        "ref_longdouble_seconds": r2_seconds, "rel_err_vs_longdouble_frullani": rel2,
        "abs_err_nats": abs(float(res.value) - r2),
        "refs_agree_rel": rel(r1.value, r2),
    }
    out["rel_err"] = max(rel1, rel2)
    out["time_pass"] = out["median_ms"] <= GOAL_MS
    out["accuracy_pass"] = out["rel_err"] <= GOAL_REL
    out["error_estimate_covers_error"] = out["abs_err_nats"] <= res.error_estimate

    memory = {}
    for m in (1000, 10000):
        p1, p0 = dirichlet_pair(m)
        memory[m] = peak_mib(lambda: numerics.kway_jsd_result(p1, p0, K, method="laplace"))
    out["peak_mib"] = {str(k): v for k, v in memory.items()}
    out["peak_ratio_10000_over_1000"] = memory[10000] / memory[1000]
    out["memory_linear_pass"] = out["peak_ratio_10000_over_1000"] <= 15.0  # 10x letters
    p1, p0 = dirichlet_pair(10000)
    t10k, _ = timed(lambda: numerics.kway_jsd_result(p1, p0, K, method="laplace"),
                    max(1, min(repeat, 3)))
    out["n10000_median_ms"] = statistics.median(t10k)

    if use_mp:
        m = 100
        p1, p0 = dirichlet_pair(m)
        flt = numerics.kway_jsd_result(p1, p0, K, method="laplace")
        start = time.perf_counter()
        mp_res = numerics.kway_jsd_result(p1, p0, K, method="laplace", dps=30)
        mp_seconds = time.perf_counter() - start
        ld, _ = frullani_longdouble(p1, p0, K)
        out["mp_check"] = {
            "n": m, "K": K, "dps": 30, "mp_seconds": mp_seconds,
            "mp_value_nats": str(mp_res.value), "float64_value_nats": float(flt.value),
            "float64_error_estimate_nats": flt.error_estimate,
            "rel_err_float64_vs_mp": rel(flt.value, mp_res.value),
            "rel_err_longdouble_frullani_vs_mp": rel(ld, mp_res.value),
            "rel_err_fine_quadrature_vs_mp": rel(fine_quadrature(p1, p0, K).value,
                                                 mp_res.value),
        }
        out["mp_check"]["pass"] = out["mp_check"]["rel_err_float64_vs_mp"] <= GOAL_REL
        out["mp_check"]["n1000_estimate_seconds"] = mp_seconds * 1000 / m
    return out


def part_b(repeat: int) -> dict:
    n, K = 10, 8
    q1, q0 = dirichlet_pair(n)
    t_lap, lap = timed(lambda: numerics.kway_jsd_result(q1, q0, K, method="laplace"), repeat)
    t_typ, typ = timed(lambda: numerics.kway_jsd_result(q1, q0, K, method="types"), repeat)
    from numerics.exact import enumeration
    diff = abs(float(lap.value) - float(typ.value))
    tol = lap.error_estimate + typ.error_estimate + 1e-13
    return {
        "n": n, "K": K, "type_classes": enumeration.count_types(n, K - 1),
        "laplace_median_ms": statistics.median(t_lap), "laplace_min_ms": min(t_lap),
        "types_median_ms": statistics.median(t_typ), "types_min_ms": min(t_typ),
        "ratio_types_over_laplace": statistics.median(t_typ) / statistics.median(t_lap),
        "laplace_nats": float(lap.value), "types_nats": float(typ.value),
        "laplace_error_estimate": lap.error_estimate, "types_error_estimate": typ.error_estimate,
        "abs_diff_nats": diff, "tolerance_nats": tol, "agree": diff <= tol,
    }


def joint_table(q1: np.ndarray, q0: np.ndarray, K: int) -> tuple[list, list]:
    """Outcomes ``(z, x_1..x_K)`` and probabilities of the joint law: ``Z`` uniform on ``[K]``,
    slot ``Z`` drawn from ``q1`` and the others from ``q0`` (``K n^K`` outcomes)."""
    n = q1.size
    idx = np.indices((n,) * K).reshape(K, -1).T
    log_q0 = np.log(q0)
    base = log_q0[idx].sum(axis=1)
    outcomes, pmf = [], []
    rows = [tuple(row) for row in idx.tolist()]
    for z in range(K):
        p = np.exp(base - log_q0[idx[:, z]] + np.log(q1[idx[:, z]])) / K
        outcomes.extend((z,) + row for row in rows)
        pmf.extend(p.tolist())
    return outcomes, pmf


def dit_mi_nats(q1: np.ndarray, q0: np.ndarray, K: int) -> tuple[float, float, float, float]:
    """``I(Z; X_{1:K})`` by dit, in nats, and the seconds spent preparing the outcome list
    (numpy, Python tuples), in ``dit.Distribution`` and in ``mutual_information``."""
    import dit
    from dit.shannon import mutual_information

    start = time.perf_counter()
    outcomes, pmf = joint_table(q1, q0, K)
    prepared = time.perf_counter()
    d = dit.Distribution(outcomes, pmf)
    built = time.perf_counter()
    bits = mutual_information(d, [0], list(range(1, K + 1)))
    done = time.perf_counter()
    if d.get_base() != "linear":  # a linear pmf: dit reports bits
        raise RuntimeError(f"unexpected dit base {d.get_base()!r}")
    return float(bits) * LN2, prepared - start, built - prepared, done - built


def part_c(repeat: int, max_k: int) -> dict:
    try:
        import dit
    except Exception as exc:  # optional, benchmark-only dependency
        return {"installed": False, "reason": f"{type(exc).__name__}: {exc}"}
    n, K = 10, 4
    q1, q0 = dirichlet_pair(n)
    runs = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        value, t_prep, t_dist, t_mi = dit_mi_nats(q1, q0, K)
        runs.append(((time.perf_counter() - start) * 1e3, t_prep * 1e3, t_dist * 1e3,
                     t_mi * 1e3, value))
    t_lap, lap = timed(lambda: numerics.kway_jsd_result(q1, q0, K, method="laplace"), repeat)
    t_auto, auto = timed(lambda: numerics.kway_jsd_result(q1, q0, K), repeat)
    dit_value = runs[-1][4]
    dit_med = statistics.median(r[0] for r in runs)
    out = {
        "installed": True, "version": dit.__version__, "n": n, "K": K,
        "outcomes": K * n**K,
        "dit_median_ms": dit_med, "dit_min_ms": min(r[0] for r in runs),
        "prepare_outcomes_median_ms": statistics.median(r[1] for r in runs),
        "dit_distribution_median_ms": statistics.median(r[2] for r in runs),
        "dit_mi_median_ms": statistics.median(r[3] for r in runs),
        "dit_nats": dit_value,
        "numerics_auto_method": auto.method, "numerics_auto_median_ms": statistics.median(t_auto),
        "numerics_auto_nats": float(auto.value),
        "numerics_laplace_median_ms": statistics.median(t_lap),
        "numerics_laplace_nats": float(lap.value),
        "ratio_dit_over_laplace": dit_med / statistics.median(t_lap),
        "ratio_dit_over_auto": dit_med / statistics.median(t_auto),
        "abs_diff_dit_vs_auto_nats": abs(dit_value - float(auto.value)),
        "abs_diff_dit_vs_laplace_nats": abs(dit_value - float(lap.value)),
    }
    out["agree"] = max(out["abs_diff_dit_vs_auto_nats"], out["abs_diff_dit_vs_laplace_nats"]) \
        <= 1e-12
    scan = []
    for k in range(K + 1, max_k + 1):
        gc.collect()
        start = time.perf_counter()
        value, t_prep, t_dist, t_mi = dit_mi_nats(q1, q0, k)
        seconds = time.perf_counter() - start
        lt, lap_k = timed(lambda: numerics.kway_jsd_result(q1, q0, k, method="laplace"), 3)
        scan.append({"K": k, "outcomes": k * n**k, "dit_seconds": seconds,
                     "prepare_outcomes_seconds": t_prep, "dit_distribution_seconds": t_dist,
                     "dit_mi_seconds": t_mi, "dit_nats": value,
                     "laplace_median_ms": statistics.median(lt),
                     "laplace_nats": float(lap_k.value),
                     "ratio_dit_over_laplace": seconds * 1e3 / statistics.median(lt),
                     "abs_diff_nats": abs(value - float(lap_k.value))})
        predicted_next = seconds * n * (k + 1) / k  # outcomes grow n (k+1)/k times
        if predicted_next > DIT_TIME_LIMIT_S:
            break
    out["scan"] = scan
    out["max_k_tried"] = max_k
    out["largest_K_under_30s"] = max([K] + [s["K"] for s in scan
                                            if s["dit_seconds"] <= DIT_TIME_LIMIT_S])
    out["scan_agree"] = all(s["abs_diff_nats"] <= 1e-12 for s in scan)
    return out


# ----------------------------------------------------------------------------- report
def report(res: dict) -> None:
    a, b, c = res["a"], res["b"], res["c"]
    print("numerics exact benchmark: K-way Jensen-Shannon divergence D_KJS (nats)")
    print(f"machine: {os.cpu_count()} CPUs, {platform.platform()}, Python "
          f"{platform.python_version()}, numpy {np.__version__}; load average before "
          f"{res['load_before']:.2f}; repetitions {res['repeat']} (+1 untimed warm-up)")
    print()
    print(f"a. D_KJS, n = {a['n']} letters (Dirichlet(1) q1, q0, seed {SEED}), K = {a['K']:.0e}"
          f" slots, method = {a['method']}, float64")
    print(f"   wall time: median {a['median_ms']:.2f} ms, min {a['min_ms']:.2f} ms  "
          f"-> {verdict(a['time_pass'])} (goal <= {GOAL_MS:.0f} ms)")
    print(f"   value: {a['value_nats']:.15f} nats ({a['value_bits']:.12f} bits); "
          f"log K = {a['log_K_nats']:.6f} nats, KL(q1||q0) = {a['kl_nats']:.12f} nats")
    print(f"   reported error estimate: {a['error_estimate_nats']:.3e} nats")
    if "mp_check" in a:
        slow = (f"~{a['mp_check']['n1000_estimate_seconds']:.0f} s by linear extrapolation "
                "from n = 100")
    else:
        slow = "minutes: O(n * nodes) in pure Python"
    print(f"   references at n = 1000 (the mpmath dps=30 path is too slow here, {slow}):")
    print(f"     R1 same Laplace code, PANEL_WIDTH 0.25, FINE 40 (float64): "
          f"{a['ref_fine_quadrature_nats']:.15f} nats; rel. error "
          f"{a['rel_err_vs_fine_quadrature']:.2e}")
    print(f"     R2 own Frullani integral, np.longdouble + QUADPACK (independent): "
          f"{a['ref_longdouble_frullani_nats']:.15f} nats; rel. error "
          f"{a['rel_err_vs_longdouble_frullani']:.2e} (quad error est. "
          f"{a['ref_longdouble_quad_error_nats']:.1e} nats, {a['ref_longdouble_seconds']:.2f} s)")
    print(f"     R1 vs R2: rel. difference {a['refs_agree_rel']:.2e}")
    print(f"   relative error (max over R1, R2): {a['rel_err']:.2e}  -> "
          f"{verdict(a['accuracy_pass'])} (goal <= {GOAL_REL:.0e}); actual |error| "
          f"{a['abs_err_nats']:.1e} nats {'<=' if a['error_estimate_covers_error'] else '>'} "
          "reported estimate")
    if "mp_check" in a:
        m = a["mp_check"]
        print(f"   mpmath reference (method laplace, dps = {m['dps']}) at n = {m['n']}, "
              f"K = {m['K']:.0e}: {m['mp_value_nats'][:22]} nats ({m['mp_seconds']:.1f} s)")
        print(f"     float64 laplace rel. error {m['rel_err_float64_vs_mp']:.2e} -> "
              f"{verdict(m['pass'])} (goal <= {GOAL_REL:.0e}); "
              f"R1 {m['rel_err_fine_quadrature_vs_mp']:.2e}; "
              f"R2 {m['rel_err_longdouble_frullani_vs_mp']:.2e}")
    else:
        print("   mpmath reference at n = 100: skipped (--no-mp)")
    pk = a["peak_mib"]
    print(f"   peak traced memory (tracemalloc) of one call: n = 1000: {pk['1000']:.2f} MiB, "
          f"n = 10000: {pk['10000']:.2f} MiB; ratio {a['peak_ratio_10000_over_1000']:.2f} for "
          f"10x letters -> {verdict(a['memory_linear_pass'])} (O(n): ratio <= 15)")
    print(f"   (info) wall time at n = 10000: median {a['n10000_median_ms']:.1f} ms")
    print()
    print(f"b. laplace vs types (type classes), n = {b['n']}, K = {b['K']} "
          f"({b['type_classes']} type classes)")
    print(f"   laplace: median {b['laplace_median_ms']:.3f} ms (min {b['laplace_min_ms']:.3f} ms)"
          f"; types: median {b['types_median_ms']:.3f} ms (min {b['types_min_ms']:.3f} ms)")
    print(f"   ratio types / laplace = {b['ratio_types_over_laplace']:.1f}x")
    print(f"   values: laplace {b['laplace_nats']:.15f} nats, types {b['types_nats']:.15f} nats;"
          f" |diff| {b['abs_diff_nats']:.1e} nats (tolerance {b['tolerance_nats']:.1e}: sum of "
          f"error estimates) -> {'agree' if b['agree'] else 'DISAGREE'}")
    print()
    if not c["installed"]:
        print("c. dit not installed: skipped" + f" ({c['reason']})")
    else:
        print(f"c. dit {c['version']}: I(Z; X_1..X_K) over the product space, n = {c['n']}, "
              f"K = {c['K']} ({c['outcomes']} outcomes of (Z, X_1..X_K))")
        print(f"   dit route: median {c['dit_median_ms']:.1f} ms (min {c['dit_min_ms']:.1f} ms) ="
              f" outcome list (numpy + tuples) {c['prepare_outcomes_median_ms']:.1f} ms + "
              f"dit.Distribution {c['dit_distribution_median_ms']:.1f} ms + mutual_information "
              f"{c['dit_mi_median_ms']:.1f} ms")
        print(f"   numerics: laplace median {c['numerics_laplace_median_ms']:.3f} ms, auto "
              f"({c['numerics_auto_method']}) median {c['numerics_auto_median_ms']:.3f} ms")
        print(f"   ratio dit / laplace = {c['ratio_dit_over_laplace']:.0f}x; dit / auto = "
              f"{c['ratio_dit_over_auto']:.0f}x")
        print(f"   values: dit {c['dit_nats']:.15f} nats (bits x ln 2), numerics "
              f"{c['numerics_auto_nats']:.15f} nats ({c['numerics_auto_method']}), "
              f"{c['numerics_laplace_nats']:.15f} nats (laplace); max |diff| "
              f"{max(c['abs_diff_dit_vs_auto_nats'], c['abs_diff_dit_vs_laplace_nats']):.1e} "
              f"nats -> {'agree' if c['agree'] else 'DISAGREE'}")
        for s in c["scan"]:
            print(f"   K = {s['K']} ({s['outcomes']} outcomes, one run): dit route "
                  f"{s['dit_seconds']:.2f} s (list {s['prepare_outcomes_seconds']:.2f} s, "
                  f"Distribution {s['dit_distribution_seconds']:.2f} s, MI "
                  f"{s['dit_mi_seconds']:.2f} s); "
                  f"laplace {s['laplace_median_ms']:.3f} ms; ratio "
                  f"{s['ratio_dit_over_laplace']:.0f}x; |diff| {s['abs_diff_nats']:.1e} nats")
        print(f"   largest K run with dit under {DIT_TIME_LIMIT_S:.0f} s: "
              f"{c['largest_K_under_30s']} (tried up to --dit-max-k = {c['max_k_tried']}; "
              "the next K has 10x more outcomes)")
    print()
    print(f"total benchmark time: {res['total_seconds']:.1f} s; load average after "
          f"{res['load_after']:.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed calls per case (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--no-mp", action="store_true",
                        help="skip the mpmath (dps=30) reference at n = 100 (~35 s)")
    parser.add_argument("--dit-max-k", type=int, default=6,
                        help="largest K tried with dit after K = 4 (default 6; ~25 s, 1.3 GB)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    start = time.perf_counter()
    res: dict = {"repeat": args.repeat, "seed": SEED, "cpus": os.cpu_count(),
                 "platform": platform.platform(), "python": platform.python_version(),
                 "load_before": os.getloadavg()[0]}
    res["a"] = part_a(args.repeat, not args.no_mp)
    res["b"] = part_b(args.repeat)
    res["c"] = part_c(args.repeat, args.dit_max_k)
    res["total_seconds"] = time.perf_counter() - start
    res["load_after"] = os.getloadavg()[0]
    values_ok = res["b"]["agree"] and (not res["c"]["installed"] or
                                       (res["c"]["agree"] and res["c"]["scan_agree"]))
    res["values_agree"] = values_ok
    if args.json:
        print(json.dumps(res, indent=2, default=float))
    else:
        report(res)
    return 0 if values_ok else 1


if __name__ == "__main__":
    sys.exit(main())
