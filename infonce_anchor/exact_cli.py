"""``infonce-anchor kjs | divergence | bounds | envelope``: the exact-numerics layer from the
command line.

Values are computed in nats; text output shows nats and bits, JSON carries both.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import mpmath
import numpy as np

from numerics import kl
from numerics.exact import envelope as env
from numerics.exact.distributions import as_pair
from numerics.exact.kjs import (
    anchored_divergence_result,
    kway_jsd_result,
    prior_entropy,
)
from numerics.exact.objectives import population_objective_result, rule_divergence
from numerics.exact.units import LN2
from theory import bounds as th
from theory.compile import compile_expr
from theory.errors import InputError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    k = sub.add_parser("kjs", help="the K-way Jensen-Shannon divergence D_KJS(q1, q0) (Thm 2)")
    _distribution_args(k)
    k.add_argument("--K", required=True, metavar="K", help="number of slots (integer >= 1)")
    k.add_argument("--method", default="auto", help="auto | enumerate | types | laplace")
    k.add_argument("--dps", type=int, metavar="DIGITS", help="mpmath precision (>= 15 digits)")
    k.add_argument("--json", action="store_true", help="print JSON")

    d = sub.add_parser("divergence", help="the divergence of a catalogue rule, -L(r*) "
                       "(Thm 6 / 19), and for the log score the anchored divergence I(Z; X)")
    d.add_argument("--rule", required=True, help="catalogue name (log, power, brier, "
                   "sym_inverse_log, pseudo_spherical, spherical, kliep, robust_power, lsif, "
                   "inverse_log)")
    _distribution_args(d)
    d.add_argument("--K", required=True, metavar="K", help="number of slots")
    d.add_argument("--nu", required=True, metavar="NU", help="anchor weight (>= 0)")
    d.add_argument("--alpha", metavar="ALPHA", help="the rule's parameter, where it has one")
    d.add_argument("--critic", metavar="R", help="optional critic ratios r(x) > 0 "
                   "(comma-separated): also print L(r) and the excess risk L(r) - L(r*)")
    d.add_argument("--method", default="auto", help="auto | enumerate | types | laplace")
    d.add_argument("--json", action="store_true", help="print JSON")

    b = sub.add_parser("bounds", help="D_KJS against K beside log K, KL and Thm 2's bound "
                       "(a table, and a plot)")
    _distribution_args(b)
    b.add_argument("--K", required=True, metavar="LIST", help="slot counts: 1,2,4,8 or a "
                   "geometric run 1,2,4,...,1024")
    b.add_argument("--plot", default="kjs_bounds.png", metavar="FILE",
                   help="where to write the plot (default kjs_bounds.png)")
    b.add_argument("--no-plot", action="store_true", help="table only")
    b.add_argument("--json", action="store_true", help="print JSON")

    e = sub.add_parser("envelope", help="the range of D_KJS over pairs with KL(q1||q0) = D "
                       "(Thm 2 corrected): U_K(D), its closed-form bound, Thm 2's expression, "
                       "min{log K, D} and the infimum 0")
    e.add_argument("--D", required=True, metavar="D", help="the KL divergence D > 0, in --unit")
    e.add_argument("--unit", default="nats", metavar="UNIT", help="bits | nats (default nats): "
                   "the unit of --D and of the text output")
    e.add_argument("--K", required=True, metavar="LIST", help="slot counts: 4,64 or a "
                   "geometric run 1,2,4,...,1024")
    e.add_argument("--search", action="store_true", help="also maximise the exact D_KJS over "
                   "pairs on 2-4 letters with KL = D (SLSQP, a few seeded starts)")
    e.add_argument("--json", action="store_true", help="print JSON (nats and bits)")


def _distribution_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--q1", required=True, metavar="P", help="positive law, e.g. 0.5,0.3,0.2")
    p.add_argument("--q0", required=True, metavar="P", help="negative law, same length")
    p.add_argument("--normalize", action="store_true", help="rescale q1, q0 to sum to 1")


# ------------------------------------------------------------------------------ parsing
def parse_vector(text: str, argument: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(argument, f"expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise InputError(argument, "expected at least one number")
    return values


def parse_int(text: str, argument: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise InputError(argument, f"must be an integer, got {text!r}") from None
    if not value.is_integer():
        raise InputError(argument, f"must be an integer, got {text!r}")
    return int(value)


def parse_slots(text: str) -> list[int]:
    """``1,2,4`` or a geometric run ``1,2,4,...,1024`` (ratio from the first two)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if "..." in parts:
        i = parts.index("...")
        if i < 2 or i != len(parts) - 2:
            raise InputError("--K", "write a run as a,b,...,last (ratio b/a)")
        a, b, last = (parse_int(parts[0], "--K"), parse_int(parts[1], "--K"),
                      parse_int(parts[-1], "--K"))
        if a < 1 or b <= a or b % a:
            raise InputError("--K", "a run a,b,...,last needs 1 <= a < b with b a multiple of a")
        out, k = [], a
        while k <= last:
            out.append(k)
            k *= b // a
        return out
    return [parse_int(p, "--K") for p in parts]


def parse_number(text: str | None, argument: str) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(argument, f"must be a number, got {text!r}") from None


def parse_option_int(text: str | None, argument: str, minimum: int) -> int | None:
    """An optional integer option (None when not given), checked ``>= minimum``."""
    if text is None:
        return None
    value = parse_int(text, argument)
    if value < minimum:
        raise InputError(argument, f"must be an integer >= {minimum}, got {text!r}")
    return value


def parse_option_number(text: str | None, argument: str,
                        minimum: float | None = None) -> float | None:
    """An optional finite number option (None when not given), checked ``>= minimum``."""
    value = parse_number(text, argument)
    if value is None:
        return None
    if not math.isfinite(value):
        raise InputError(argument, f"must be a finite number, got {text!r}")
    if minimum is not None and value < minimum:
        raise InputError(argument, f"must be a finite number >= {minimum:g}, got {text!r}")
    return value


def _pair(args: argparse.Namespace):
    try:
        return as_pair(parse_vector(args.q1, "q1"), parse_vector(args.q0, "q0"),
                       normalize=args.normalize)
    except InputError as exc:
        raise command_line_words(exc) from None


def command_line_words(exc: InputError) -> InputError:
    """The error with the library's Python keyword said as the command line's flag
    (``normalize=True`` is ``--normalize``)."""
    return InputError(exc.argument, exc.rule.replace("pass normalize=True", "use --normalize"))


def _nats_bits(x: float) -> str:
    if math.isinf(x):
        return "inf"
    return f"{x:.10g} nats ({x / LN2:.10g} bits)"


# ------------------------------------------------------------------------------ commands
def kjs(args: argparse.Namespace) -> int:
    q1, q0 = _pair(args)
    K = parse_int(args.K, "K")
    res = kway_jsd_result(q1, q0, K, method=args.method, dps=args.dps)
    D = kl(q1, q0)
    if args.json:
        out = {"quantity": "D_KJS", "K": K, **res.as_dict(), "log_K_nats": math.log(K),
               "kl_nats": D if math.isfinite(D) else None}
        print(json.dumps(out, indent=2))
        return 0
    print(f"D_KJS(q1, q0) at K = {K}: {_nats_bits(float(res.value))}")
    if res.dps:
        print(f"  {res.dps} digits: {mpmath.nstr(res.value, res.dps)} nats")
    print(f"  method {res.method}, error estimate {res.error_estimate:.2g} nats")
    print(f"  log K = {_nats_bits(math.log(K))}; KL(q1||q0) = {_nats_bits(D)}")
    return 0


def divergence(args: argparse.Namespace) -> int:
    q1, q0 = _pair(args)
    K = parse_int(args.K, "K")
    nu = parse_number(args.nu, "nu")
    alpha = parse_number(args.alpha, "alpha")
    out: dict[str, object] = {"rule": args.rule, "K": K, "nu": nu, "alpha": alpha}
    if args.rule == "log":
        res = anchored_divergence_result(q1, q0, K, nu, method=args.method)
        out["anchored_divergence_nats"] = float(res.value)
        out["prior_entropy_nats"] = prior_entropy(K, nu)
        out["method"], out["error_estimate_nats"] = res.method, res.error_estimate
        if np.all((q0 > 0) | (q1 == 0)):
            out["divergence_nats"] = rule_divergence("log", q1, q0, K, nu, method=args.method)
    else:
        out["divergence_nats"] = rule_divergence(args.rule, q1, q0, K, nu, alpha,
                                                 method=args.method)
    if args.critic is not None:
        r = parse_vector(args.critic, "critic")
        at = population_objective_result(args.rule, r, q1, q0, K, nu, alpha, method=args.method)
        out["objective_nats"] = float(at.value)
        if "divergence_nats" in out:
            out["excess_risk_nats"] = float(at.value) + float(out["divergence_nats"])
    if args.json:
        print(json.dumps(out, indent=2))
        return 0
    print(f"rule {args.rule}, K = {K}, nu = {nu}" + (f", alpha = {alpha}" if alpha else ""))
    if "anchored_divergence_nats" in out:
        print(f"  anchored divergence I(Z; X_1:K) = H(prior) - L(r*) = "
              f"{_nats_bits(out['anchored_divergence_nats'])}")
    if "divergence_nats" in out:
        print(f"  -L(r*) = {_nats_bits(out['divergence_nats'])}  (Thm 6 / 19: -L(r) <= -L(r*))")
    if "objective_nats" in out:
        print(f"  L(r) = {out['objective_nats']:.10g} nats")
    if "excess_risk_nats" in out:
        print(f"  L(r) - L(r*) = {out['excess_risk_nats']:.10g} nats (>= 0)")
    return 0


def bounds_table(args: argparse.Namespace) -> int:
    q1, q0 = _pair(args)
    Ks = parse_slots(args.K)
    if not Ks or min(Ks) < 1:
        raise InputError("--K", "slot counts must be integers >= 1")
    D = kl(q1, q0)
    term = compile_expr(th.thm2_kl_term(), (th.D, th.K))
    rows = []
    for K in Ks:
        res = kway_jsd_result(q1, q0, K)
        t = float(term(D, K)) if math.isfinite(D) else math.inf
        finite = math.isfinite(D)  # q1 << q0: U_K(KL) and the chi^2 bound exist
        rows.append({"K": K, "kjs_nats": float(res.value), "error_estimate_nats":
                     res.error_estimate, "log_K_nats": math.log(K),
                     "thm2_kl_term_nats": t if math.isfinite(t) else None,
                     "thm2_bound_nats": min(math.log(K), t),
                     "thm2_holds": float(res.value) <= min(math.log(K), t) + res.error_estimate,
                     "envelope_nats": env.kjs_envelope(D, K) if finite else None,
                     "chi2_lower_bound_nats": env.chi2_lower_bound(q1, q0, K) if finite
                     else None})
    plot = None if args.no_plot else _plot(rows, D, Path(args.plot))
    if args.json:
        print(json.dumps({"kl_nats": D if math.isfinite(D) else None, "rows": rows,
                          "plot": plot}, indent=2))
        return 0
    print(f"KL(q1||q0) = {_nats_bits(D)}")
    print(f"{'K':>10} {'D_KJS [nats]':>14} {'log K [nats]':>13} {'Thm 2 KL term':>14} "
          f"{'bound holds':>11} {'U_K(KL) [nats]':>15} {'chi2 lower [nats]':>18}")

    def cell(x: float | None) -> str:
        return f"{x:.8f}" if x is not None else "n/a"
    for r in rows:
        t = r["thm2_kl_term_nats"]
        print(f"{r['K']:>10} {r['kjs_nats']:>14.8f} {r['log_K_nats']:>13.8f} "
              f"{(f'{t:.8f}' if t is not None else 'inf'):>14} "
              f"{'yes' if r['thm2_holds'] else 'NO':>11} {cell(r['envelope_nats']):>15} "
              f"{cell(r['chi2_lower_bound_nats']):>18}")
    if any(not r["thm2_holds"] for r in rows):
        print("Thm 2's bound fails at some K here (see claim thm2.c of infonce-anchor verify)")
    if math.isfinite(D):
        print("D - log(1 + chi^2/K) <= D_KJS <= U_K(KL) = log K - E log(1 + Bin(K-1, e^-KL)), "
              "the largest D_KJS found at this KL (claims thm2.lower-bound, thm2.envelope)")
    else:
        print("KL is infinite (q1 puts mass where q0 has none): U_K(KL) and the chi^2 bound "
              "are n/a")
    if plot:
        print(f"plot written to {plot}")
    return 0


def _plot(rows: list[dict], D: float, path: Path) -> str:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("--plot", "matplotlib is not installed (pip install "
                         "'infonce-anchor[notebooks]') ; use --no-plot") from None
    Ks = [r["K"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(Ks, [r["kjs_nats"] for r in rows], "o-", label="D_KJS (exact)")
    ax.plot(Ks, [r["log_K_nats"] for r in rows], "--", label="log K")
    if math.isfinite(D):
        ax.axhline(D, color="k", lw=0.8, label="KL(q1||q0)")
        ax.plot(Ks, [r["thm2_kl_term_nats"] for r in rows], ":",
                label="D - log((e^D - 1)/K + 1)")
        ax.plot(Ks, [r["envelope_nats"] for r in rows], "s-", ms=3,
                label="U_K(D): largest D_KJS at this KL")
        ax.plot(Ks, [r["chi2_lower_bound_nats"] for r in rows], "v-", ms=3,
                label="D - log(1 + chi^2/K) (lower bound)")
        if D > 0:  # log K runs off the top: the bounds near D stay readable
            low = min(0.0, *(r["chi2_lower_bound_nats"] for r in rows))
            ax.set_ylim(low - 0.05 * (1.25 * D - low), 1.25 * D)
    ax.set_xscale("log")
    ax.set_xlabel("K (slots)")
    ax.set_ylabel("nats")
    ax.set_title("K-way JSD against the bounds of Prop 1 / Thm 2 (corrected)")
    ax.legend()
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise InputError("--plot", f"cannot write {path}: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return str(path)


# ------------------------------------------------------------------------------ envelope
UNITS = {"nats": 1.0, "bits": LN2}
#: The search of ``envelope --search``: a few seeded SLSQP starts on small alphabets.
SEARCH = {"letters": (2, 3, 4), "starts": 3, "seed": 0}


def _thm2_bound(D: float, K: int) -> float:
    """Thm 2's ``min{log K, D - log((e^D - 1)/K + 1)}`` (nats), without overflow at large D:
    ``log(e^D - 1) = D + log(1 - e^{-D})``."""
    log_em1 = D + math.log(-math.expm1(-D))
    return min(math.log(K), D - float(np.logaddexp(log_em1 - math.log(K), 0.0)))


def envelope_table(args: argparse.Namespace) -> int:
    """``infonce-anchor envelope``: the range ``(0, U_K(D)]`` of D_KJS at ``KL = D`` per K."""
    if args.unit not in UNITS:
        raise InputError("--unit", f"must be bits or nats, got {args.unit!r}")
    value = parse_number(args.D, "--D")
    if not math.isfinite(value) or value <= 0:
        raise InputError("--D", f"the KL divergence must be a finite number > 0, got {args.D!r}")
    D = value * UNITS[args.unit]
    Ks = parse_slots(args.K)
    if not Ks or min(Ks) < 1:
        raise InputError("--K", "slot counts must be integers >= 1")
    rows = []
    for K in Ks:
        row = {"K": K, "envelope": env.kjs_envelope(D, K),
               "closed_form_upper_bound": env.envelope_upper_bound(D, K),
               "thm2_bound": _thm2_bound(D, K), "prop1_bound": min(math.log(K), D),
               "infimum": 0.0}
        if args.search:
            found = env.search_envelope(D, K, **SEARCH)
            row["search"] = {"kjs": found.kjs, "kl": found.kl, "envelope_at_kl": found.envelope,
                             "excess": found.excess, "q1": found.q1, "q0": found.q0,
                             "letters": found.letters, "runs": found.runs}
        rows.append(row)
    if args.json:
        print(json.dumps(_envelope_json(D, args.unit, rows), indent=2))
        return 0
    scale, unit = UNITS[args.unit], args.unit

    def show(x: float) -> str:
        return f"{x / scale:.10g} {unit}"
    print(f"KL(q1||q0) = D = {show(D)}: over pairs with this KL, D_KJS ranges over "
          "(0, U_K(D)]")
    print("U_K(D) = log K - E log(1 + Bin(K-1, e^-D)) is reached when q1/q0 is constant on "
          "supp q1; no pair found exceeds it (a conjecture, claim thm2.envelope)")
    for r in rows:
        print(f"K = {r['K']}:")
        flag = "  (below U_K(D): not an upper bound)" if \
            r["thm2_bound"] < r["envelope"] - 1e-12 else ""
        for label, x, tail in (
                ("U_K(D)", r["envelope"], ""),
                ("upper bound D + log(1 - (1 - e^-D)^K)", r["closed_form_upper_bound"], ""),
                ("Thm 2: min{log K, D - log((e^D-1)/K+1)}", r["thm2_bound"], flag),
                ("min{log K, D} (Prop 1)", r["prop1_bound"], ""),
                ("infimum (not attained)" if r["K"] > 1 else "infimum (K = 1: D_KJS = 0)",
                 0.0, "")):
            print(f"  {label:<41} {show(x)}{tail}")
        if "search" in r:
            f = r["search"]
            print(f"  search ({f['runs']} SLSQP runs, 2-4 letters): best D_KJS {show(f['kjs'])} "
                  f"at KL {show(f['kl'])}; U_K(KL) {show(f['envelope_at_kl'])}, excess "
                  f"{f['excess'] / scale:.2g} {unit}")
    return 0


def _envelope_json(D: float, unit: str, rows: list[dict]) -> dict:
    def both(name: str, x: float) -> dict:
        return {f"{name}_nats": x, f"{name}_bits": x / LN2}

    out_rows = []
    for r in rows:
        row: dict[str, object] = {"K": r["K"]}
        for name in ("envelope", "closed_form_upper_bound", "thm2_bound", "prop1_bound",
                     "infimum"):
            row.update(both(name, r[name]))
        if "search" in r:
            f = r["search"]
            row["search"] = {**both("kjs", f["kjs"]), **both("kl", f["kl"]),
                             **both("envelope_at_kl", f["envelope_at_kl"]),
                             **both("excess", f["excess"]), "q1": f["q1"], "q0": f["q0"],
                             "letters": f["letters"], "runs": f["runs"]}
        out_rows.append(row)
    return {"quantity": "range of D_KJS at KL(q1||q0) = D: (0, U_K(D)]", "unit_given": unit,
            **both("D", D), "rows": out_rows}
