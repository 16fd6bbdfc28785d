"""``infonce-anchor ssl CONFIG``: run (or resume) a self-supervised sweep (Sec. 4.3, Table 2,
App. G.3) and write its report.

Outputs in ``--out`` (default ``ssl-results/<name>``): ``units/*.json`` (one per finished
method x seed, reused by a rerun; :mod:`numerics.ssl.sweep`), ``config.json``, and the report
(:mod:`infonce_anchor.ssl_report`): ``summary.json`` (every unit record, per-method rows in %,
paired comparisons in accuracy points, the units not yet run, the paper's Table 2),
``summary.csv``, ``tables.md`` and ``accuracy.png``.  Needs torch and scikit-learn.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from infonce_anchor.exact_cli import parse_option_int
from theory.errors import InputError

#: what the numbers printed by ``ssl --json`` are measured in
JSON_UNITS = {"rows: top1_*, top5_*": "% of the test set",
              "comparisons: mean, sd, ci95": "accuracy points (% - %)", "train_seconds": "s"}


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``ssl`` subcommand and its options."""
    s = sub.add_parser("ssl", help="run or resume a self-supervised sweep from a TOML config "
                       "(Sec. 4.3, Table 2) and write its accuracy tables and plot")
    s.add_argument("config", metavar="CONFIG.toml",
                   help="the sweep (see benchmarks/configs/ssl-*.toml)")
    s.add_argument("--out", metavar="DIR", help="results directory (default "
                   "ssl-results/<config name>); finished units there are reused")
    s.add_argument("--device", metavar="DEV", help="cpu | cuda (default: cuda if available)")
    s.add_argument("--max-units", metavar="N", help="train at most N more units (resume later)")
    s.add_argument("--report-only", action="store_true",
                   help="train nothing: the report from the finished units")
    s.add_argument("--threads", metavar="N",
                   help="CPU threads for torch (and the probe's BLAS) while this runs")
    s.add_argument("--no-plots", action="store_true", help="skip accuracy.png")
    s.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    s.add_argument("--json", action="store_true", help="print JSON")


def ssl(args: argparse.Namespace) -> int:
    """Run the ``ssl`` command: train the missing units (unless ``--report-only``), write the
    report, print it."""
    threads = parse_option_int(args.threads, "--threads", minimum=1)
    max_units = parse_option_int(args.max_units, "--max-units", minimum=0)
    require_torch()
    from numerics.ssl.sweep import load_config
    config = load_config(args.config)
    out = Path(args.out) if args.out else Path("ssl-results") / config.name
    status = {"ran": 0, "seconds": 0.0}
    with thread_limit(threads):
        if args.report_only:
            check_has_results(out)
        else:
            status = train(config, out, args, max_units)
        result = report(config, out, plots=not args.no_plots)
    result.update(ran=status["ran"], train_seconds=round(status["seconds"], 2))
    if args.json:
        print(json.dumps(json_view(result), indent=2, allow_nan=False))
    else:
        print_result(config, result)
    return 0


def require_torch() -> None:
    """An InputError unless torch and scikit-learn import."""
    try:
        import sklearn  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        raise InputError("ssl", "needs torch and scikit-learn "
                         "(pip install 'infonce-anchor[ssl]')") from None


@contextlib.contextmanager
def thread_limit(threads: int | None):
    """While inside: torch on ``threads`` CPU threads (and the BLAS of the probe, where
    threadpoolctl is installed); the previous settings afterwards.  None: unchanged."""
    if threads is None:
        yield
        return
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with blas_limit(threads):
            yield
    finally:
        torch.set_num_threads(before)


def blas_limit(threads: int):
    """threadpoolctl's limit on the BLAS / OpenMP pools (a no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=threads)


def check_has_results(out: Path) -> None:
    """``--report-only`` needs a results folder with a ``units/`` folder."""
    if not (out / "units").is_dir():
        raise InputError("--report-only", f"{out} holds no results (no units/ folder); run "
                         "without --report-only first")


def train(config, out: Path, args: argparse.Namespace, max_units: int | None) -> dict:
    """Run or resume the sweep into ``out`` (progress lines on stderr unless ``--quiet``)."""
    from numerics.neural.device import resolve_device
    from numerics.ssl.sweep import run_sweep
    device = resolve_device(args.device)
    try:
        (out / "units").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError("--out", f"cannot create directory {out} ({exc.strerror})") from None
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    return run_sweep(config, out, device=device, max_units=max_units, log=log)


def report(config, out: Path, *, plots: bool) -> dict:
    """The report of the finished units in ``out`` (files written); what ``--json`` needs."""
    from infonce_anchor.ssl_report import write_report
    from numerics.ssl.sweep import load_records
    records, missing = load_records(config, out)
    written = write_report(config, out, records, [u.name for u in missing], plots=plots)
    summary = written["summary"]
    return {"out": str(out), "units": len(config.units()), "measured_in": JSON_UNITS,
            "rows": summary["rows"],
            "comparisons": summary["comparisons"], "missing": summary["missing"],
            "files": written["files"], "total": len(config.units())}


def json_view(result: dict) -> dict:
    """``ssl --json``: out, units (how many the config has), measured_in (what the numbers are
    in), ran, train_seconds, rows, comparisons, missing, files."""
    keys = ("out", "units", "measured_in", "ran", "train_seconds", "rows", "comparisons",
            "missing", "files")
    return {k: result[k] for k in keys}


# ------------------------------------------------------------------------------ the terminal
def print_result(config, result: dict) -> None:
    """The accuracy table, the paired comparisons and the files, units on every number."""
    done = result["total"] - len(result["missing"])
    print(f"{config.name}: {done} of {result['total']} units finished ({result['ran']} "
          f"trained now, {result['train_seconds']} s); results in {result['out']}")
    print("linear-probe test accuracy, % (mean +/- sd over seeds):")
    print(f"{'method':<18}{'top-1 %':>18}{'top-5 %':>18}{'seeds':>7}{'diverged':>10}")
    for r in result["rows"]:
        print(f"{r['label']:<18}{percent(r['top1_mean'], r['top1_sd']):>18}"
              f"{percent(r['top5_mean'], r['top5_sd']):>18}{r['seeds']:>7}{r['diverged']:>10}")
    labels = config.labels
    if result["comparisons"]:
        print("paired differences of top-1 (a - b per seed; mean, 95 % t interval), "
              "accuracy points:")
    for c in result["comparisons"]:
        print(f"  {labels[c['a']] + ' - ' + labels[c['b']]:<30}{points(c)}")
    for path in result["files"]:
        print(f"wrote {path}")


def percent(mean: float | None, sd: float | None) -> str:
    """``mean +/- sd %`` (two decimals), or ``-``."""
    if mean is None:
        return "-"
    return f"{mean:.2f} %" if sd is None else f"{mean:.2f} +/- {sd:.2f} %"


def points(c: dict) -> str:
    """One comparison: mean and interval in accuracy points, and the seed count."""
    if c["mean"] is None:
        return "no seed run by both"
    ci = "" if c["ci95"] is None else \
        f", 95 % interval [{c['ci95'][0]:+.2f}, {c['ci95'][1]:+.2f}] points"
    return f"{c['mean']:+.2f} points{ci} (n = {c['n']} seed{'s' * (c['n'] != 1)})"
