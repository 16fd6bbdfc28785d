"""The MI-estimation benchmark (issue #5): estimator views, per-level statistics, staircase
runs, TOML sweeps that resume, and the ``bench`` command.  Reference values are computed here
from their definitions (numpy), not copied from the code under test."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from numerics.bench.config import SweepConfig
from numerics.bench.estimators import ESTIMATORS, EXISTING, FIGURE1, make_estimator
from numerics.bench.runner import load_units, run_sweep
from numerics.bench.staircase import StaircaseRun
from numerics.bench.statistics import level_estimates, level_statistics, smooth
from numerics.bench.summary import summary_rows
from tests.checks import load_script  # noqa: E402
from theory.errors import InputError

CONFIGS = Path(__file__).resolve().parent.parent / "benchmarks" / "configs"


def tiny_config(**train) -> dict:
    return {"name": "tiny",
            "task": {"kind": "gaussian", "levels_bits": [1, 3], "steps_per_level": 6},
            "train": {"estimators": ["nwj", "nwj_plugin", "infonce_anchor"],
                      "critics": ["separable"], "batch_sizes": [8], "seeds": 3,
                      "runs_per_unit": 2, "lr": 1e-3, "hidden": 8, "eval_batches": 2, **train}}


# ------------------------------------------------------------------ estimators
def test_figure1_columns_are_six_trainings():
    keys = {ESTIMATORS[n].train_key for n in FIGURE1}
    assert len(FIGURE1) == 8 and len(keys) == 6
    assert ESTIMATORS["nwj"].train_key == ESTIMATORS["nwj_plugin"].train_key
    assert ESTIMATORS["nwj"].report == "bound" and ESTIMATORS["nwj_plugin"].report == "plug-in"
    assert ESTIMATORS["spherical"].loss_kwargs(64) == {"K": None, "nu": 1.0, "tau": None,
                                                      "alpha": 2.0}


def test_variants_set_nu_or_nu_over_k():
    v = make_estimator("anchor_small_nu", "infonce_anchor", nu=0.1)
    assert v.loss_kwargs(16)["nu"] == 0.1 and v.train_key != ESTIMATORS["infonce_anchor"].train_key
    r = make_estimator("anchor_ratio", "infonce_anchor", nu_over_k=0.5)
    assert r.loss_kwargs(16)["nu"] == pytest.approx(0.5 * 15)      # K = B - 1
    assert make_estimator("x", "infonce_anchor", nu_over_k=0.5, K=4).loss_kwargs(16)["nu"] == 2.0


@pytest.mark.parametrize("call, argument", [
    (lambda: make_estimator("nope"), "estimator"),
    (lambda: make_estimator("v", "nope", nu=1), "base"),
    (lambda: make_estimator("v", "infonce_anchor", gamma=1), "options"),
])
def test_estimator_errors_name_the_argument(call, argument):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.argument == argument


# ------------------------------------------------------------------ statistics
def test_level_statistics_from_the_definitions():
    est = np.array([[1.0, 2.0, 4.0], [0.5, np.nan, 1.5]])
    truth = np.array([2.0, 1.0])
    a, b = level_statistics(est, truth)
    assert a.mean_nats == pytest.approx(7 / 3) and a.bias_nats == pytest.approx(1 / 3)
    assert a.sd_nats == pytest.approx(np.sqrt(((1 - 7 / 3) ** 2 + (2 - 7 / 3) ** 2
                                               + (4 - 7 / 3) ** 2) / 2))
    assert a.mse_nats2 == pytest.approx((1 + 0 + 4) / 3)
    # MSE = bias^2 + (n-1)/n sd^2
    assert a.mse_nats2 == pytest.approx(a.bias_nats ** 2 + 2 / 3 * a.sd_nats ** 2)
    assert (b.runs, b.diverged) == (2, 1) and b.bias_nats == pytest.approx(0.0)
    bits = a.in_bits()
    assert bits["bias_bits"] == pytest.approx(a.bias_nats / math.log(2))
    assert bits["mse_bits2"] == pytest.approx(a.mse_nats2 / math.log(2) ** 2)


def synthetic_run(steps_per_level=4, levels=2, runs=2) -> StaircaseRun:
    steps = steps_per_level * levels
    plugin = np.arange(steps * runs, dtype=np.float32).reshape(steps, runs)
    return StaircaseRun({"steps_per_level": steps_per_level}, np.array([1.0, 2.0]),
                        np.full((steps, runs), np.nan, np.float32), plugin,
                        np.full((levels, runs), np.nan), np.array([[0.1, 0.2], [0.3, 0.4]]),
                        0.0)


def test_training_window_is_the_tail_mean_of_each_level():
    run = synthetic_run()
    anchor = ESTIMATORS["infonce_anchor"]
    got = level_estimates(run, anchor, "train", window=0.5)
    # level 0: steps 2, 3 -> plugin rows [4, 5], [6, 7]; level 1: steps 6, 7
    assert got.tolist() == [[5.0, 6.0], [13.0, 14.0]]
    assert level_estimates(run, anchor, "heldout").tolist() == [[0.1, 0.2], [0.3, 0.4]]
    with pytest.raises(InputError):
        level_estimates(run, anchor, "test")


def test_smooth_is_the_recursive_ema():
    x = np.array([[0.0], [4.0], [np.nan], [2.0]])
    a = 2 / (3 + 1)
    e1 = (1 - a) * 0 + a * 4
    got = smooth(x, 3)[:, 0]
    assert got[0] == 0 and got[1] == pytest.approx(e1) and np.isnan(got[2])
    assert got[3] == 2.0   # restarts after a NaN


# ------------------------------------------------------------------ staircase runs
torch = pytest.importorskip("torch")


def test_staircase_run_records_steps_and_levels_and_roundtrips(tmp_path):
    from numerics.bench.staircase import run_staircase
    from numerics.bench.tasks import GaussianStaircase
    st = GaussianStaircase(levels_bits=(1.0, 3.0), steps_per_level=5)
    run = run_staircase(ESTIMATORS["nwj"], "separable", st, batch_size=8, seed=0, runs=2,
                        hidden=8, eval_batches=2, progress=False)
    assert run.train_bound.shape == run.train_plugin.shape == (10, 2)
    assert run.heldout_plugin.shape == run.heldout_bound.shape == (2, 2)
    assert np.isfinite(run.train_bound).all() and np.isfinite(run.heldout_bound).all()
    assert run.level_mi_nats == pytest.approx([math.log(2), 3 * math.log(2)])
    back = StaircaseRun.load(run.save(tmp_path / "r.npz"))
    assert np.array_equal(back.train_plugin, run.train_plugin)
    assert back.settings == json.loads(json.dumps(run.settings))


def test_batched_seeds_equal_the_runs_one_by_one():
    from numerics.bench.staircase import run_staircase
    from numerics.bench.tasks import GaussianStaircase
    st = GaussianStaircase(levels_bits=(2.0,), steps_per_level=6)
    kw = dict(batch_size=8, hidden=8, eval_batches=2, progress=False)
    anchor = ESTIMATORS["infonce_anchor"]
    both = run_staircase(anchor, "separable", st, seed=3, runs=2, **kw)
    for r in range(2):
        alone = run_staircase(anchor, "separable", st, seed=3 + r, runs=1, **kw)
        np.testing.assert_allclose(both.train_plugin[:, r], alone.train_plugin[:, 0], atol=1e-5)
        np.testing.assert_allclose(both.heldout_plugin[:, r], alone.heldout_plugin[:, 0],
                                   atol=1e-5)


# ------------------------------------------------------------------ configs and sweeps
# the ssl-*.toml configs are SSL sweeps (infonce-anchor ssl), parsed in tests/test_ssl_cli.py
@pytest.mark.parametrize("path", sorted(p for p in CONFIGS.glob("*.toml")
                                        if not p.name.startswith("ssl-")), ids=lambda p: p.stem)
def test_every_shipped_config_parses(path):
    cfg = SweepConfig.from_file(path)
    assert cfg.units()
    assert cfg.staircase().total_steps == len(cfg.task["levels_bits"]) * \
        cfg.task["steps_per_level"]


def test_units_share_trainings_and_block_the_seeds():
    cfg = SweepConfig.from_dict(tiny_config())
    units = cfg.units()
    # 2 trainings (nwj for both views, the anchor) x seed blocks {0, 1}, {2}
    assert [(u.train_key, u.first_seed, u.runs) for u in units] == [
        ("nwj", 0, 2), ("nwj", 2, 1), ("infonce_anchor_nu1", 0, 2), ("infonce_anchor_nu1", 2, 1)]
    assert [e.name for e in units[0].estimators] == ["nwj", "nwj_plugin"]
    other = SweepConfig.from_dict(tiny_config(lr=2e-3)).units()
    assert units[0].digest != other[0].digest            # a changed setting: a new unit


@pytest.mark.parametrize("patch, argument", [
    ({"extra": 1}, "config"),
    ({"task": {"kind": "mnist"}}, "task.kind"),
    ({"task": {"kind": "items"}}, "task.path"),
    ({"train": {"batch_sizes": [1]}}, "train.batch_sizes"),
    ({"train": {"critics": ["tabular"]}}, "train.critics"),
    ({"train": {"seeds": 0}}, "train.seeds"),
    ({"train": {"estimators": ["v"]}, "variants": {"v": {"base": "infonce_anchor",
                                                         "gamma": 1}}}, "variants.v"),
    ({"variants": {"unused": {"base": "infonce_anchor", "nu": 2}}}, "variants"),
    ({"train": {"batch_sizes": [8, 8]}}, "train.batch_sizes"),
    ({"train": {"estimators": ["nwj", "nwj"]}}, "train.estimators"),
    ({"report": {"window": 2}}, "report.window"),
    ({"report": {"smooth_span": "x"}}, "report.smooth_span"),
    ({"task": {"kind": "gaussian", "levels_bits": [2, "a"]}}, "task.levels_bits"),
    ({"task": {"kind": "gaussian", "dim": 2.5}}, "task.dim"),
    ({"task": {"kind": "digits", "classes": [3, 3]}}, "task.classes"),
    ({"train": {"estimators": ["v"]}, "variants": {"v": {"base": "infonce_anchor",
                                                         "K": 2.5}}}, "variants.v.K"),
    ({"train": {"estimators": ["v"]}, "variants": {"v": {"base": "infonce_anchor",
                                                         "nu": "a"}}}, "variants.v.nu"),
    ({"train": {"estimators": ["v"]}, "variants": {"v": {"base": "infonce_anchor",
                                                         "nu": -1}}}, "variants.v.nu"),
    ({"train": {"estimators": ["v"]}, "variants": {"v": {"base": "alpha_infonce",
                                                         "alpha": 2}}}, "variants.v.alpha"),
    ({"train": {"estimators": ["v"]}, "variants": {"v": {"base": "infonce",
                                                         "nu_over_k": 1}}}, "variants.v.nu"),
])
def test_config_errors_name_the_key_before_anything_trains(patch, argument):
    raw = {"name": "bad", "task": {"kind": "gaussian"}}
    for k, v in patch.items():
        raw[k] = v
    with pytest.raises(InputError) as info:
        SweepConfig.from_dict(raw)
    assert info.value.argument == argument


def test_a_stopped_sweep_resumes_where_it_was(tmp_path):
    cfg = SweepConfig.from_dict(tiny_config())
    first = run_sweep(cfg, tmp_path, progress=False, max_units=3)
    assert (first["ran"], first["left"]) == (3, 1)
    done, missing = load_units(cfg, tmp_path)
    assert len(done) == 3 and len(missing) == 1
    stamp = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "units").iterdir()}
    second = run_sweep(cfg, tmp_path, progress=False)
    assert (second["already_done"], second["ran"], second["left"]) == (3, 1, 0)
    for p in (tmp_path / "units").iterdir():      # finished units are not retrained
        if p.name in stamp:
            assert p.stat().st_mtime_ns == stamp[p.name]
    # the resumed sweep's numbers equal an uninterrupted one (deterministic on the CPU)
    fresh = tmp_path / "fresh"
    run_sweep(cfg, fresh, progress=False)
    a = {(r["estimator"], r["source"], r["level"]): r["mean_bits"] for r in
         summary_rows(cfg, tmp_path)}
    b = {(r["estimator"], r["source"], r["level"]): r["mean_bits"] for r in
         summary_rows(cfg, fresh)}
    assert a == b and len(a) == 3 * 2 * 2
    rows = summary_rows(cfg, tmp_path)
    assert {r["runs"] for r in rows} == {3}               # seed blocks pooled


def test_items_task_from_an_npz_file(tmp_path):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "emb.npz", class0=rng.normal(0, 1, (20, 4)),
             class1=rng.normal(2, 1, (25, 4)))
    raw = tiny_config(estimators=["js_plugin"], seeds=1, runs_per_unit=1)
    raw["task"] = {"kind": "items", "path": str(tmp_path / "emb.npz"), "d": 3,
                   "levels_bits": [1, 2], "steps_per_level": 4}
    cfg = SweepConfig.from_dict(raw)
    run_sweep(cfg, tmp_path / "out", progress=False)
    rows = summary_rows(cfg, tmp_path / "out")
    assert [round(r["true_bits"], 12) for r in rows if r["source"] == "heldout"] == [1.0, 2.0]


# ------------------------------------------------------------------ the command
def test_bench_command_writes_tables_plots_and_json(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from infonce_anchor.cli import main
    out = tmp_path / "smoke"
    assert main(["bench", str(CONFIGS / "smoke.toml"), "--out", str(out), "--quiet",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["finished"] == result["units"] == 3 and result["missing"] == 0
    for name in ("summary.csv", "summary.json", "tables.md", "levels.json",
                 "staircase_B16.png", "config.json"):
        assert (out / name).exists()
    levels = json.loads((out / "levels.json").read_text())
    assert {e["estimator"] for e in levels["entries"]} == {"nwj", "nwj_plugin", "infonce",
                                                           "infonce_anchor"}
    # a rerun trains nothing and prints the same table
    assert main(["bench", str(CONFIGS / "smoke.toml"), "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "3 of 3 units finished (0 trained now" in text and "bits" in text


@pytest.mark.parametrize("args, argument", [
    (["bench", "/nonexistent.toml"], "config"),
    (["bench", str(CONFIGS / "smoke.toml"), "--max-units", "-1"], "--max-units"),
    (["bench", str(CONFIGS / "smoke.toml"), "--device", "tpu"], "device"),
])
def test_bench_errors_are_one_line(args, argument, capsys, tmp_path):
    from infonce_anchor.cli import main
    assert main(args + ["--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith(f"error: {argument}:")


# ------------------------------------------------------------------ scripts and GPU
def test_panel_speed_script_times_both_ways(capsys):
    rc = load_script("bench_sweep").main(["--device", "cpu", "--seeds", "2", "--steps-per-level",
                                      "2", "--hidden", "8", "--critics", "separable",
                                      "--sequential-seeds", "1", "--json"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["rows"]) == 6 and out["sequential_seeds_timed"] == 1
    assert out["batched_s"] > 0 and out["ratio"] == pytest.approx(
        out["sequential_s"] / out["batched_s"])


def test_anchor_cost_script_reports_ratios(capsys):
    rc = load_script("bench_anchor_cost").main(["--device", "cpu", "--batches", "8", "--runs", "2",
                                            "--hidden", "8", "--iters", "2", "--repeats", "1",
                                            "--json"])
    assert rc == 0
    row = json.loads(capsys.readouterr().out)["rows"][0]
    assert row["B"] == 8 and row["loss_ratio"] > 0 and row["step_ratio"] > 0


@pytest.mark.gpu
def test_staircase_run_on_cuda():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    from numerics.bench.staircase import run_staircase
    from numerics.bench.tasks import GaussianStaircase
    st = GaussianStaircase(levels_bits=(2.0, 4.0), steps_per_level=20)
    run = run_staircase(ESTIMATORS["infonce_anchor"], "joint", st, batch_size=16, seed=0,
                        runs=3, hidden=32, device="cuda", progress=False)
    assert run.meta["device"].startswith("cuda") and np.isfinite(run.heldout_plugin).all()


def test_verify_reads_bench_results_from_a_directory(tmp_path, capsys):
    from infonce_anchor.cli import main
    assert main(["verify", "--only", "fig1", "--bench-results", str(tmp_path / "no")]) == 2
    assert "--bench-results" in capsys.readouterr().err
    out = tmp_path / "smoke"
    main(["bench", str(CONFIGS / "smoke.toml"), "--out", str(out), "--quiet", "--no-plots"])
    capsys.readouterr()
    # the smoke sweep is not named fig1-*: the claim falls back to the shipped results
    assert main(["verify", "--only", "fig1", "--bench-results", str(tmp_path), "--json"]) == 0
    claims = json.loads(capsys.readouterr().out)["claims"]
    assert claims[0]["id"] == "fig1" and "fig1-gaussian" in claims[0]["method"]


def test_unit_sampling_draws_independent_batches_in_few_calls():
    """One generator for all runs: every run still trains (distinct data, finite values), the
    result is deterministic, and the per-run streams are untouched (a different stream id)."""
    from numerics.bench.staircase import run_staircase
    from numerics.bench.tasks import GaussianStaircase
    from numerics.neural.streams import UnitStream, draw_batches, stream_generators
    st = GaussianStaircase(levels_bits=(2.0,), steps_per_level=6)
    kw = dict(batch_size=8, hidden=8, eval_batches=2, progress=False, sampling="unit")
    a = run_staircase(ESTIMATORS["infonce_anchor"], "separable", st, seed=0, runs=3, **kw)
    b = run_staircase(ESTIMATORS["infonce_anchor"], "separable", st, seed=0, runs=3, **kw)
    assert np.array_equal(a.train_plugin, b.train_plugin) and np.isfinite(a.train_plugin).all()
    assert len(np.unique(a.train_plugin[0])) == 3
    gens = stream_generators(0, 3, 1, "cpu", "unit")
    assert isinstance(gens, UnitStream) and len(gens) == 3
    x, y = draw_batches(st.level_samplers[0], gens, 8, "separable")
    assert x.shape == y.shape == (3, 8, 10)
    # the unit stream's draw equals 24 pairs from its generator, split into 3 batches
    ref = st.level_samplers[0].sample(24, stream_generators(0, 3, 1, "cpu", "unit").generator)
    assert torch.equal(x, ref[0].reshape(3, 8, 10))
    with pytest.raises(InputError):
        stream_generators(0, 3, 1, "cpu", "fast")


def test_sampling_and_precision_change_the_digest_only_when_set():
    base = SweepConfig.from_dict(tiny_config()).units()[0].digest
    assert SweepConfig.from_dict(tiny_config(sampling="per-run")).units()[0].digest == base
    assert SweepConfig.from_dict(tiny_config(sampling="unit")).units()[0].digest != base
    assert SweepConfig.from_dict(tiny_config(precision="bf16")).units()[0].digest != base
    assert SweepConfig.from_dict(tiny_config(precision="fp32")).units()[0].digest == base
    with pytest.raises(InputError) as info:
        SweepConfig.from_dict(tiny_config(sampling="fast"))
    assert info.value.argument == "train.sampling"


def test_bench_json_is_strict_with_one_seed(tmp_path, capsys):
    """One run has no sd: it is null, never NaN (strict JSON for any parser)."""
    from infonce_anchor.cli import main
    cfg = tmp_path / "one.toml"
    cfg.write_text('name = "one"\n[task]\nkind = "gaussian"\nlevels_bits = [2]\n'
                   'steps_per_level = 5\n[train]\nestimators = ["infonce_anchor"]\n'
                   'critics = ["separable"]\nbatch_sizes = [8]\nseeds = 1\nruns_per_unit = 1\n'
                   'hidden = 8\neval_batches = 2\n')
    assert main(["bench", str(cfg), "--out", str(tmp_path / "o"), "--quiet", "--json",
                 "--no-plots"]) == 0
    text = capsys.readouterr().out

    def reject(name):
        raise ValueError(name)
    out = json.loads(text, parse_constant=reject)
    assert out["rows"][0]["sd_bits"] is None and out["rows"][0]["runs"] == 1
    json.loads((tmp_path / "o" / "summary.json").read_text(), parse_constant=reject)


# ------------------------------------------------------------------ review fixes
def test_one_diverged_seed_is_kept_as_nan_and_the_others_are_untouched():
    from numerics.bench.staircase import run_staircase
    from numerics.bench.tasks import GaussianStaircase
    from numerics.neural.samplers import GaussianSampler
    from numerics.neural.streams import TRAIN_STREAM, stream_seed
    poisoned = stream_seed(1, TRAIN_STREAM)           # run 1 of seed 0

    class Poison(GaussianSampler):
        def sample(self, batch_size, generator):
            x, y = super().sample(batch_size, generator)
            return (x * math.inf, y) if generator.initial_seed() == poisoned else (x, y)

    class PoisonStaircase(GaussianStaircase):
        def _level_sampler(self, bits):
            return Poison(self.dim, bits * math.log(2))

    kw = dict(batch_size=8, hidden=8, eval_batches=2, progress=False)
    st = PoisonStaircase(levels_bits=(2.0, 3.0), steps_per_level=4)
    run = run_staircase(ESTIMATORS["infonce_anchor"], "separable", st, seed=0, runs=2, **kw)
    assert run.meta["diverged_runs"] == [1]
    assert np.isnan(run.train_plugin[:, 1]).all() and np.isnan(run.heldout_plugin[:, 1]).all()
    clean = run_staircase(ESTIMATORS["infonce_anchor"], "separable",
                          GaussianStaircase(levels_bits=(2.0, 3.0), steps_per_level=4),
                          seed=0, runs=1, **kw)
    np.testing.assert_allclose(run.train_plugin[:, 0], clean.train_plugin[:, 0], atol=1e-5)
    stats = level_statistics(run.heldout_plugin, run.level_mi_nats)
    assert [(s.runs, s.diverged) for s in stats] == [(1, 1), (1, 1)]


def test_alpha_infonce_at_alpha_one_trains():
    from numerics.bench.staircase import run_staircase
    from numerics.bench.tasks import GaussianStaircase
    v = make_estimator("a1", "alpha_infonce", alpha=1.0)
    run = run_staircase(v, "separable", GaussianStaircase(levels_bits=(2.0,), steps_per_level=3),
                        batch_size=8, seed=0, runs=1, hidden=8, eval_batches=2, progress=False)
    assert np.all(run.train_bound == 0)


def test_items_units_hash_the_file_content(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "emb.npz"
    np.savez(path, class0=rng.normal(0, 1, (5, 2)), class1=rng.normal(2, 1, (5, 2)))
    raw = tiny_config()
    raw["task"] = {"kind": "items", "path": str(path), "d": 1, "levels_bits": [0.5],
                   "steps_per_level": 2}
    before = SweepConfig.from_dict(raw).units()[0].digest
    np.savez(path, class0=rng.normal(0, 1, (5, 2)), class1=rng.normal(2, 1, (5, 2)))
    assert SweepConfig.from_dict(raw).units()[0].digest != before


def test_every_benchmark_estimator_trains_a_known_loss():
    """numerics.bench.estimators has no torch (the claims read it); this keeps its table in step
    with the torch losses instead of a check at run time."""
    from numerics.neural.losses import LOSSES
    assert {e.loss for e in ESTIMATORS.values()} <= set(LOSSES)
    assert set(FIGURE1) <= set(ESTIMATORS) and set(EXISTING) < set(FIGURE1)


@pytest.mark.parametrize("name", ["../../evil", "a/b", "/abs", ".hidden", "", "x" * 65, 3])
def test_a_sweep_name_cannot_leave_the_results_folder(name, tmp_path, capsys):
    """issue #11: a config named "../../evil" wrote its results outside bench-results/."""
    with pytest.raises(InputError) as info:
        SweepConfig.from_dict(tiny_config() | {"name": name})
    assert info.value.argument == "name"
    from infonce_anchor.cli import main
    cfg = tmp_path / "evil.toml"
    toml_name = f'"{name}"' if isinstance(name, str) else str(name)
    cfg.write_text(f"name = {toml_name}\n[task]\nkind = \"gaussian\"\n")
    assert main(["bench", str(cfg), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: name:") and len(err.strip().splitlines()) == 1
    assert not (tmp_path.parent / "evil").exists()
