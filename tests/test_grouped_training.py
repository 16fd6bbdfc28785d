"""Several trainings in one batched critic, the captured training step and the precision
settings (issue #12): the fast paths give the numbers of the plain path."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numerics.bench.config import SweepConfig  # noqa: E402
from numerics.bench.estimators import ESTIMATORS  # noqa: E402
from numerics.bench.runner import load_units, run_sweep, unit_groups  # noqa: E402
from numerics.bench.staircase import run_staircase, run_staircase_group  # noqa: E402
from numerics.bench.tasks import GaussianStaircase  # noqa: E402
from numerics.neural.critics import make_critic  # noqa: E402
from numerics.neural.loop import LossBlock, optimise
from numerics.neural.samplers import GaussianSampler
from numerics.neural.streams import stream_generators
from theory.errors import InputError  # noqa: E402

STAIRS = GaussianStaircase(levels_bits=(2.0, 4.0), steps_per_level=8)
KW = dict(batch_size=8, hidden=16, eval_batches=2, progress=False, device="cpu")


def test_seeds_list_initialises_each_run_as_alone():
    stacked = make_critic("joint", dx=3, dy=3, hidden=8, seeds=[4, 9, 10])
    for r, seed in enumerate([4, 9, 10]):
        alone = make_critic("joint", dx=3, dy=3, hidden=8, seed=seed)
        for a, b in zip(stacked.parameters(), alone.parameters()):
            assert torch.equal(a[r], b[0])
    assert stacked.runs == 3


@pytest.mark.parametrize("sampling", ["per-run", "unit"])
@pytest.mark.parametrize("critic", ["separable", "joint"])
def test_a_group_gives_each_member_its_lone_numbers(sampling, critic):
    members = [(ESTIMATORS["infonce_anchor"], 0, 2), (ESTIMATORS["nwj"], 5, 3),
               (ESTIMATORS["spherical"], 1, 1)]
    grouped = run_staircase_group(members, critic, STAIRS, sampling=sampling, **KW)
    assert len(grouped) == 3
    for (est, seed, runs), got in zip(members, grouped):
        alone = run_staircase(est, critic, STAIRS, seed=seed, runs=runs, sampling=sampling,
                              **KW)
        assert got.settings == alone.settings
        for name in ("train_plugin", "train_bound", "heldout_plugin", "heldout_bound"):
            a, b = getattr(got, name), getattr(alone, name)
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, equal_nan=True)
        assert got.meta["group"] == [e.train_key for e, _, _ in members]


def test_the_captured_step_replays_the_eager_loop_exactly_on_the_cpu():
    """On the CPU GraphedStep runs its static-input loop without capture: warm-up steps,
    the copy into static inputs and the replays must give the eager numbers bit for bit."""
    members = [(ESTIMATORS["js"], 0, 2), (ESTIMATORS["infonce"], 2, 2)]
    eager = run_staircase_group(members, "separable", STAIRS, **KW)
    graphed = run_staircase_group(members, "separable", STAIRS, graphs=True, **KW)
    for a, b in zip(eager, graphed):
        assert np.array_equal(a.train_plugin, b.train_plugin)
        assert np.array_equal(a.heldout_bound, b.heldout_bound, equal_nan=True)


def test_graphs_refuse_state_kept_in_python():
    critic = make_critic("separable", dx=10, dy=10, hidden=8)
    gens = stream_generators(0, 1, 1, "cpu")
    with pytest.raises(InputError) as info:
        optimise(critic, [LossBlock("mine", {}, gens)], lambda t: GaussianSampler(), steps=2,
                 batch_size=4, critic_kind="separable", lr=1e-3, progress=False, graphs=True)
    assert info.value.argument == "graphs"


def test_bf16_autocast_trains_close_to_fp32():
    """bf16 autocast of the critic (losses in float32) on a short run: finite, not identical
    to fp32, and within a loose 0.2 nats of it (the GPU session measures the real agreement
    against the seed-to-seed spread)."""
    est = ESTIMATORS["infonce_anchor"]
    a = run_staircase(est, "joint", STAIRS, seed=0, runs=2, **KW)
    b = run_staircase(est, "joint", STAIRS, seed=0, runs=2, precision="bf16", **KW)
    assert np.isfinite(b.heldout_plugin).all() and b.settings["precision"] == "bf16"
    assert not np.array_equal(a.train_plugin, b.train_plugin)
    assert np.abs(a.heldout_plugin - b.heldout_plugin).max() < 0.2
    with pytest.raises(InputError) as info:
        run_staircase(est, "joint", STAIRS, seed=0, runs=1, precision="fp16", **KW)
    assert info.value.argument == "precision"


def tiny(**train):
    return {"name": "tiny", "task": {"kind": "gaussian", "levels_bits": [2, 4],
                                     "steps_per_level": 5},
            "train": {"estimators": ["nwj", "nwj_plugin", "infonce_anchor"],
                      "critics": ["separable", "joint"], "batch_sizes": [8, 16], "seeds": 2,
                      "runs_per_unit": 2, "hidden": 8, "eval_batches": 2, **train}}


def test_grouped_sweep_writes_the_serial_units(tmp_path):
    cfg = SweepConfig.from_dict(tiny())
    groups = unit_groups(cfg.units(), group=True)
    assert [len(g) for g in groups] == [2, 2, 2, 2]     # nwj + anchor per critic and B
    run_sweep(cfg, tmp_path / "serial", device="cpu", progress=False)
    run_sweep(cfg, tmp_path / "grouped", device="cpu", progress=False, group=True)
    serial, _ = load_units(cfg, tmp_path / "serial")
    grouped, missing = load_units(cfg, tmp_path / "grouped")
    assert not missing and len(grouped) == len(serial) == 8
    for (u1, r1), (u2, r2) in zip(serial, grouped):
        assert u1.name == u2.name
        np.testing.assert_allclose(r1.heldout_plugin, r2.heldout_plugin, rtol=1e-5, atol=1e-5)


def test_exclude_cuts_critic_batch_pairs_and_is_checked():
    cfg = SweepConfig.from_dict(tiny(exclude=[["joint", 16]]))
    assert {(u.critic, u.batch_size) for u in cfg.units()} == {
        ("separable", 8), ("separable", 16), ("joint", 8)}
    # the cut changes no unit's hash: the other units are those of the full sweep
    full = {u.name for u in SweepConfig.from_dict(tiny()).units()}
    assert {u.name for u in cfg.units()} < full
    for bad in ([["joint", 32]], [["bilinear", 8]], ["joint"], "joint"):
        with pytest.raises(InputError) as info:
            SweepConfig.from_dict(tiny(exclude=bad))
        assert info.value.argument == "train.exclude"
    with pytest.raises(InputError) as info:
        SweepConfig.from_dict(tiny(precision="fp16"))
    assert info.value.argument == "train.precision"


@pytest.mark.gpu
def test_captured_step_on_cuda_replays_the_eager_loop():
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    members = [(ESTIMATORS["infonce_anchor"], 0, 2), (ESTIMATORS["spherical"], 2, 2)]
    kw = {**KW, "device": "cuda", "sampling": "unit"}
    for precision, tol in (("fp32", 1e-4), ("bf16", 1e-3)):
        eager = run_staircase_group(members, "joint", STAIRS, precision=precision, **kw)
        graphed = run_staircase_group(members, "joint", STAIRS, precision=precision,
                                      graphs=True, **kw)
        for a, b in zip(eager, graphed):
            assert b.meta["cuda_graphs"] and b.meta["device_name"] != "cpu"
            np.testing.assert_allclose(a.train_plugin, b.train_plugin, atol=tol, rtol=0)
            np.testing.assert_allclose(a.heldout_plugin, b.heldout_plugin, atol=tol, rtol=0)
