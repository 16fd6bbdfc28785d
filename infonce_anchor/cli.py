"""Command line: ``infonce-anchor verify | tables | rule | kjs | divergence | bounds | envelope |
train | bench | ssl``.

Every command has ``--json``; bad input prints one line ``error: <argument>: <rule>`` on stderr
and exits with status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from infonce_anchor import bench_cli, exact_cli, report, ssl_cli, train_cli
from infonce_anchor.claims.benchmark import ENV
from infonce_anchor.claims.catalogue import select
from infonce_anchor.claims.registry import run_all
from theory import tables
from theory.analysis import analyse_user_rule
from theory.errors import InputError


class _Parser(argparse.ArgumentParser):
    """argparse with the toolkit's error convention: one line ``error: ...``, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f"error: {self.prog}: {message} (see --help)", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="infonce-anchor", description=(
        "Check and use the mathematics of InfoNCE-anchor (proper scoring rules, K-way JSD)."))
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("verify", help="the claims report: every statement of the paper, how it "
                       "was checked, what came out")
    v.add_argument("--json", action="store_true", help="print JSON {claims: [...]} instead")
    v.add_argument("--bench-results", metavar="DIR", help="benchmark sweep results to check "
                   "Figs. 1 / 3 on (DIR/<sweep name>/levels.json, e.g. bench-results); default: "
                   "the results shipped in infonce_anchor/shipped_results")
    v.add_argument("--markdown", metavar="FILE", help="also write the report as Markdown")
    v.add_argument("--only", nargs="+", metavar="PATTERN", help="claim ids or globs (thm2.*)")
    v.add_argument("--layer", nargs="+", choices=["symbolic", "exact", "sampled", "benchmark",
                                                  "external"], help="only these layers")
    v.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                   help="processes for the checks (default: up to 2)")

    t = sub.add_parser("tables", help="regenerate Tables 3-7 from the generating functions")
    t.add_argument("--format", default="markdown", help="markdown | latex | json")
    t.add_argument("--out", metavar="DIR", help="write one file per table into DIR")
    t.add_argument("--classes", type=int, default=2, metavar="M", help="M for Table 4 (default 2)")
    t.add_argument("--json", action="store_true", help="same as --format json")

    r = sub.add_parser("rule", help="your own generating function: the rule, its propriety "
                       "verdict and its DRE objectives")
    r.add_argument("expression", help="Psi in rho (rho1..rhoM) or Phi in eta0..etaM; an "
                   "expression starting with '-' goes last, after '--'")
    kind = r.add_mutually_exclusive_group(required=True)
    kind.add_argument("--symmetric", action="store_true", help="Phi on the simplex (Eq. 8)")
    kind.add_argument("--asymmetric", action="store_true", help="Psi on {1} x R_+^M (Eq. 6)")
    r.add_argument("--classes", type=int, default=1, metavar="M", help="classes 0..M (default 1)")
    r.add_argument("--param", action="append", default=[], metavar="NAME[=VALUE]",
                   help="declare a parameter (kept symbolic) or fix its value; alpha is declared "
                   "by default")
    r.add_argument("--json", action="store_true", help="print JSON")

    exact_cli.add_parsers(sub)
    train_cli.add_parser(sub)
    bench_cli.add_parser(sub)
    ssl_cli.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "verify":
            return _verify(args)
        if args.command == "tables":
            return _tables(args)
        if args.command in ("kjs", "divergence", "bounds", "envelope"):
            handler = {"kjs": exact_cli.kjs, "divergence": exact_cli.divergence,
                       "bounds": exact_cli.bounds_table,
                       "envelope": exact_cli.envelope_table}[args.command]
            return handler(args)
        if args.command == "train":
            return train_cli.train(args)
        if args.command == "bench":
            return bench_cli.bench(args)
        if args.command == "ssl":
            return ssl_cli.ssl(args)
        return _rule(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into head
        return 0


# ------------------------------------------------------------------------------ verify
def _verify(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise InputError("--workers", f"must be >= 1, got {args.workers}")
    if args.bench_results:
        if not Path(args.bench_results).is_dir():
            raise InputError("--bench-results", f"no such directory: {args.bench_results}")
        os.environ[ENV] = str(Path(args.bench_results).resolve())
    claims = select(args.only, args.layer)
    if not claims:
        raise InputError("--only", f"no claim matches {args.only}; see infonce-anchor verify")
    results = run_all(claims, workers=args.workers)
    if args.markdown:
        _write(Path(args.markdown), report.as_markdown(results), "--markdown")
    print(report.as_json(results) if args.json else report.as_table(results))
    crashed = [r.claim.id for r in results if r.crashed]
    if crashed:
        print(f"error: checks crashed: {', '.join(crashed)}", file=sys.stderr)
        return 1
    return 0


def _write(path: Path, text: str, argument: str) -> None:
    try:
        path.write_text(text)
    except OSError as exc:
        raise InputError(argument, f"cannot write {path} ({exc.strerror})") from None


# ------------------------------------------------------------------------------ tables
def _tables(args: argparse.Namespace) -> int:

    fmt = "json" if args.json else args.format
    rendered = tables.render(fmt, args.classes)
    if args.out:
        out = Path(args.out)
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError("--out", f"cannot create directory {out} ({exc.strerror})") from None
        ext = {"markdown": "md", "latex": "tex", "json": "json"}[fmt]
        for key, text in rendered.items():
            _write(out / f"{key}.{ext}", text + "\n", "--out")
            print(out / f"{key}.{ext}")
        return 0
    if fmt == "json":
        print(json.dumps({k: json.loads(v) for k, v in rendered.items()}, indent=2))
    else:
        print("\n".join(rendered.values()))
    return 0


# -------------------------------------------------------------------------------- rule
def _params(specs: list[str]) -> dict[str, object]:
    params: dict[str, object] = {"alpha": None}
    for spec in specs:
        name, _, value = spec.partition("=")
        if not name.isidentifier():
            raise InputError("--param", f"expected NAME or NAME=VALUE, got {spec!r}")
        if value:
            try:
                params[name] = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise InputError("--param", f"value of {name} must be a number, "
                                 f"got {value!r}") from None
        else:
            params[name] = None
    return params


def _rule(args: argparse.Namespace) -> int:

    kind = "symmetric" if args.symmetric else "asymmetric"
    result = analyse_user_rule(args.expression, kind=kind, classes=args.classes,
                               parameters=_params(args.param))
    print(json.dumps(result.as_json(), indent=2) if args.json else result.as_text())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
