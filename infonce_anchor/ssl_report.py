"""The report of an SSL sweep (Sec. 4.3, Table 2): ``summary.json``, ``summary.csv``,
``tables.md`` and ``accuracy.png`` from the finished units' records (``infonce-anchor ssl``).

Accuracies are linear-probe test accuracies in percent (mean and sample sd over seeds);
differences between two methods are paired by seed, in accuracy points (percentage points), with
the 95 % t interval of their mean (:func:`numerics.ssl.statistics.paired_differences`).  The
paper's Table 2 (CIFAR-100, ResNet-18, B = 256) is written next to them for reference.  Imports
torch (through :mod:`numerics.ssl.objectives`): the command line imports it after checking.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from infonce_anchor.output import have_matplotlib, strict_json
from numerics.ssl.objectives import OBJECTIVES, TABLE2_PAPER
from numerics.ssl.statistics import paired_differences, summary_rows
from theory.errors import InputError

#: the paired comparisons of top-1 accuracy, ``a - b``, made where both methods are in a config
PAIRS = (("infonce_anchor", "infonce"), ("infonce", "js"), ("infonce", "chi2"), ("chi2", "js"),
         ("infonce", "spherical"), ("spherical", "random"))
#: what the numbers of the summary are measured in
UNITS = {"records.top1, records.top5": "fraction of the test set (0..1)",
         "rows: top1_*, top5_*": "% of the test set", "comparisons": "accuracy points (% - %)",
         "paper_table2": "% (top-1, top-5) on CIFAR-100 with ResNet-18, B = 256: the paper's "
                         "Table 2, for reference, not this run", "train_seconds": "s"}
CSV_COLUMNS = ("method", "label", "seeds", "diverged", "top1_mean", "top1_sd", "top5_mean",
               "top5_sd")


def comparisons(methods: list[str], records: list[dict]) -> list[dict[str, Any]]:
    """:data:`PAIRS` whose two methods are both in ``methods``, each paired by seed on top-1."""
    return [paired_differences(records, a, b, "top1") for a, b in PAIRS
            if a in methods and b in methods]


def build_summary(config, records: list[dict], missing: list[str]) -> dict[str, Any]:
    """What ``summary.json`` holds: the config, every unit record, the per-method rows (%),
    the paired comparisons (accuracy points), the units not yet run and the paper's Table 2."""
    return strict_json({
        "name": config.name, "measured_in": UNITS,
        "config": {"data": config.data, "train": config.train, "probe": config.probe},
        "records": records, "rows": summary_rows(config.methods, config.labels, records),
        "comparisons": comparisons(config.methods, records), "missing": list(missing),
        "paper_table2": TABLE2_PAPER})


def write_report(config, out: Path, records: list[dict], missing: list[str], *,
                 plots: bool = True) -> dict[str, Any]:
    """Write the four report files into ``out``; returns the summary and the files written."""
    summary = build_summary(config, records, missing)
    files = {"summary.json": json.dumps(summary, indent=1, allow_nan=False) + "\n",
             "summary.csv": csv_text(summary["rows"]), "tables.md": markdown(config, summary)}
    written = []
    for name, text in files.items():
        write_text(out / name, text)
        written.append(str(out / name))
    png = out / "accuracy.png"
    if plots and have_matplotlib("accuracy.png") and any(r["seeds"] for r in summary["rows"]):
        written.append(str(accuracy_figure(config, summary, png)))
    return {"summary": summary, "files": written}


def write_text(path: Path, text: str) -> None:
    """``text`` into ``path``; an OSError becomes an InputError naming ``--out``."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError("--out", f"cannot write {path} ({exc.strerror})") from None


# ------------------------------------------------------------------------------ the tables
def csv_text(rows: list[dict]) -> str:
    """``summary.csv``: one row per method, accuracies in %, an empty cell where undefined."""
    lines = [",".join(CSV_COLUMNS)]
    for row in rows:
        cells = [row[c] for c in CSV_COLUMNS]
        lines.append(",".join(csv_cell(v) for v in cells))
    return "\n".join(lines) + "\n"


def csv_cell(value: Any) -> str:
    """One CSV cell: None empty, floats with full precision, text quoted where needed."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return f'"{text}"' if any(c in text for c in ',"\n') else text


def mean_sd(mean: float | None, sd: float | None, sign: bool = False) -> str:
    """``mean ± sd`` with two decimals; ``-`` where nothing was run."""
    if mean is None:
        return "-"
    head = f"{mean:+.2f}" if sign else f"{mean:.2f}"
    return head if sd is None else f"{head} ± {sd:.2f}"


def interval(ci: list[float] | None) -> str:
    """``[lo, hi]`` with two decimals, or ``-`` (fewer than two seeds)."""
    return "-" if ci is None else f"[{ci[0]:+.2f}, {ci[1]:+.2f}]"


def setting_line(config) -> str:
    """One sentence on what was trained and how it was evaluated."""
    d, t = config.data, config.train
    seeds = config.seeds
    return (f"Dataset {d['dataset']}, encoder {t['encoder']}, {t['steps']} steps at "
            f"B = {t['batch_size']}, lr {t['lr']:g}, seeds {seeds[0]}..{seeds[-1]}; "
            f"linear probe (logistic regression, C = {config.probe['C']:g}) on the frozen "
            f"encoder's features, test-set accuracy in %.")


def markdown(config, summary: dict[str, Any]) -> str:
    """``tables.md``: the accuracy table, the paired comparisons and the paper's Table 2."""
    lines = [f"# SSL sweep {summary['name']}: linear-probe accuracy", "", setting_line(config),
             ""]
    if summary["missing"]:
        lines += [(f"{len(summary['missing'])} unit(s) not yet run; the rows cover the "
                   "finished ones."), ""]
    lines += ["| method | top-1 % (mean ± sd) | top-5 % (mean ± sd) | seeds | diverged |",
              "|---|---|---|---|---|"]
    lines += [f"| {r['label']} | {mean_sd(r['top1_mean'], r['top1_sd'])} | "
              f"{mean_sd(r['top5_mean'], r['top5_sd'])} | {r['seeds']} | {r['diverged']} |"
              for r in summary["rows"]]
    lines += [""] + comparison_lines(config.labels, summary["comparisons"])
    lines += [""] + paper_lines()
    return "\n".join(lines) + "\n"


def comparison_lines(labels: dict[str, str], found: list[dict]) -> list[str]:
    """The paired comparisons as a Markdown section (accuracy points)."""
    if not found:
        return []
    lines = ["## Paired differences of top-1 accuracy (accuracy points)", "",
             ("Per seed the difference a - b (both methods start from the same encoder and see "
              "the same batches); mean, sample sd and 95 % t interval of the mean over seeds."),
             "",
             "| a - b | seeds | mean (points) | sd (points) | 95 % interval (points) |",
             "|---|---|---|---|---|"]
    for c in found:
        sd = "-" if c["sd"] is None else f"{c['sd']:.2f}"
        mean = "-" if c["mean"] is None else f"{c['mean']:+.2f}"
        lines.append(f"| {labels[c['a']]} - {labels[c['b']]} | {c['n']} | {mean} | {sd} | "
                     f"{interval(c['ci95'])} |")
    return lines


def paper_lines() -> list[str]:
    """The paper's Table 2 as a Markdown section, marked as CIFAR-100 / ResNet-18."""
    lines = ["## For reference: the paper's Table 2 (CIFAR-100, ResNet-18, B = 256)", "",
             ("Linear-probe accuracy as printed in the paper; not this run's dataset or encoder "
              "unless the config says cifar100 / resnet18."), "",
             "| objective | top-1 % | top-5 % |", "|---|---|---|"]
    lines += [f"| {OBJECTIVES[m].label} | {top1:.2f} | {top5:.2f} |"
              for m, (top1, top5) in TABLE2_PAPER.items()]
    return lines


# ------------------------------------------------------------------------------ the plot
def accuracy_figure(config, summary: dict[str, Any], path: Path) -> Path:
    """Per method: the top-1 mean (%, a diamond) with a sd error bar, each seed a dot; the axis
    spans the values (not from 0, so that differences of a point show); saved to ``path`` with
    matplotlib's Agg renderer (no pyplot state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = summary["rows"]
    fig = Figure(figsize=(1.1 * len(rows) + 2.0, 4.0))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for i, row in enumerate(rows):
        draw_method(ax, i, row, summary["records"])
    ax.set_xticks(range(len(rows)), [r["label"] for r in rows], rotation=20, ha="right")
    ax.set_ylabel("linear-probe top-1 accuracy (%)")
    values = [100 * r["top1"] for r in summary["records"]]
    if values:
        ax.set_ylim(max(0.0, min(values) - 2.0), min(100.0, max(values)) + 1.5)
    ax.set_title(f"{summary['name']}: {config.data['dataset']}, {config.train['encoder']} "
                 "(diamond: mean, bar: sd over seeds, dots: seeds)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise InputError("--out", f"cannot write {path} ({exc.strerror})") from None
    return path


def draw_method(ax, x: int, row: dict, records: list[dict]) -> None:
    """One method's mean (%, a diamond), sd error bar (%) and seed dots (%) at ``x``."""
    if row["top1_mean"] is None:
        return
    colour = "tab:grey" if row["method"] in ("random", "supervised") else "tab:blue"
    ax.errorbar(x, row["top1_mean"], yerr=row["top1_sd"] or 0.0, color=colour, marker="D",
                markersize=7, capsize=5)
    seeds = [100 * r["top1"] for r in records if r["method"] == row["method"]]
    ax.scatter([x + 0.15] * len(seeds), seeds, color="black", s=10, zorder=3)
    top = max(seeds + [row["top1_mean"] + (row["top1_sd"] or 0.0)])
    ax.text(x, top + 0.2, f"{row['top1_mean']:.2f} %", ha="center", va="bottom", fontsize=8)
