"""``infonce-anchor bench CONFIG``: run (or resume) a benchmark sweep and write its tables and
staircase plots (issue #5).

Outputs in ``--out`` (default ``bench-results/<name>``): ``units/*.npz`` (one per finished
training), ``config.json``, ``levels.json`` (per-run estimates per level, nats: what the claims
read, and ``targets``: what the slot objectives converge to per level, issue #13),
``summary.csv`` / ``summary.json`` (bias, sd, MSE in bits per estimator, critic, batch size,
source and level, with ``D_KJS(K = B - 1)`` and InfoNCE's bias against it), ``tables.md``,
``staircase_B<B>.png`` (training curves) and ``heldout_B<B>.png`` (held-out estimates per level).
``--summarize-only`` rebuilds all but the training-curve plots from ``levels.json`` alone (a
results folder without its unit files, such as the shipped ones), adding the targets and
changing no estimate.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from pathlib import Path

from infonce_anchor.exact_cli import parse_option_int, parse_option_number
from infonce_anchor.output import have_matplotlib, strict_json
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
    b.add_argument("--summarize-only", action="store_true",
                   help="train nothing, read no units: rebuild the tables, targets and "
                   "held-out plots of OUT from its levels.json (estimates unchanged)")
    b.add_argument("--no-plots", action="store_true", help="skip the PNGs")
    b.add_argument("--source", default="heldout", choices=("heldout", "train"),
                   help="which estimate the printed table shows (both are in summary.csv)")
    b.add_argument("--executor", default="serial", choices=("serial", "ray"),
                   help="serial: the units one after another here (default); ray: each unit "
                   "(group) as a Ray task, on a local Ray runtime or the cluster at --address")
    b.add_argument("--address", metavar="ADDR", help="ray: a running cluster to join (e.g. "
                   "auto, or HEAD_IP:6379); default: start a local runtime")
    b.add_argument("--cpus-per-unit", metavar="C", help="ray: CPUs per task, also its torch "
                   "threads (default 1)")
    b.add_argument("--gpus-per-unit", metavar="G", help="ray: GPUs per task (default 0: "
                   "train on the CPU; > 0: on CUDA)")
    b.add_argument("--retries", metavar="N", help="ray: retries of a task whose worker died "
                   "(default 2); then its units are recorded in OUT/failed/")
    b.add_argument("--quiet", action="store_true", help="no progress bars")
    b.add_argument("--json", action="store_true", help="print JSON")


def bench(args: argparse.Namespace) -> int:
    from numerics.bench.config import SweepConfig
    config = SweepConfig.from_file(args.config)
    if args.precision is not None:   # before anything reads the units: part of their hash
        config.train["precision"] = args.precision
    out = Path(args.out) if args.out else Path("bench-results") / config.name
    max_units = parse_option_int(args.max_units, "--max-units", 0)
    status = {"units": len(config.units()), "ran": 0, "seconds": 0.0}
    if (args.summarize_only or args.report_only) and (args.executor != "serial" or any(
            v is not None for v in (args.address, args.cpus_per_unit, args.gpus_per_unit,
                                    args.retries))):
        raise InputError("--executor", "--report-only and --summarize-only train nothing, so "
                         "they take no executor options")
    if args.summarize_only:
        result = write_summaries_from_levels(config, out, plots=not args.no_plots,
                                             source=args.source)
    else:
        if args.report_only:
            _refuse_to_empty(config, out)
        else:
            status = _run(config, out, args, max_units)
        result = write_report(config, out, plots=not args.no_plots, source=args.source)
    result.update({"ran": status.get("ran", 0),
                   "train_seconds": round(status.get("seconds", 0.0), 2),
                   "failed": status.get("failed", [])})
    if args.json:
        print(json.dumps(strict_json(result), indent=2, default=_json_default))
    else:
        _print(result, args.source)
    return 0


def write_report(config, out: Path, *, plots: bool = True, source: str = "heldout",
                 targets: bool = True) -> dict:
    """The sweep's tables (``summary.csv`` / ``.json``, ``tables.md``), ``levels.json`` and
    staircase plots from its finished units in ``out``; returns what ``bench --json`` prints
    (without the training counts).  ``targets=False`` skips the targets (seconds to minutes
    of CPU Monte Carlo; ``--summarize-only`` adds them later)."""
    from numerics.bench.runner import load_units
    from numerics.bench.summary import (
        attach_targets,
        level_table,
        overview_rows,
        summary_rows,
        sweep_targets,
        with_targets,
    )
    done, missing = load_units(config, out)
    rows = summary_rows(config, out)
    record = level_table(config, out)
    sizes = sorted({e["batch_size"] for e in record["entries"]})
    found = sweep_targets(config, sizes) if sizes and targets else None
    if found is not None:
        record = with_targets(record, found)
    attach_targets(rows, found, config)
    out.mkdir(parents=True, exist_ok=True)
    _write_tables(rows, overview_rows(rows), out, found)
    (out / "levels.json").write_text(json.dumps(strict_json(record), indent=1,
                                                default=_json_default))
    pngs = _plots(config, done, out, record) if plots and done else []
    return {"config": config.name, "out": str(out), "units": len(done) + len(missing),
            "finished": len(done), "missing": len(missing), "plots": pngs,
            "device": done[0][1].meta.get("device") if done else None,
            "overview": overview_rows(rows, source), "rows": rows, "targets": found}


def write_summaries_from_levels(config, out: Path, *, plots: bool = True,
                                source: str = "heldout") -> dict:
    """``--summarize-only``: the tables, ``levels.json`` with its ``targets`` and the held-out
    plots of ``out`` rebuilt from ``out/levels.json`` alone (no unit files needed; the training
    curves of ``staircase_B<B>.png`` need them and are left as they are).  The record's
    estimates and settings are kept as they are; ``config`` must describe the same task and
    name every estimator of the record.  Returns what ``bench --json`` prints."""
    from numerics.bench.summary import (
        attach_targets,
        overview_rows,
        record_rows,
        sweep_targets,
        with_targets,
    )
    path = out / "levels.json"
    try:
        record = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError("--summarize-only", f"no {path} to summarise") from None
    except json.JSONDecodeError as exc:
        raise InputError("--summarize-only", f"{path} is not valid JSON ({exc})") from None
    _check_same_task(config, record, path)
    rows = record_rows(record, config)
    sizes = sorted({e["batch_size"] for e in record["entries"]})
    targets = sweep_targets(config, sizes) if sizes else None
    if targets is not None:
        record = with_targets(record, targets)
    attach_targets(rows, targets, config)
    _write_tables(rows, overview_rows(rows), out, targets)
    path.write_text(json.dumps(strict_json(record), indent=1, default=_json_default))
    pngs = []
    if plots and sizes:
        pngs = _heldout_plots(config, record, out)
    units = len(config.units())
    return {"config": record.get("name", config.name), "out": str(out), "units": units,
            "finished": units - record.get("missing_units", 0),
            "missing": record.get("missing_units", 0), "plots": pngs,
            "device": (record.get("devices") or [None])[0],
            "overview": overview_rows(rows, source), "rows": rows, "targets": targets}


def _check_same_task(config, record: dict, path: Path) -> None:
    """The record's task is the config's (the targets depend on it), else an error."""
    keys = ("kind", "levels_bits", "steps_per_level") + (
        ("dim",) if "gaussian" in config.task["kind"] else ("d", "classes", "path"))
    a = {k: config.task.get(k) for k in keys}
    b = {k: record["task"].get(k) for k in keys}
    a["levels_bits"] = [float(v) for v in a["levels_bits"]]
    b["levels_bits"] = [float(v) for v in (b["levels_bits"] or [])]
    if a != b:
        raise InputError("config", f"{config.source or config.name} describes another task "
                         f"than {path} ({a} vs {b})")


def _refuse_to_empty(config, out: Path) -> None:
    """``--report-only`` rebuilds the record from the unit files: refuse when there are none
    but ``levels.json`` holds results (a folder shipped without units), which it would empty."""
    from numerics.bench.runner import load_units
    path = out / "levels.json"
    if not path.exists() or load_units(config, out)[0]:
        return
    try:
        entries = json.loads(path.read_text()).get("entries")
    except (json.JSONDecodeError, AttributeError):
        return
    if entries:
        raise InputError("--report-only", f"{out} has no unit files, and its levels.json "
                         "holds results that a report from the units would erase; use "
                         "--summarize-only")


def _run(config, out: Path, args, max_units):
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("bench", "needs torch (pip install 'infonce-anchor[torch]')") from None
    from numerics.bench.runner import run_sweep
    from numerics.neural.device import resolve_device
    executor = make_executor(args)
    device = resolve_device(args.device) if executor is None else None
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    # a seed that diverges is kept as NaN in its unit (numerics.bench.staircase.run_staircase)
    return run_sweep(config, out, device=device, progress=not args.quiet, max_units=max_units,
                     log=log, group=args.group, graphs=args.cuda_graphs, executor=executor)


def make_executor(args):
    """None for ``--executor serial`` (and an error if a Ray option is given with it), else a
    :class:`numerics.bench.distributed.RayExecutor` from the options."""
    ray_options = {"--address": args.address, "--cpus-per-unit": args.cpus_per_unit,
                   "--gpus-per-unit": args.gpus_per_unit, "--retries": args.retries}
    if args.executor == "serial":
        given = [k for k, v in ray_options.items() if v is not None]
        if given:
            raise InputError(given[0], "is an option of --executor ray")
        return None
    if args.device is not None:
        raise InputError("--device", "with --executor ray the device follows --gpus-per-unit")
    from numerics.bench.distributed import RayExecutor
    return RayExecutor(address=args.address,
                       cpus_per_unit=_or(parse_option_number(args.cpus_per_unit,
                                                             "--cpus-per-unit", 0), 1.0),
                       gpus_per_unit=_or(parse_option_number(args.gpus_per_unit,
                                                             "--gpus-per-unit", 0), 0.0),
                       retries=_or(parse_option_int(args.retries, "--retries", 0), 2))


def _or(value, default):
    return default if value is None else value


def _plots(config, done, out: Path, record: dict) -> list[str]:
    if not have_matplotlib():
        return []
    from infonce_anchor.bench_plots import staircase_figure
    targets = record.get("targets") or False     # none written: no D_KJS line
    return [str(staircase_figure(config, done, B, out / f"staircase_B{B}.png", targets))
            for B in sorted({unit.batch_size for unit, _ in done})] + \
        _heldout_plots(config, record, out)


def _heldout_plots(config, record: dict, out: Path) -> list[str]:
    if not have_matplotlib():
        return []
    from infonce_anchor.bench_plots import heldout_figure
    return [str(heldout_figure(config, record, B, out / f"heldout_B{B}.png"))
            for B in sorted({e["batch_size"] for e in record["entries"]})]


COLUMNS = ("estimator", "label", "reports", "source", "critic", "batch_size", "level",
           "true_bits", "mean_bits", "bias_bits", "sd_bits", "mse_bits2", "runs", "diverged",
           "steps_per_level", "lr", "loss_kwargs", "kjs_bits", "kjs_error_bar_bits",
           "bias_kjs_bits")


def _write_tables(rows: list[dict], overview: list[dict], out: Path,
                  targets: dict | None = None) -> None:
    with (out / "summary.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)
    (out / "summary.json").write_text(json.dumps(strict_json(rows), indent=1,
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
    lines += _target_lines(rows, targets)
    (out / "tables.md").write_text("\n".join(lines))


def _fmt_target(value: float | None, bar: float | None) -> str:
    return "-" if value is None else f"{value:.3f} +/- {bar:.3f}" if bar else f"{value:.3f}"


def _target_lines(rows: list[dict], targets: dict | None) -> list[str]:
    """``tables.md``'s sections on the targets (issue #13): per batch size and level the MI,
    ``log2 K``, ``D_KJS(K)`` and the anchored divergences; InfoNCE against both."""
    if not targets:
        return []
    lines = ["## Targets: what the slot objectives converge to (bits)", "",
             f"{targets['what']}. Method: {targets['method']}.", ""]
    for B, per in targets["batch_sizes"].items():
        nus = [a["nu"] for a in per["levels"][0]["anchored"]] if per["levels"] else []
        lines += [f"B = {B}, K = {per['K']}:", "",
                  "| level | MI | log2 K | D_KJS(K) |" +
                  "".join(f" anchored (nu = {nu:g}) |" for nu in nus),
                  "|---|---|---|---|" + "---|" * len(nus)]
        for t in per["levels"]:
            lines.append(f"| {t['level']} | {t['mi_bits']:.2f} | {t['log2_K']:.3f} | "
                         f"{_fmt_target(t['kjs_bits'], t['kjs_error_bar_bits'])} |" +
                         "".join(f" {_fmt_target(a['bits'], a['error_bar_bits'])} |"
                                 for a in t["anchored"]))
        lines.append("")
    sel = [r for r in rows if r["source"] == "heldout" and r.get("bias_kjs_bits") is not None]
    if sel:
        lines += ["## InfoNCE against its limit D_KJS(K) (held-out estimates, bits)", "",
                  ("| estimator | critic | B | MI | D_KJS(K) | mean | bias vs MI | "
                   "bias vs D_KJS | sd | runs |"), "|---|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['label']} | {r['critic']} | {r['batch_size']} | {r['true_bits']:.2f} | "
                  f"{_fmt_target(r['kjs_bits'], r['kjs_error_bar_bits'])} | "
                  f"{r['mean_bits']:.3f} | {r['bias_bits']:+.3f} | {r['bias_kjs_bits']:+.3f} | "
                  f"{r['sd_bits']:.3f} | {r['runs']} |" for r in sel]
        lines.append("")
    return lines


def _json_default(v):
    return None if isinstance(v, float) and math.isnan(v) else str(v)


def _print(result: dict, source: str) -> None:
    print(f"{result['config']}: {result['finished']} of {result['units']} units finished "
          f"({result['ran']} trained now, {result['train_seconds']} s); results in "
          f"{result['out']}")
    for f in result.get("failed", []):
        print(f"FAILED: {f['unit']} ({f['reason']}; recorded in failed/, rerun to retry)")
    sel = [r for r in result["rows"] if r["source"] == source]
    if sel:
        print(f"{source} estimates, bits (bias = mean - true; MSE in bits^2):")
        print(f"{'estimator':<28}{'critic':<13}{'B':>4}{'true':>7}{'mean':>8}{'bias':>8}"
              f"{'sd':>7}{'MSE':>8}{'runs':>5}")
        for r in sel:
            print(f"{r['label']:<28}{r['critic']:<13}{r['batch_size']:>4}{r['true_bits']:>7.2f}"
                  f"{r['mean_bits']:>8.3f}{r['bias_bits']:>+8.3f}{r['sd_bits']:>7.3f}"
                  f"{r['mse_bits2']:>8.3f}{r['runs']:>5}")
        print(f"overview, averaged over the levels ({source}):")
        print(f"{'estimator':<28}{'critic':<13}{'B':>4}{'mean |bias| bits':>18}"
              f"{'mean MSE bits^2':>17}")
        for r in result["overview"]:
            print(f"{r['label']:<28}{r['critic']:<13}{r['batch_size']:>4}"
                  f"{r['mean_abs_bias_bits']:>18.3f}{r['mean_mse_bits2']:>17.3f}")
    kjs = [r for r in sel if r.get("bias_kjs_bits") is not None]
    if kjs:
        print(f"InfoNCE against its limit D_KJS(K), K = B - 1 ({source}, bits):")
        print(f"{'estimator':<28}{'critic':<13}{'B':>4}{'true':>7}{'D_KJS':>8}{'+/-':>7}"
              f"{'mean':>8}{'bias MI':>9}{'bias KJS':>10}")
        for r in kjs:
            print(f"{r['label']:<28}{r['critic']:<13}{r['batch_size']:>4}{r['true_bits']:>7.2f}"
                  f"{r['kjs_bits']:>8.3f}{r['kjs_error_bar_bits']:>7.3f}{r['mean_bits']:>8.3f}"
                  f"{r['bias_bits']:>+9.3f}{r['bias_kjs_bits']:>+10.3f}")
    for p in result["plots"]:
        print(f"plot: {p}")
