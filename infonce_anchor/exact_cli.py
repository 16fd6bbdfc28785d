"""``infonce-anchor kjs | divergence | bounds``: the exact-numerics layer from the command line.

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
        rows.append({"K": K, "kjs_nats": float(res.value), "error_estimate_nats":
                     res.error_estimate, "log_K_nats": math.log(K),
                     "thm2_kl_term_nats": t if math.isfinite(t) else None,
                     "thm2_bound_nats": min(math.log(K), t),
                     "thm2_holds": float(res.value) <= min(math.log(K), t) + res.error_estimate})
    plot = None if args.no_plot else _plot(rows, D, Path(args.plot))
    if args.json:
        print(json.dumps({"kl_nats": D if math.isfinite(D) else None, "rows": rows,
                          "plot": plot}, indent=2))
        return 0
    print(f"KL(q1||q0) = {_nats_bits(D)}")
    print(f"{'K':>10} {'D_KJS [nats]':>14} {'log K [nats]':>13} {'Thm 2 KL term':>14} "
          f"{'bound holds':>11}")
    for r in rows:
        t = r["thm2_kl_term_nats"]
        print(f"{r['K']:>10} {r['kjs_nats']:>14.8f} {r['log_K_nats']:>13.8f} "
              f"{(f'{t:.8f}' if t is not None else 'inf'):>14} "
              f"{'yes' if r['thm2_holds'] else 'NO':>11}")
    if any(not r["thm2_holds"] for r in rows):
        print("Thm 2's bound fails at some K here (see claim thm2.c of infonce-anchor verify)")
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
    ax.set_xscale("log")
    ax.set_xlabel("K (slots)")
    ax.set_ylabel("nats")
    ax.set_title("K-way JSD against the bounds of Prop 1 / Thm 2")
    ax.legend()
    fig.tight_layout()
    try:
        fig.savefig(path)
    except OSError as exc:
        raise InputError("--plot", f"cannot write {path}: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return str(path)
