"""``infonce-anchor bench CONFIG``: run (or resume) a benchmark sweep and write its tables and
staircase plots (issue #5).

Outputs in ``--out`` (default ``bench-results/<name>``): ``units/*.npz`` (one per finished
training), ``config.json``, ``levels.json`` (per-run estimates per level, nats: what the claims
read), ``summary.csv`` / ``summary.json`` (bias, sd, MSE in bits per
estimator, critic, batch size, source and level), ``tables.md`` and ``staircase_B<B>.png``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

from infonce_anchor.exact_cli import parse_int
from theory.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("bench", help="run or resume an MI-estimation benchmark sweep from a "
                       "TOML config (Sec. 4.1, Figs. 1 and 3) and write its tables and plots")
    b.add_argument("config", metavar="CONFIG.toml", help="the sweep (see benchmarks/configs/)")
    b.add_argument("--out", metavar="DIR", help="results directory (default "
                   "bench-results/<config name>); finished units there are skipped")
    b.add_argument("--device", metavar="DEV", help="cpu | cuda (default: cuda if available)")
    b.add_argument("--max-units", metavar="N", help="stop after N more units (resume later)")
    b.add_argument("--group", action="store_true",
                   help="train the trainings of one critic, batch size and seed block together "
                   "in one batched critic (same numbers up to rounding; fewer GPU launches)")
    b.add_argument("--cuda-graphs", action="store_true",
                   help="replay each training step as a CUDA graph (same numbers, far fewer "
                   "kernel launches; constant lr, not MINE)")
    b.add_argument("--precision", choices=("fp32", "tf32", "bf16"),
                   help="override the config's train.precision (bf16: autocast of the critic)")
    b.add_argument("--report-only", action="store_true",
                   help="train nothing: tables and plots from the finished units")
    b.add_argument("--no-plots", action="store_true", help="skip the PNGs")
    b.add_argument("--source", default="heldout", choices=("heldout", "train"),
                   help="which estimate the printed table shows (both are in summary.csv)")
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    b.add_argument("--json", action="store_true", help="print JSON")


def bench(args: argparse.Namespace) -> int:
    from numerics.bench.config import SweepConfig
    config = SweepConfig.from_file(args.config)
    if args.precision is not None:   # before anything reads the units: part of their hash
        config.train["precision"] = args.precision
    out = Path(args.out) if args.out else Path("bench-results") / config.name
    max_units = None
    if args.max_units is not None:
        max_units = parse_int(args.max_units, "--max-units")
        if max_units < 0:
            raise InputError("--max-units", f"must be >= 0, got {max_units}")
    status = {"units": len(config.units()), "ran": 0, "seconds": 0.0}
    if not args.report_only:
        status = _run(config, out, args, max_units)
    result = write_report(config, out, plots=not args.no_plots, source=args.source)
    result.update({"ran": status.get("ran", 0),
                   "train_seconds": round(status.get("seconds", 0.0), 2)})
    if args.json:
        print(json.dumps(_strict(result), indent=2, default=_json_default))
    else:
        _print(result, args.source)
    return 0


def write_report(config, out: Path, *, plots: bool = True, source: str = "heldout") -> dict:
    """The sweep's tables (``summary.csv`` / ``.json``, ``tables.md``), ``levels.json`` and
    staircase plots from its finished units in ``out``; returns what ``bench --json`` prints
    (without the training counts)."""
    from numerics.bench.runner import load_units
    from numerics.bench.summary import level_table, overview_rows, summary_rows
    done, missing = load_units(config, out)
    rows = summary_rows(config, out)
    out.mkdir(parents=True, exist_ok=True)
    _write_tables(rows, overview_rows(rows), out)
    (out / "levels.json").write_text(json.dumps(_strict(level_table(config, out)), indent=1,
                                                default=_json_default))
    pngs = _plots(config, done, out) if plots and done else []
    return {"config": config.name, "out": str(out), "units": len(done) + len(missing),
            "finished": len(done), "missing": len(missing), "plots": pngs,
            "device": done[0][1].meta.get("device") if done else None,
            "overview": overview_rows(rows, source), "rows": rows}


def _run(config, out: Path, args, max_units):
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("bench", "needs torch (pip install 'infonce-anchor[torch]')") from None
    from numerics.bench.runner import run_sweep
    from numerics.neural.device import resolve_device
    device = resolve_device(args.device)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    # a seed that diverges is kept as NaN in its unit (numerics.bench.staircase.run_staircase)
    return run_sweep(config, out, device=device, progress=not args.quiet, max_units=max_units,
                     log=log, group=args.group, graphs=args.cuda_graphs)


def _plots(config, done, out: Path) -> list[str]:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("note: no plots (matplotlib is not installed)", file=sys.stderr)
        return []
    from infonce_anchor.bench_plots import staircase_figure
    return [str(staircase_figure(config, done, B, out / f"staircase_B{B}.png"))
            for B in sorted({unit.batch_size for unit, _ in done})]


COLUMNS = ("estimator", "label", "reports", "source", "critic", "batch_size", "level",
           "true_bits", "mean_bits", "bias_bits", "sd_bits", "mse_bits2", "runs", "diverged",
           "steps_per_level", "lr", "loss_kwargs")


def _write_tables(rows: list[dict], overview: list[dict], out: Path) -> None:
    with (out / "summary.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    (out / "summary.json").write_text(json.dumps(_strict(rows), indent=1,
                                                 default=_json_default))
    lines = ["## Overview: held-out estimates, averaged over the levels", "",
             "| estimator | critic | B | mean abs bias (bits) | mean MSE (bits^2) | "
             "top level: mean / true (bits) | runs |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r['label']} | {r['critic']} | {r['batch_size']} | "
              f"{r['mean_abs_bias_bits']:.3f} | {r['mean_mse_bits2']:.3f} | "
              f"{r['top_level_mean_bits']:.2f} / {r['top_level_true_bits']:.2f} | {r['runs']} |"
              for r in overview]
    lines.append("")
    for source in ("heldout", "train"):
        sel = [r for r in rows if r["source"] == source]
        if not sel:
            continue
        lines += [f"## {source} estimates (bits)", "",
                  "| estimator | critic | B | true | mean | bias | sd | MSE (bits^2) | runs |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['label']} | {r['critic']} | {r['batch_size']} | {r['true_bits']:.2f} | "
                  f"{r['mean_bits']:.3f} | {r['bias_bits']:+.3f} | {r['sd_bits']:.3f} | "
                  f"{r['mse_bits2']:.3f} | {r['runs']} |" for r in sel]
        lines.append("")
    (out / "tables.md").write_text("\n".join(lines))


def _strict(obj):
    """NaN / inf (e.g. the sd of one run) as null: strict JSON, readable by any parser."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    return obj


def _json_default(v):
    return None if isinstance(v, float) and math.isnan(v) else str(v)


def _print(result: dict, source: str) -> None:
    print(f"{result['config']}: {result['finished']} of {result['units']} units finished "
          f"({result['ran']} trained now, {result['train_seconds']} s); results in "
          f"{result['out']}")
    sel = [r for r in result["rows"] if r["source"] == source]
    if sel:
        print(f"{source} estimates, bits (bias = mean - true; MSE in bits^2):")
        print(f"{'estimator':<28}{'critic':<10}{'B':>4}{'true':>7}{'mean':>8}{'bias':>8}"
              f"{'sd':>7}{'MSE':>8}{'runs':>5}")
        for r in sel:
            print(f"{r['label']:<28}{r['critic']:<10}{r['batch_size']:>4}{r['true_bits']:>7.2f}"
                  f"{r['mean_bits']:>8.3f}{r['bias_bits']:>+8.3f}{r['sd_bits']:>7.3f}"
                  f"{r['mse_bits2']:>8.3f}{r['runs']:>5}")
        print(f"overview, averaged over the levels ({source}):")
        print(f"{'estimator':<28}{'critic':<10}{'B':>4}{'mean |bias| bits':>18}"
              f"{'mean MSE bits^2':>17}")
        for r in result["overview"]:
            print(f"{r['label']:<28}{r['critic']:<10}{r['batch_size']:>4}"
                  f"{r['mean_abs_bias_bits']:>18.3f}{r['mean_mse_bits2']:>17.3f}")
    for p in result["plots"]:
        print(f"plot: {p}")
