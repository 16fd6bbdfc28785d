"""Samplers, training, batched runs and results files (issue #4)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from numerics.exact.mi import mutual_information  # noqa: E402
from numerics.neural import losses as torch_losses  # noqa: E402
from numerics.neural.loop import TrainingDiverged
from numerics.neural.results import write_results
from numerics.neural.samplers import DiscreteJointSampler, GaussianSampler
from numerics.neural.streams import stream_generator
from numerics.neural.train import train
from theory.errors import InputError  # noqa: E402

JOINT = np.array([[0.20, 0.05, 0.05],
                  [0.03, 0.25, 0.02],
                  [0.05, 0.05, 0.30]])
SMALL = {"hidden": 16, "layers": 2, "embed": 4}
LOSS_PARAMS = {"smile": {"tau": 5.0}, "power": {"alpha": 2.0}, "pseudo_spherical": {"alpha": 2.0},
               "alpha_infonce": {"alpha": 0.5}}
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


# ------------------------------------------------------------------------------ samplers
def test_discrete_sampler_frequencies_match_the_joint():
    joint = np.array([[0.1, 0.0, 0.25], [0.3, 0.15, 0.2]])
    s = DiscreteJointSampler(joint)
    N = 40_000
    x, y = s.sample(N, torch.Generator().manual_seed(0))
    assert x.dtype == torch.int64 and x.shape == y.shape == (N,)
    counts = np.zeros_like(joint)
    np.add.at(counts, (x.numpy(), y.numpy()), 1)
    sd = np.sqrt(N * joint * (1 - joint))
    assert counts[0, 1] == 0                                  # a zero cell is never drawn
    assert np.all(np.abs(counts - N * joint) <= 5 * sd + 1e-12)   # 5-sigma binomial tolerance
    assert s.true_mi_nats == pytest.approx(mutual_information(joint))


def test_discrete_sampler_is_seeded_and_one_hot_features():
    s = DiscreteJointSampler(JOINT)
    a = s.sample(16, torch.Generator().manual_seed(3))
    b = s.sample(16, torch.Generator().manual_seed(3))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    fx, fy = s.features(*a)
    assert fx.shape == (16, 3) and fy.shape == (16, 3) and fx.dtype == torch.float32
    assert torch.equal(fx.argmax(-1), a[0]) and torch.all(fy.sum(-1) == 1)
    with pytest.raises(InputError, match="joint"):
        DiscreteJointSampler(np.array([0.5, 0.5]))
    with pytest.raises(InputError, match="sum to 1"):
        DiscreteJointSampler(np.array([[0.5, 0.6]]))


@pytest.mark.parametrize("mi_nats", [0.5, 2 * math.log(2) * 4])
def test_gaussian_sampler_correlation_and_mi(mi_nats):
    s = GaussianSampler(dim=10, mi_nats=mi_nats)
    rho = math.sqrt(1 - math.exp(-2 * mi_nats / 10))
    assert s.rho == pytest.approx(rho) and s.true_mi_nats == pytest.approx(mi_nats)
    N = 20_000
    x, y = s.sample(N, torch.Generator().manual_seed(1))
    assert x.shape == y.shape == (N, 10)
    x, y = x.double().numpy(), y.double().numpy()
    corr = np.array([np.corrcoef(x[:, k], y[:, k])[0, 1] for k in range(10)])
    se = (1 - rho ** 2) / math.sqrt(N)                       # s.e. of a sample correlation
    assert np.all(np.abs(corr - rho) < 5 * se)
    assert abs(np.corrcoef(x[:, 0], y[:, 1])[0, 1]) < 5 / math.sqrt(N)   # other coordinates
    assert np.allclose(y.std(0), 1, atol=0.05)


def test_gaussian_cubic_cubes_the_same_draw():
    plain, cubic = GaussianSampler(4, 1.0), GaussianSampler(4, 1.0, cubic=True)
    x1, y1 = plain.sample(100, torch.Generator().manual_seed(5))
    x2, y2 = cubic.sample(100, torch.Generator().manual_seed(5))
    assert torch.equal(x1, x2) and torch.allclose(y2, y1 ** 3)
    assert cubic.true_mi_nats == pytest.approx(plain.true_mi_nats)
    for bad in ({"dim": 0}, {"mi_nats": -1.0}, {"mi_nats": float("nan")}):
        with pytest.raises(InputError):
            GaussianSampler(**bad)


# ------------------------------------------------------------------------------ training
def _run(estimator="infonce_anchor", critic="tabular", sampler=None, **kw):
    args = dict(batch_size=16, steps=25, lr=0.01, seed=7, progress=False, eval_batches=4,
                **SMALL)
    args.update(LOSS_PARAMS.get(estimator, {}))
    args.update(kw)
    return train(estimator, critic, sampler or DiscreteJointSampler(JOINT), **args)


@pytest.mark.parametrize("estimator", torch_losses.LOSSES)
def test_every_estimator_trains_and_reports_its_kind(estimator):
    res = _run(estimator, steps=5)
    assert res.kind == torch_losses.REPORTS[estimator]
    assert res.losses.shape == (5, 1) and np.all(np.isfinite(res.losses))
    assert isinstance(res.plugin_nats, float) and res.plugin_se_nats > 0
    if res.kind == "bound":
        assert res.estimate_nats == res.bound_nats and res.bound_se_nats > 0
    else:
        assert res.estimate_nats == res.plugin_nats
    if estimator in torch_losses.SLOT_LOSSES:
        assert res.K == 15
    assert res.true_mi_nats == pytest.approx(mutual_information(JOINT))
    assert res.device == "cpu" and res.runs == 1 and res.seed == 7


@pytest.mark.parametrize("critic", ["tabular", "separable"])
def test_training_is_deterministic_on_cpu(critic):
    a, b = _run("nwj", critic), _run("nwj", critic)
    assert a.plugin_nats == b.plugin_nats and a.bound_nats == b.bound_nats
    assert np.array_equal(a.losses, b.losses)
    c = _run("nwj", critic, seed=8)
    assert not np.array_equal(a.losses, c.losses)


GAUSS = GaussianSampler(dim=3, mi_nats=1.0)


@pytest.mark.parametrize("estimator,critic,sampler", [
    ("infonce_anchor", "tabular", None),
    ("infonce", "separable", None),
    ("nwj", "joint", None),
    ("mine", "separable", GAUSS),
    ("smile", "joint", GAUSS),
    ("dv", "bilinear", GAUSS),
])
def test_batched_runs_equal_one_run_at_a_time(estimator, critic, sampler):
    batched = _run(estimator, critic, sampler, runs=3)
    assert batched.losses.shape == (25, 3)
    for r in range(3):
        single = _run(estimator, critic, sampler, seed=7 + r)
        np.testing.assert_allclose(batched.losses[:, r], single.losses[:, 0], rtol=1e-5,
                                   atol=1e-5)
        for name in ("plugin_nats", "bound_nats", "plugin_se_nats", "estimate_nats"):
            b, s = batched.per_run(name)[r], getattr(single, name)
            assert (b is None) == (s is None)
            if b is not None:
                assert b == pytest.approx(s, abs=1e-5), name


def test_batched_result_fields_are_per_run():
    res = _run("drf", runs=2)
    assert isinstance(res.plugin_nats, list) and len(res.plugin_nats) == 2
    assert res.bound_nats == [None, None] and res.kind == "plug-in"
    rows = res.rows()
    assert [row["seed"] for row in rows] == [7, 8] and [row["run"] for row in rows] == [0, 1]


def test_streams_differ_per_run_and_purpose():
    draws = [torch.randn(4, generator=stream_generator(s, k)) for s, k in
             ((0, 1), (0, 2), (1, 1))]
    assert not torch.equal(draws[0], draws[1]) and not torch.equal(draws[0], draws[2])


def test_tabular_infonce_anchor_converges_to_the_true_mi():
    """Plug-in E_p[c] of a tabular critic trained with InfoNCE-anchor (nu = 1, K = B - 1 = 63).

    Tolerance, from observation: over 30 seeds this configuration left plug-in - I a mean of
    +0.013 nats and a per-run sd of 0.025 nats, of which the held-out Monte Carlo s.e.
    (100 batches of 64) is about 0.0095 and the rest is the critic's own SGD noise at a
    fixed learning rate.  0.1 nats is 4 per-run sd's (about 10 MC s.e.).  (Seed 0 gives
    -0.0055 nats, s.e. 0.0092.)  Runs in about 2 s.
    """
    sampler = DiscreteJointSampler(JOINT)
    res = train("infonce_anchor", "tabular", sampler, batch_size=64, steps=2000, lr=0.02,
                seed=0, eval_batches=100, progress=False)
    assert res.plugin_se_nats < 0.02
    assert abs(res.plugin_nats - sampler.true_mi_nats) < 0.1
    # the critic approaches the PMI wherever p(x, y) has mass
    pmi = np.log(JOINT / np.outer(JOINT.sum(1), JOINT.sum(0)))
    assert np.abs(res.critic.table.detach().numpy()[0] - pmi).max() < 0.35


def test_training_input_errors():
    s = DiscreteJointSampler(JOINT)
    cases = [({"estimator": "foo"}, "estimator"), ({"critic": "mlp"}, "critic"),
             ({"batch_size": 1}, "batch_size"), ({"lr": 0.0}, "lr"), ({"steps": -1}, "steps"),
             ({"eval_batches": 1}, "eval_batches"), ({"runs": 0}, "runs"), ({"seed": -1}, "seed"),
             ({"device": "tpu"}, "device"), ({"estimator": "smile", "tau": None}, "tau"),
             ({"K": 16}, "K")]
    for kw, argument in cases:
        est = kw.pop("estimator", "infonce_anchor")
        critic = kw.pop("critic", "tabular")
        with pytest.raises(InputError) as info:
            train(est, critic, s, **{**dict(batch_size=16, steps=2, seed=0, progress=False),
                                     **kw})
        assert info.value.argument == argument
    with pytest.raises(InputError, match="discrete"):
        train("dv", "tabular", GaussianSampler(2, 1.0), batch_size=4, steps=1, seed=0)


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_without_cuda_is_an_input_error():
    with pytest.raises(InputError, match="CUDA"):
        _run(device="cuda")


def test_divergence_is_reported():
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        _run("nwj", batch_size=8, steps=20, lr=1e30)


def test_progress_fallback_or_tqdm_writes_to_stderr(capsys):
    _run(steps=20, progress=True)
    out, err = capsys.readouterr()
    assert out == "" and "20" in err


# ------------------------------------------------------------------------------ results
def test_write_results_csv_one_row_per_run(tmp_path):
    res = [_run("infonce", runs=2), _run("drf")]
    path = write_results(res, tmp_path / "r.csv", extra={"kjs_target_nats": 0.5})
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 3
    assert {"estimate_nats", "bound_nats", "plugin_nats", "plugin_se_nats", "true_mi_nats",
            "kjs_target_nats", "seed", "run"} <= set(rows[0])
    assert float(rows[1]["bound_nats"]) == pytest.approx(res[0].bound_nats[1])
    assert rows[2]["bound_nats"] == "" and rows[2]["kind"] == "plug-in"


def test_write_results_parquet_or_clear_error(tmp_path):
    res = _run(steps=2)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        with pytest.raises(InputError, match="pyarrow"):
            write_results(res, tmp_path / "r.parquet")
    else:
        path = write_results(res, tmp_path / "r.parquet")
        assert pq.read_table(path).num_rows == 1
    with pytest.raises(InputError, match=r"\.csv or \.parquet"):
        write_results(res, tmp_path / "r.txt")
    with pytest.raises(InputError, match="cannot write"):
        write_results(res, tmp_path / "missing" / "r.csv")


# ------------------------------------------------------------------------------ GPU
@pytest.mark.gpu
@cuda
def test_cuda_training_and_batched_equivalence():
    sampler = GaussianSampler(dim=10, mi_nats=2.0)
    kw = dict(batch_size=64, steps=50, lr=1e-3, seed=3, eval_batches=4, progress=False,
              device="cuda")
    batched = train("infonce_anchor", "separable", sampler, runs=3, **kw)
    assert batched.device.startswith("cuda")
    for r in range(3):
        single = train("infonce_anchor", "separable", sampler, **{**kw, "seed": 3 + r})
        assert batched.plugin_nats[r] == pytest.approx(single.plugin_nats, abs=1e-3)


# ------------------------------------------------------------------------------ convergence (#11)
from scipy import stats  # noqa: E402

from numerics.exact.mi import mi_estimator, mi_kway_jsd  # noqa: E402
from numerics.neural.architecture import DEFAULT_LR, default_lr  # noqa: E402
from numerics.neural.train import Convergence, convergence_trend  # noqa: E402

JOINT6 = np.full((6, 6), (1 - 6 * 0.152) / 30) + np.eye(6) * (0.152 - (1 - 6 * 0.152) / 30)


def test_convergence_trend_matches_least_squares():
    """Slope x window from scipy's linregress; SE = linregress's stderr x window x sqrt(tau)
    (tau, the batch-means factor, recomputed here from the residuals)."""
    rng = np.random.default_rng(0)
    n, w = 2000, 500
    values = 0.3 + 0.2 * np.arange(n) / n + rng.normal(0, 0.05, n)
    c = convergence_trend(values)
    window = values[-w:]
    fit = stats.linregress(np.arange(w), window)
    resid = window - (fit.intercept + fit.slope * np.arange(w))
    block_means = resid.reshape(10, 50).mean(axis=1)
    tau = max(1.0, 50 * block_means.var(ddof=1) / (resid @ resid / (w - 2)))
    assert c.window_steps == w and c.steps == n
    assert c.change_nats == pytest.approx(fit.slope * w, rel=1e-9)
    assert c.autocorrelation_time == pytest.approx(tau, rel=1e-9)
    assert c.change_se_nats == pytest.approx(fit.stderr * w * math.sqrt(tau), rel=1e-9)
    assert c.level_nats == pytest.approx(window.mean(), rel=1e-12)
    # the true rise over the window is 0.05 nats; its s.e. about 0.05 * sqrt(12 / 500) = 0.008
    assert abs(c.change_nats - 0.05) < 4 * c.change_se_nats
    assert c.converged is False and c.reason.startswith("still rising by ")


def test_convergence_trend_flat_noise_and_autocorrelation():
    rng = np.random.default_rng(1)
    assert convergence_trend(rng.normal(1.0, 0.5, 4000)).converged is True
    # AR(1) noise, phi = 0.8: the variance of a mean is inflated by (1 + phi) / (1 - phi) = 9;
    # the batch-means tau (10 blocks of 250 steps) estimates it with ~50% relative error
    phi, n = 0.8, 10_000
    eps = rng.normal(0, 0.3, n)
    ar = np.empty(n)
    ar[0] = eps[0]
    for i in range(1, n):
        ar[i] = phi * ar[i - 1] + eps[i]
    c = convergence_trend(1.0 + ar)
    assert 3 < c.autocorrelation_time < 27
    assert c.converged is True
    # the iid formula alone would be too narrow by sqrt(tau)
    naive = stats.linregress(np.arange(2500), ar[-2500:]).stderr * 2500
    assert c.change_se_nats == pytest.approx(naive * math.sqrt(c.autocorrelation_time))


def test_convergence_trend_edge_cases():
    short = convergence_trend(np.arange(79.0))          # window 20 needs 80 steps
    assert short.converged is None and short.change_nats is None and "too few" in short.reason
    assert convergence_trend(np.arange(80.0)).converged is False
    assert convergence_trend([]).converged is None
    bad = np.ones(200)
    bad[-3] = np.nan
    assert convergence_trend(bad).converged is False
    # a significant but tiny drift (0.5% of the level) counts as converged; 2% does not
    t = np.arange(4000)
    assert convergence_trend(1.0 + 0.005 * t / 1000).converged is True
    assert convergence_trend(1.0 + 0.02 * t / 1000).converged is False
    falling = convergence_trend(2.0 - t / 4000)
    assert falling.converged is False and falling.change_nats == pytest.approx(-0.25)
    assert "falling" in falling.reason
    assert convergence_trend(np.ones(400), window=1.0).window_steps == 400
    for kw in ({"window": 0}, {"window": 1.5}, {"batches": 1}):
        with pytest.raises(InputError):
            convergence_trend(np.ones(400), **kw)
    d = short.as_dict()
    assert set(d) == set(Convergence.__dataclass_fields__)


def test_train_result_carries_estimates_and_convergence():
    res = _run("infonce", runs=2, steps=100)
    assert res.estimates.shape == (100, 2) and np.all(np.isfinite(res.estimates))
    assert len(res.convergence) == 2 and res.converged == [c.converged for c in res.convergence]
    for r in range(2):
        assert res.convergence[r] == convergence_trend(res.estimates[:, r])
    d = res.as_dict()
    assert d["converged"] == res.converged and len(d["convergence"]) == 2
    rows = res.rows()
    assert {"converged", "trend_change_nats", "trend_change_se_nats",
            "trend_window_steps"} <= set(rows[0])
    single = _run("drf", steps=100)                     # a plug-in estimator: its plug-in curve
    assert isinstance(single.convergence, Convergence) and single.estimates.shape == (100, 1)


def test_default_lr_table():
    assert DEFAULT_LR == {"tabular": 0.02, "bilinear": 0.02, "joint": 1e-4, "separable": 1e-4,
                          "separable_pd": 1e-4}
    assert default_lr("bilinear") == 0.02
    with pytest.raises(InputError):
        default_lr("mlp")


def test_tabular_infonce_at_the_default_lr_reaches_its_population_target():
    """6x6 joint, B = 8, the tabular default lr 0.02, 1500 steps: the trained table's *exact*
    population InfoNCE (numerics.exact.mi, K = 7, slots over y: transposed) is within 0.02 nats
    of D_KJS(K = 7) = 1.042.  Measured: 5 seeds averaged -0.003 nats (sd 0.001) after 1000
    steps; 0.02 covers the SGD jitter at lr 0.02 many times over.  The diagnostic passes it."""
    res = train("infonce", "tabular", DiscreteJointSampler(JOINT6), batch_size=8, steps=1500,
                lr=default_lr("tabular"), seed=0, eval_batches=2, progress=False)
    table = res.critic.table.detach().double().numpy()[0]
    value = mi_estimator("infonce", np.exp(table).T, JOINT6.T, K=7).estimate
    assert abs(value - mi_kway_jsd(JOINT6.T, 7)) < 0.02
    assert res.converged is True


def test_under_trained_run_is_flagged():
    """lr 1e-4 (the paper's, for 2 x 512 MLPs) on the tabular critic: after 1000 steps the
    training bound still climbs by ~0.02 nats per 250 steps with s.e. ~0.003."""
    res = train("infonce", "tabular", DiscreteJointSampler(JOINT6), batch_size=8, steps=1000,
                lr=1e-4, seed=0, eval_batches=2, progress=False)
    c = res.convergence
    assert c.converged is False and c.change_nats > 3 * c.change_se_nats
    table = res.critic.table.detach().double().numpy()[0]
    assert mi_estimator("infonce", np.exp(table).T, JOINT6.T, K=7).estimate < 0.5
