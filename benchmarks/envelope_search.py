"""Search for pairs with ``KL(q1||q0) = D`` whose ``D_KJS`` exceeds the envelope ``U_K(D)``
(Thm 2 corrected, Sec. 2.2; :func:`numerics.exact.envelope.search_envelope`).

The conjecture is ``sup{D_KJS : KL = D} = U_K(D) = log K - E log(1 + Bin(K-1, e^{-D}))``.  For
each ``D`` in {0.5, 2, 8} bits, ``K`` in {2, 4, 16, 64} and alphabet sizes 2..5, SLSQP maximises
the exact ``D_KJS`` from ``--starts`` seeded random feasible points; each end point's ``D_KJS``
and ``KL`` are recomputed exactly and compared with ``U_K`` at *that* ``KL`` (the constraint
holds only to the optimiser's tolerance).  A positive excess beyond the error estimate would be
a counterexample.

    python benchmarks/envelope_search.py [--starts N] [--seed S] [--out FILE] [--json]
    python benchmarks/envelope_search.py --from FILE     # the table of a previous run

Prints a table (found maximum against ``U_K``, in bits) and writes the per-(D, K, letters)
maximisers to ``--out`` (default: ``infonce_anchor/shipped_results/envelope-search.json``,
package data read by the claim ``thm2.envelope``, which re-evaluates every stored pair).  Exit
status 1 if some pair exceeds ``U_K(KL)`` by more than its error estimate.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from numerics.exact.envelope import kjs_envelope, search_envelope
from numerics.exact.units import LN2

D_BITS = (0.5, 2.0, 8.0)
SLOTS = (2, 4, 16, 64)
LETTERS = (2, 3, 4, 5)
OUT = ROOT / "infonce_anchor" / "shipped_results" / "envelope-search.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starts", type=int, default=30, help="SLSQP starts per (D, K, letters)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--json", action="store_true", help="print the JSON instead of the table")
    ap.add_argument("--from", dest="source", type=Path, metavar="FILE",
                    help="print the table of a previous run's JSON (no search)")
    args = ap.parse_args(argv)
    if args.source:
        print(table(json.loads(args.source.read_text())["rows"]))
        return 0

    rows, started = [], time.perf_counter()
    for i, d_bits in enumerate(D_BITS):
        for j, K in enumerate(SLOTS):
            for n in LETTERS:
                t0 = time.perf_counter()
                seed = args.seed + 1000 * i + 100 * j + n
                found = search_envelope(d_bits * LN2, K, letters=(n,), starts=args.starts,
                                        seed=seed)
                rows.append({"D_bits": d_bits, "D_nats": d_bits * LN2, "K": K, "letters": n,
                             "starts": args.starts, "seed": seed,
                             "U_K_of_D_nats": kjs_envelope(d_bits * LN2, K),
                             "q1": found.q1, "q0": found.q0, "kjs_nats": found.kjs,
                             "kjs_error_nats": found.kjs_error, "kl_nats": found.kl,
                             "U_K_of_kl_nats": found.envelope, "excess_nats": found.excess,
                             "max_excess_over_runs_nats": found.max_excess,
                             "max_excess_error_nats": found.max_excess_error,
                             "seconds": round(time.perf_counter() - t0, 2)})
                print(f"D = {d_bits} bits, K = {K}, {n} letters: excess {found.excess:.2g} "
                      f"nats ({rows[-1]['seconds']} s)", file=sys.stderr)
    counterexamples = [r for r in rows
                       if r["max_excess_over_runs_nats"] > r["max_excess_error_nats"]]
    out = {"description": ("largest exact D_KJS found by SLSQP over pairs on n letters with "
                           "KL(q1||q0) = D, against U_K(D) = log K - E log(1 + Bin(K-1, e^-D)); "
                           "written by benchmarks/envelope_search.py"),
           "settings": {"D_bits": D_BITS, "K": SLOTS, "letters": LETTERS,
                        "starts": args.starts, "seed": args.seed, "optimiser": "scipy SLSQP",
                        "python": platform.python_version()},
           "seconds": round(time.perf_counter() - started, 1),
           "max_excess_nats": max(r["max_excess_over_runs_nats"] for r in rows),
           "counterexamples": len(counterexamples), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        print(table(rows))
        print(f"\n{len(rows)} searches, {len(rows) * args.starts} SLSQP runs in "
              f"{out['seconds']} s; max excess over all runs {out['max_excess_nats']:.2g} nats; "
              f"counterexamples: {len(counterexamples)}; written to {args.out}")
    return 1 if counterexamples else 0


def table(rows: list[dict]) -> str:
    """Per (D, K): the largest D_KJS found (over alphabet sizes), U_K at that pair's KL (the
    constraint holds to the optimiser's tolerance), the excess, and U_K(D); in bits."""
    lines = [("| D (bits) | K | found max D_KJS (bits) | U_K(KL of found pair) (bits) | "
              "found - U_K(KL) (bits) | U_K(D) (bits) | n letters |"),
             "|---|---|---|---|---|---|---|"]
    for d_bits in D_BITS:
        for K in SLOTS:
            group = [r for r in rows if r["D_bits"] == d_bits and r["K"] == K]
            best = max(group, key=lambda r: r["kjs_nats"])
            lines.append(f"| {d_bits:g} | {K} | {best['kjs_nats'] / LN2:.10f} | "
                         f"{best['U_K_of_kl_nats'] / LN2:.10f} | "
                         f"{best['excess_nats'] / LN2:.2g} | "
                         f"{best['U_K_of_D_nats'] / LN2:.10f} | {best['letters']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
