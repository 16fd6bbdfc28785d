"""The ``ssl`` command (Sec. 4.3, Table 2): a sweep run end to end, resumed and reported
(infonce_anchor/ssl_cli.py, infonce_anchor/ssl_report.py, benchmarks/configs/ssl-*.toml).

Expected values: the per-method means and sds and the paired differences are recomputed here
from the unit JSON files the run wrote (numpy mean, sample sd of 100 * top1); the paired
interval from its definition with scipy's t quantile; unit counts by counting methods x seeds;
the reuse of finished units from file bytes and modification times."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from scipy import stats

from infonce_anchor.cli import main
from infonce_anchor.ssl_report import PAIRS
from numerics.ssl.data import write_cifar_archive
from numerics.ssl.objectives import TABLE2_PAPER
from numerics.ssl.statistics import paired_differences
from numerics.ssl.sweep import load_config, unit_path

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "benchmarks" / "configs" / "ssl-digits-smoke.toml"
FAST = ["--json", "--quiet", "--threads", "1", "--device", "cpu"]
METHODS = ["infonce", "infonce_anchor", "spherical", "js", "chi2", "random", "supervised"]
JSON_KEYS = {"out", "units", "measured_in", "ran", "train_seconds", "rows", "comparisons",
             "missing", "files"}


def run_json(*argv: str) -> dict:
    """``infonce-anchor ssl ARGV``: exit status 0 and its JSON output."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        assert main(["ssl", *argv]) == 0
    return json.loads(buffer.getvalue())


def unit_files(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every unit file of ``out``: its bytes and modification time (ns)."""
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted((out / "units").glob("*.json"))}


def by_unit(record: dict) -> tuple[str, int]:
    """A record's method and seed (a sort key)."""
    return record["method"], record["seed"]


def no_nan(text: str) -> None:
    """Strict JSON: no NaN / Infinity."""
    raise AssertionError(f"non-strict JSON constant {text}")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    """The smoke sweep run three times into one folder: ``--max-units 3``, the rest (with the
    plot), then once more; the JSON of each run and the unit files after each."""
    out = tmp_path_factory.mktemp("ssl") / "smoke"
    first = run_json(str(SMOKE), "--out", str(out), "--max-units", "3", "--no-plots", *FAST)
    after_first = unit_files(out)
    second = run_json(str(SMOKE), "--out", str(out), *FAST)
    after_second = unit_files(out)
    third = run_json(str(SMOKE), "--out", str(out), "--no-plots", *FAST)
    return {"out": out, "config": load_config(SMOKE), "runs": [first, second, third],
            "files": [after_first, after_second, unit_files(out)]}


# ------------------------------------------------------------------------------ the smoke sweep
def test_smoke_config_is_the_tiny_sweep_of_seven_methods():
    config = load_config(SMOKE)
    assert config.name == "ssl-digits-smoke" and config.methods == METHODS
    assert config.seeds == [0, 1] and config.data["dataset"] == "digits"
    assert (config.train["encoder"], config.train["steps"], config.train["batch_size"]) == \
        ("small_conv", 3, 32)
    assert len(config.units()) == 7 * 2


def test_cifar100_config_is_the_papers_setting():
    config = load_config(ROOT / "benchmarks" / "configs" / "ssl-cifar100.toml")
    assert config.name == "ssl-cifar100" and config.methods == METHODS
    assert (config.data["dataset"], config.data["data_dir"], config.data["augment"]) == \
        ("cifar100", "data", "cifar")
    assert (config.train["encoder"], config.train["batch_size"], config.train["seeds"],
            config.train["steps"], config.train["lr"]) == ("resnet18", 256, 5, 20000, 1e-3)


def test_first_run_trains_only_max_units(smoke):
    first = smoke["runs"][0]
    assert set(first) == JSON_KEYS and first["ran"] == 3
    assert len(smoke["files"][0]) == 3 and len(first["missing"]) == 7 * 2 - 3


def test_rerun_finishes_the_rest_and_reuses_the_first_units(smoke):
    second = smoke["runs"][1]
    assert second["ran"] == 7 * 2 - 3 and second["missing"] == []
    before, after = smoke["files"][0], smoke["files"][1]
    assert len(after) == 7 * 2
    for name, (content, mtime) in before.items():   # not retrained: same bytes, same mtime
        assert after[name] == (content, mtime)


def test_third_run_trains_nothing_and_leaves_units_byte_identical(smoke):
    third = smoke["runs"][2]
    assert third["ran"] == 0 and third["train_seconds"] == 0 and third["missing"] == []
    assert smoke["files"][2] == smoke["files"][1]


def test_every_unit_file_is_written_under_its_name(smoke):
    out, config = smoke["out"], smoke["config"]
    expected = {unit_path(out, u).name for u in config.units()}
    assert set(smoke["files"][1]) == expected and len(expected) == 7 * 2
    for name in ("summary.json", "summary.csv", "tables.md", "config.json"):
        assert (out / name).is_file(), name


def hand_rows(out: Path) -> dict[str, dict]:
    """Per method from the unit files: the values of 100 * top1 / top5, mean and sample sd."""
    records = [json.loads(p.read_text()) for p in (out / "units").glob("*.json")]
    rows = {}
    for method in METHODS:
        mine = sorted((r for r in records if r["method"] == method), key=lambda r: r["seed"])
        row = {"seeds": [r["seed"] for r in mine]}
        for key in ("top1", "top5"):
            values = np.array([100 * r[key] for r in mine])
            mean = values.sum() / len(values)
            row[key] = values
            row[f"{key}_mean"] = mean
            row[f"{key}_sd"] = np.sqrt(((values - mean) ** 2).sum() / (len(values) - 1))
        rows[method] = row
    return rows


def test_rows_are_means_and_sds_of_the_unit_files(smoke):
    rows, hand = smoke["runs"][1]["rows"], hand_rows(smoke["out"])
    assert [r["method"] for r in rows] == METHODS
    for row in rows:
        expected = hand[row["method"]]
        assert row["seeds"] == 2 and expected["seeds"] == [0, 1]
        for key in ("top1_mean", "top1_sd", "top5_mean", "top5_sd"):
            assert row[key] == pytest.approx(expected[key], abs=1e-9), (row["method"], key)
        for key in ("top1", "top5"):
            assert np.all((expected[key] >= 0) & (expected[key] <= 100))


def test_comparisons_are_paired_differences_of_the_unit_files(smoke):
    found, hand = smoke["runs"][1]["comparisons"], hand_rows(smoke["out"])
    assert [(c["a"], c["b"]) for c in found] == list(PAIRS)   # all methods in the config
    for c in found:
        diffs = hand[c["a"]]["top1"] - hand[c["b"]]["top1"]     # seeds 0, 1 in both
        assert c["n"] == 2 and c["mean"] == pytest.approx(diffs.mean(), abs=1e-9)
        half = stats.t.ppf(0.975, 1) * np.std(diffs, ddof=1) / np.sqrt(2)
        assert c["ci95"] == pytest.approx([diffs.mean() - half, diffs.mean() + half], abs=1e-9)


def test_summary_json_holds_records_rows_and_the_papers_table(smoke):
    out = smoke["out"]
    summary = json.loads((out / "summary.json").read_text(), parse_constant=no_nan)
    assert summary["name"] == "ssl-digits-smoke" and summary["missing"] == []
    assert set(summary["config"]) == {"data", "train", "probe"}
    on_disk = [json.loads(p.read_text()) for p in (out / "units").glob("*.json")]
    assert sorted(summary["records"], key=by_unit) == sorted(on_disk, key=by_unit)
    assert summary["rows"] == smoke["runs"][2]["rows"]
    assert summary["paper_table2"] == {m: list(v) for m, v in TABLE2_PAPER.items()}


def test_summary_csv_has_one_row_per_method_in_percent(smoke):
    lines = (smoke["out"] / "summary.csv").read_text().splitlines()
    assert lines[0] == "method,label,seeds,diverged,top1_mean,top1_sd,top5_mean,top5_sd"
    hand = hand_rows(smoke["out"])
    assert [line.split(",")[0] for line in lines[1:]] == METHODS
    for line in lines[1:]:
        cells = line.split(",")
        assert float(cells[4]) == pytest.approx(hand[cells[0]]["top1_mean"], abs=1e-9)
        assert float(cells[5]) == pytest.approx(hand[cells[0]]["top1_sd"], abs=1e-9)


def test_tables_md_has_the_table_comparisons_and_paper_numbers(smoke):
    text = (smoke["out"] / "tables.md").read_text()
    hand, labels = hand_rows(smoke["out"]), smoke["config"].labels
    assert "| method | top-1 % (mean ± sd) | top-5 % (mean ± sd) | seeds | diverged |" in text
    positions = [text.index(f"| {labels[m]} | ") for m in METHODS]
    assert positions == sorted(positions)                      # the config's order
    for m in METHODS:
        h = hand[m]
        assert (f"| {labels[m]} | {h['top1_mean']:.2f} ± {h['top1_sd']:.2f} | "
                f"{h['top5_mean']:.2f} ± {h['top5_sd']:.2f} | 2 | ") in text
    assert "accuracy points" in text and "95 %" in text
    assert "CIFAR-100" in text and "ResNet-18" in text
    assert f"{TABLE2_PAPER['infonce'][0]:.2f}" in text


def test_plot_is_written_unless_no_plots(smoke):
    pytest.importorskip("matplotlib")
    png = smoke["out"] / "accuracy.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in smoke["runs"][1]["files"]
    assert str(png) not in smoke["runs"][2]["files"]


def test_terminal_report_has_units_on_every_number(smoke, capsys):
    assert main(["ssl", str(SMOKE), "--out", str(smoke["out"]), "--report-only",
                 "--no-plots", "--threads", "1"]) == 0
    text = capsys.readouterr().out
    assert "14 of 14 units finished (0 trained now, 0.0 s)" in text
    assert "accuracy points" in text and "% (mean +/- sd over seeds)" in text
    for label in smoke["config"].labels.values():
        line = next(ln for ln in text.splitlines() if ln.startswith(label + " "))
        assert line.count("%") == 2, line
    assert f"wrote {smoke['out'] / 'tables.md'}" in text


def test_edited_setting_gives_new_unit_names(smoke, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(smoke["out"], out)                      # keeps the modification times
    edited = tmp_path / "edited.toml"
    edited.write_text(SMOKE.read_text().replace("steps = 3", "steps = 4"))
    old = set(smoke["files"][1])
    new = {unit_path(out, u).name for u in load_config(edited).units()}
    assert not new & old and len(new) == 7 * 2
    result = run_json(str(edited), "--out", str(out), "--max-units", "1", "--no-plots", *FAST)
    assert result["ran"] == 1 and len(result["missing"]) == 7 * 2 - 1
    assert not {f"{name}.json" for name in result["missing"]} & old
    files = unit_files(out)
    assert {k: files[k] for k in old} == smoke["files"][1]   # the old units untouched
    assert len(set(files) - old) == 1


# ------------------------------------------------------------------------------ CIFAR path
def test_tiny_cifar10_archive_runs_the_resnet18_path(tmp_path):
    folder = write_cifar_archive(tmp_path, "cifar10", n_train=64, n_test=32)
    config = tmp_path / "tiny-cifar.toml"
    config.write_text(f"""name = "tiny-cifar"
[data]
dataset = "cifar10"
data_dir = {json.dumps(str(folder.parent))}
augment = "cifar"
[train]
encoder = "resnet18"
objectives = ["infonce"]
references = ["random"]
seeds = 1
steps = 1
batch_size = 8
""")
    out = tmp_path / "out"
    result = run_json(str(config), "--out", str(out), "--no-plots", *FAST)
    assert result["ran"] == 2 and result["missing"] == [] and result["comparisons"] == []
    assert [r["method"] for r in result["rows"]] == ["infonce", "random"]
    for row in result["rows"]:
        assert row["seeds"] == 1 and row["top1_sd"] is None and row["top5_sd"] is None
        assert 0 <= row["top1_mean"] <= row["top5_mean"] <= 100
    records = [json.loads(p.read_text()) for p in (out / "units").glob("*.json")]
    assert len(records) == 2 and {r["device"] for r in records} == {"cpu"}
    csv_lines = (out / "summary.csv").read_text().splitlines()
    assert csv_lines[1].split(",")[5] == ""                 # no sd of one seed
    json.loads((out / "summary.json").read_text(), parse_constant=no_nan)


# ------------------------------------------------------------------------------ bad input
GOOD = """name = "bad-input"
[data]
dataset = "digits"
[train]
objectives = ["infonce"]
references = []
seeds = 1
steps = 1
batch_size = 8
"""

BAD_CASES = {
    "missing config": ("nope.toml", [], ["config", "nope.toml"]),
    "invalid toml": ("name = [", [], ["config", "not valid TOML"]),
    "unknown key": (GOOD.replace("seeds = 1", "seeds = 1\nbogus = 2"), [],
                    ["bogus", "unknown key"]),
    "unsafe name": (GOOD.replace('"bad-input"', '"../evil"'), [], ["name", "'../evil'"]),
    "unknown objective": (GOOD.replace('["infonce"]', '["infonce", "nope"]'), [],
                          ["objectives", "'nope'"]),
    "cifar without data_dir": (GOOD.replace('"digits"', '"cifar100"'), [],
                               ["data.data_dir", "cifar100"]),
    "threads 0": (GOOD, ["--threads", "0"], ["--threads", ">= 1", "got '0'"]),
    "threads text": (GOOD, ["--threads", "two"], ["--threads", "integer"]),
    "max units -1": (GOOD, ["--max-units", "-1"], ["--max-units", ">= 0", "got '-1'"]),
    "report-only on nothing": (GOOD, ["--report-only"], ["--report-only", "no results"]),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_is_one_line_naming_the_argument(case, tmp_path, monkeypatch, capsys):
    text, options, needles = BAD_CASES[case]
    work = tmp_path / "work" / "deeper"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)                                   # the default out is relative
    config = Path(text) if text == "nope.toml" else work / "config.toml"
    if text != "nope.toml":
        config.write_text(text)
    before = sorted(tmp_path.rglob("*"))
    assert main(["ssl", str(config), "--quiet", *options]) != 0
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert sorted(tmp_path.rglob("*")) == before              # nothing written, not even here
    assert not (tmp_path / "work" / "evil").exists() and not (work / "evil").exists()


# ------------------------------------------------------------------------------ statistics
def made_up_records() -> list[dict]:
    """Two methods over seeds 0..3, plus a seed only ``a`` has (not paired, left out)."""
    a = {0: 0.61, 1: 0.64, 2: 0.59, 3: 0.66, 9: 0.99}
    b = {0: 0.60, 1: 0.60, 2: 0.61, 3: 0.62}
    return [{"method": "a", "seed": s, "top1": v, "top5": v} for s, v in a.items()] + \
        [{"method": "b", "seed": s, "top1": v, "top5": v} for s, v in b.items()]


def test_paired_differences_match_a_hand_computation():
    result = paired_differences(made_up_records(), "a", "b")
    diffs = [1.0, 4.0, -2.0, 4.0]                    # 100 * (a - b) per seed 0..3, points
    mean = sum(diffs) / 4                            # 1.75
    sd = (sum((d - mean) ** 2 for d in diffs) / 3) ** 0.5
    half = stats.t.ppf(0.975, 3) * sd / 4 ** 0.5
    assert result["n"] == 4 and (result["a"], result["b"], result["key"]) == ("a", "b", "top1")
    assert result["mean"] == pytest.approx(mean, abs=1e-12)
    assert result["sd"] == pytest.approx(sd, abs=1e-12)
    assert result["ci95"] == pytest.approx([mean - half, mean + half], abs=1e-12)


def test_paired_differences_of_fewer_than_two_seeds_have_no_interval():
    records = [r for r in made_up_records() if r["seed"] in (1, 9)]
    one = paired_differences(records, "a", "b")
    assert one["n"] == 1 and one["mean"] == pytest.approx(4.0, abs=1e-12)
    assert one["sd"] is None and one["ci95"] is None
    none = paired_differences(records, "a", "missing")
    assert none["n"] == 0 and none["mean"] is None and none["ci95"] is None
