"""The SSL experiment's core (Sec. 4.3, Table 2, App. G.3): numerics.neural.factorisation and
numerics.ssl.objectives / probe / train / statistics.

Every expected value is computed here without the code under test: score matrices and losses
with explicit Python loops over floats (``math``) from the formulas in the paper or in the
docstrings quoted next to each test, probe accuracies counted by hand, training behaviour
replayed step by step from the documented seeding, summaries with Python's ``statistics``.
Sizes are tiny (batches of 5-8, 8x8 images, a width-4 conv net), so the file runs in seconds.
"""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("sklearn")

from numerics.neural.factorisation import (
    FACTORISATIONS,
    check_factorisation,
    factorised_scores,
    pd_scores,
    pmi_scores,
)
from numerics.ssl.augment import Augment
from numerics.ssl.data import ImageDataset
from numerics.ssl.encoders import ProjectionHead, make_encoder
from numerics.ssl.objectives import (
    OBJECTIVES,
    TABLE2_PAPER,
    SSLObjective,
    objective,
)
from numerics.ssl.probe import encode, linear_probe, top_k_accuracy
from numerics.ssl.statistics import summary_rows
from numerics.ssl.train import (
    TrainSettings,
    batches,
    pretrain,
    random_encoder,
    train_supervised,
)
from theory.errors import InputError


# ------------------------------------------------------------------------------ hand helpers
def _softplus(z: float) -> float:
    """``log(1 + e^z)`` for moderate ``z`` (the tests' inputs lie in about [-8, 8])."""
    return math.log1p(math.exp(z))


def _unit(row: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in row))
    return [x / norm for x in row]


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b))


def _rows(t: torch.Tensor) -> list[list[float]]:
    return [[float(x) for x in row] for row in t]


def _hand_pmi(u: list[list[float]], v: list[list[float]], tau: float, normalize: bool):
    """``S[i][j] = <u_i, v_j> / tau`` (unit rows first when ``normalize``), Sec. 3.1's PMI form."""
    if normalize:
        u, v = [_unit(r) for r in u], [_unit(r) for r in v]
    return [[_dot(a, b) / tau for b in v] for a in u]


def _hand_pd_ratio(u: list[list[float]], v: list[list[float]], tau: float, normalize: bool):
    """``r[i][j] = <softplus(u_i), softplus(v_j)> / tau`` (softplus, then unit rows when
    ``normalize``): the PD form of factorisation.py's module docstring."""
    su = [[_softplus(x) for x in r] for r in u]
    sv = [[_softplus(x) for x in r] for r in v]
    if normalize:
        su, sv = [_unit(r) for r in su], [_unit(r) for r in sv]
    return [[_dot(a, b) / tau for b in sv] for a in su]


def _transpose(M: list[list[float]]) -> list[list[float]]:
    return [list(col) for col in zip(*M)]


def _symmetrised(loss, M: list[list[float]]) -> float:
    """``(L(S) + L(S^T)) / 2``: objectives.py's module docstring ("Views")."""
    return (loss(M) + loss(_transpose(M))) / 2


def _infonce_hand(S: list[list[float]]) -> float:
    """InfoNCE with ``K = B - 1`` slots per row, the diagonal and the next ``B - 2`` columns
    (losses.py's module docstring, "Slot losses"): ``-S_ii + log sum_{k<K} e^{S_i,(i+k) mod B}``,
    averaged over rows."""
    B = len(S)
    K = B - 1
    rows = [-S[i][i] + math.log(sum(math.exp(S[i][(i + k) % B]) for k in range(K)))
            for i in range(B)]
    return sum(rows) / B


def _anchor_hand(S: list[list[float]], nu: float = 1.0) -> float:
    """Eq. 4 as in ``infonce_anchor_loss``'s docstring: ``K/(K+nu) mean_i -log(e^{S_ii} / (nu +
    sum_{j in J_i} e^{S_ij})) + nu/(K+nu) mean_i -log(nu / (nu + sum_{j in N_i} e^{S_ij}))``,
    ``J_i = {i, ..., i+K-1}``, ``N_i = {i+1, ..., i+K}`` (mod B), ``K = B - 1``."""
    B = len(S)
    K = B - 1
    joint = [-S[i][i] + math.log(nu + sum(math.exp(S[i][(i + k) % B]) for k in range(K)))
             for i in range(B)]
    noise = [-math.log(nu) + math.log(nu + sum(math.exp(S[i][(i + k) % B])
                                               for k in range(1, K + 1)))
             for i in range(B)]
    return K / (K + nu) * sum(joint) / B + nu / (K + nu) * sum(noise) / B


def _js_hand(S: list[list[float]]) -> float:
    """``js_loss``'s docstring: ``E_p[softplus(-c)] + E_pp[softplus(c)]``, the diagonal mean and
    the mean over the ``B(B-1)`` off-diagonal pairs."""
    B = len(S)
    diag = sum(_softplus(-S[i][i]) for i in range(B)) / B
    off = sum(_softplus(S[i][j]) for i in range(B) for j in range(B) if i != j) / (B * (B - 1))
    return diag + off


def _chi2_hand(r: list[list[float]]) -> float:
    """``drf_loss``'s docstring: ``-2 E_p[e^c] + E_pp[e^{2c}]`` with ``r = e^c``."""
    B = len(r)
    diag = sum(r[i][i] for i in range(B)) / B
    off = sum(r[i][j] ** 2 for i in range(B) for j in range(B) if i != j) / (B * (B - 1))
    return -2 * diag + off


def _spherical_hand(r: list[list[float]], nu: float = 1.0) -> float:
    """The last row of the paper's Table 6 (the "Spherical objective in the main text", App. E),
    pseudo-spherical at alpha = 2 with ``p(x_1:K) = [nu, r(x_1), ..., r(x_K)]``:
    ``K/(K+nu) E_q1[-r(x_1) / ||p||_2] + nu/(K+nu) E_q0[-nu / ||p||_2]``; slots ``J_i`` / ``N_i``
    as in :func:`_anchor_hand`, ``K = B - 1``."""
    B = len(r)
    K = B - 1
    joint, noise = [], []
    for i in range(B):
        p = [nu] + [r[i][(i + k) % B] for k in range(K)]
        joint.append(-p[1] / math.sqrt(sum(x * x for x in p)))
        q = [nu] + [r[i][(i + k) % B] for k in range(1, K + 1)]
        noise.append(-nu / math.sqrt(sum(x * x for x in q)))
    return K / (K + nu) * sum(joint) / B + nu / (K + nu) * sum(noise) / B


def _randn(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=g, dtype=torch.float64)


# ============================================================================ factorisation
def test_pmi_scores_match_a_hand_loop_with_runs_and_normalisation() -> None:
    # expected: S[r][i][j] = sum_k u[r,i,k] v[r,j,k] / tau by Python loops (Sec. 3.1, PMI form)
    u, v = _randn(2, 3, 4, seed=1), _randn(2, 3, 4, seed=2)
    for normalize in (False, True):
        S = pmi_scores(u, v, tau=0.3, normalize=normalize)
        assert S.shape == (2, 3, 3) and S.dtype == torch.float64
        for run in range(2):
            expected = _hand_pmi(_rows(u[run]), _rows(v[run]), 0.3, normalize)
            assert np.allclose(S[run].numpy(), expected, rtol=1e-12, atol=1e-12)
    # unit rows: |S| <= 1 / tau (Cauchy-Schwarz)
    assert float(pmi_scores(u, v, tau=0.3, normalize=True).abs().max()) <= 1 / 0.3 + 1e-12


def test_pd_scores_match_the_direct_formula_with_runs_and_normalisation() -> None:
    # expected: log(sum_k softplus(u_ik) softplus(v_jk) / tau), softplus = log1p(exp) by hand;
    # with normalize: softplus, then each row to unit length, then the inner product
    u, v = _randn(3, 4, 5, seed=3, scale=2.0), _randn(3, 4, 5, seed=4, scale=2.0)
    for normalize in (False, True):
        S = pd_scores(u, v, tau=0.7, normalize=normalize)
        assert S.shape == (3, 4, 4) and S.dtype == torch.float64
        for run in range(3):
            ratio = _hand_pd_ratio(_rows(u[run]), _rows(v[run]), 0.7, normalize)
            expected = [[math.log(x) for x in row] for row in ratio]
            assert np.allclose(S[run].numpy(), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-9), (torch.float32, 2e-3)])
def test_pd_scores_exact_and_finite_for_very_negative_embeddings(dtype, atol) -> None:
    # u = v = -500 everywhere: softplus(-500) = e^-500 (1 + O(e^-500)), so by hand
    # log r = log(d e^-1000) - log tau = log d - 1000 - log tau (softplus itself underflows in
    # float32 and float64; the score must not).
    B, d, tau = 2, 3, 0.5
    u = torch.full((B, d), -500.0, dtype=dtype, requires_grad=True)
    v = torch.full((B, d), -500.0, dtype=dtype, requires_grad=True)
    S = pd_scores(u, v, tau=tau)
    assert torch.isfinite(S).all()
    assert np.allclose(S.detach().double().numpy(), math.log(d) - 1000 - math.log(tau),
                       rtol=0, atol=atol)
    # gradient by hand: S_ij = log sum_k e^{u_ik + v_jk} - log tau there, so dS_ij/du_ik = 1/d
    # and d(sum S)/du_ik = B/d (likewise for v)
    S.sum().backward()
    assert torch.isfinite(u.grad).all() and torch.isfinite(v.grad).all()
    assert np.allclose(u.grad.double().numpy(), B / d, atol=1e-6)
    assert np.allclose(v.grad.double().numpy(), B / d, atol=1e-6)
    # normalised: every softplus(u) row is e^-500 (1, ..., 1), unit length (1, ..., 1)/sqrt(d),
    # so the inner product is 1 and S = log(1 / tau)
    Sn = pd_scores(u.detach(), v.detach(), tau=tau, normalize=True)
    assert np.allclose(Sn.double().numpy(), -math.log(tau), atol=atol)


def test_pd_scores_mixed_scales_are_exact() -> None:
    # u = -500 everywhere, v moderate: log r_ij = -500 + log(sum_k softplus(v_jk)) - log tau,
    # softplus by hand
    u = torch.full((2, 4), -500.0, dtype=torch.float64)
    v = _randn(3, 4, seed=5)
    S = pd_scores(u, v, tau=0.2)
    expected = [[-500 + math.log(sum(_softplus(x) for x in row)) - math.log(0.2)
                 for row in _rows(v)] for _ in range(2)]
    assert np.allclose(S.numpy(), expected, rtol=0, atol=1e-9)


def test_factorised_scores_dispatches_by_name() -> None:
    # expected: the hand PMI / PD matrices of the two tests above
    u, v = _randn(3, 4, seed=6), _randn(3, 4, seed=7)
    assert FACTORISATIONS == ("pmi", "pd")
    pmi = factorised_scores(u, v, "pmi", tau=0.5, normalize=True)
    assert np.allclose(pmi.numpy(), _hand_pmi(_rows(u), _rows(v), 0.5, True), atol=1e-12)
    pd = factorised_scores(u, v, "pd", tau=0.5, normalize=True)
    expected = [[math.log(x) for x in row] for row in _hand_pd_ratio(_rows(u), _rows(v), 0.5,
                                                                          True)]
    assert np.allclose(pd.numpy(), expected, atol=1e-12)
    assert check_factorisation("pmi") == "pmi" and check_factorisation("pd") == "pd"
    for bad in ("PMI", "nope", None, 1):
        with pytest.raises(InputError, match="factorisation") as caught:
            check_factorisation(bad)
        assert caught.value.argument == "factorisation"
        with pytest.raises(InputError) as caught:
            factorised_scores(u, v, bad)  # type: ignore[arg-type]
        assert caught.value.argument == "factorisation"


@pytest.mark.parametrize("tau", [0, 0.0, -1.0, True, False, math.nan, math.inf, "1", None])
def test_bad_temperature_names_tau(tau) -> None:
    u = _randn(2, 3, seed=8)
    for call in (lambda: pmi_scores(u, u, tau=tau), lambda: pd_scores(u, u, tau=tau),
                 lambda: factorised_scores(u, u, "pmi", tau=tau),
                 lambda: factorised_scores(u, u, "pd", tau=tau)):
        with pytest.raises(InputError) as caught:
            call()
        assert caught.value.argument == "tau"


# ================================================================================ objectives
# App. G.3 of the paper (paper.txt lines 1429-1441), quoted:
#   "We used the temperature parameter tau = 0.2 throughout, unless stated otherwise.
#    InfoNCE: Log score, K = B - 1, nu = 0, PMI factorization.
#    InfoNCE-anchor: Log score, K = B - 1, nu = 1, PMI factorization.
#    JS: Log score, K = 1, nu = 1, PMI factorization.
#    Spherical: Spherical score, K = B - 1, nu = 1, PD factorization.
#    chi^2: Asymmetric power score with alpha = 2, K = 1, nu = 1. In this case, tau = 0.1 was
#    used."
# and Table 2's caption (line 557): "We used PD parameterization for Spherical and chi^2."
# Columns of Table 2 (line 560): InfoNCE, InfoNCE-anchor, Spherical, JS, chi^2.
PAPER_G3 = {  # name: (label, scoring rule, K, nu, factorisation, tau)
    "infonce": ("InfoNCE", "log", "B-1", 0.0, "pmi", 0.2),
    "infonce_anchor": ("InfoNCE-anchor", "log", "B-1", 1.0, "pmi", 0.2),
    "spherical": ("Spherical", "spherical", "B-1", 1.0, "pd", 0.2),
    "js": ("JS", "log", 1, 1.0, "pmi", 0.2),
    "chi2": ("chi^2", "asymmetric power alpha=2", 1, 1.0, "pd", 0.1),
}

# How the losses of numerics.neural.losses map to the paper's terms, from their docstrings:
# infonce = Eq. 4 at nu = 0 with K slots (K = None: B - 1); infonce_anchor = Eq. 4 (nu default
# 1); pseudo_spherical at alpha = 2 = the spherical rule (Table 6); js = "twice Eq. 4 at K = 1,
# nu = 1" (log score); drf = "the power rule at alpha = 2" (K = 1, nu = 1, Tables 3 and 5).
_SLOT_LOSS_RULE = {"infonce": "log", "infonce_anchor": "log", "pseudo_spherical": "spherical"}
_SINGLE_SLOT_RULE = {"js": "log", "drf": "asymmetric power alpha=2"}


def _paper_terms(o: SSLObjective) -> tuple:
    if o.loss in _SLOT_LOSS_RULE:
        rule = _SLOT_LOSS_RULE[o.loss]
        if o.loss == "pseudo_spherical":
            assert o.alpha == 2.0, "the spherical score is pseudo-spherical at alpha = 2"
        K = "B-1" if o.K is None else o.K
        nu = (0.0 if o.loss == "infonce" else 1.0) if o.nu is None else o.nu
        return (o.label, rule, K, nu, o.factorisation, o.tau)
    assert o.K is None and o.nu is None, f"{o.name}: a single-slot loss takes no K / nu"
    return (o.label, _SINGLE_SLOT_RULE[o.loss], 1, 1.0, o.factorisation, o.tau)


def test_objectives_are_those_of_appendix_g3_in_table2_order() -> None:
    assert list(OBJECTIVES) == list(PAPER_G3)
    for name, expected in PAPER_G3.items():
        assert _paper_terms(OBJECTIVES[name]) == expected, name
        assert objective(name) is OBJECTIVES[name]


def test_unknown_objective_names_objectives() -> None:
    with pytest.raises(InputError) as caught:
        objective("nope")
    assert caught.value.argument == "objectives"


def test_table2_holds_the_printed_numbers() -> None:
    # paper.txt lines 560-562 (OCR):
    #   "Objective InfoNCE  InfoNCE-anchor Spherical ~ JS X2
    #    Top-1 accuracy 65.98 65.74 4.33 61.69 65.59
    #    Top-5 accuracy 89.69 89.24 1791 87.33 88.4"
    # (OCR dropped the point of Spherical's top-5, 17.91).  Checked: InfoNCE (65.98, 89.69),
    # JS (61.69, 87.33), chi^2 (65.59, 88.4).
    assert TABLE2_PAPER == {
        "infonce": (65.98, 89.69), "infonce_anchor": (65.74, 89.24),
        "spherical": (4.33, 17.91), "js": (61.69, 87.33), "chi2": (65.59, 88.4)}
    assert set(TABLE2_PAPER) == set(OBJECTIVES)


def _embeddings(B: int = 5, d: int = 4, seed: int = 11) -> tuple[torch.Tensor, torch.Tensor]:
    return _randn(B, d, seed=seed, scale=1.5), _randn(B, d, seed=seed + 1, scale=1.5)


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_loss_is_symmetric_in_the_two_views(name) -> None:
    # expected: the loss is symmetrised, (L(S) + L(S^T)) / 2, and swapping the views turns S
    # into S^T, so the value is unchanged
    z1, z2 = _embeddings()
    a, b = OBJECTIVES[name].loss_value(z1, z2), OBJECTIVES[name].loss_value(z2, z1)
    assert a.ndim == 0 and torch.isfinite(a)
    assert float(a) == pytest.approx(float(b), rel=1e-12, abs=1e-12)


def _hand_loss(name: str, z1: torch.Tensor, z2: torch.Tensor) -> float:
    """The symmetrised loss of objective ``name`` from the paper's table above, by hand."""
    u, v = _rows(z1), _rows(z2)
    if name == "infonce":
        return _symmetrised(_infonce_hand, _hand_pmi(u, v, 0.2, True))
    if name == "infonce_anchor":
        return _symmetrised(_anchor_hand, _hand_pmi(u, v, 0.2, True))
    if name == "js":
        return _symmetrised(_js_hand, _hand_pmi(u, v, 0.2, True))
    if name == "spherical":
        return _symmetrised(_spherical_hand, _hand_pd_ratio(u, v, 0.2, True))
    assert name == "chi2"
    return _symmetrised(_chi2_hand, _hand_pd_ratio(u, v, 0.1, True))


@pytest.mark.parametrize("name", list(OBJECTIVES))
@pytest.mark.parametrize("B", [3, 5])
def test_loss_value_matches_the_hand_computation(name, B) -> None:
    # expected: _hand_loss, explicit float loops (see the helpers' docstrings for the sources)
    z1, z2 = _embeddings(B=B, d=4, seed=20 + B)
    got = float(OBJECTIVES[name].loss_value(z1, z2))
    assert got == pytest.approx(_hand_loss(name, z1, z2), rel=1e-10, abs=1e-12)


# ===================================================================================== probe
def test_top_k_accuracy_on_a_hand_made_matrix() -> None:
    P = np.array([[0.1, 0.6, 0.3],    # order 1, 2, 0; label 1: in top 1
                  [0.5, 0.2, 0.3],    # order 0, 2, 1; label 2: in top 2
                  [0.2, 0.3, 0.5],    # order 2, 1, 0; label 0: in top 3 only
                  [0.4, 0.4, 0.2]])   # tie broken by index: 0, 1, 2; label 1: in top 2
    labels = np.array([1, 2, 0, 1])
    assert top_k_accuracy(P, labels, 1) == 1 / 4
    assert top_k_accuracy(P, labels, 2) == 3 / 4
    assert top_k_accuracy(P, labels, 3) == 1.0
    assert top_k_accuracy(P, labels, 5) == 1.0   # k > number of classes: every class counts
    with pytest.raises(InputError) as caught:
        top_k_accuracy(P, labels, 0)
    assert caught.value.argument == "k"


def test_linear_probe_separates_three_blobs() -> None:
    # three gaussian blobs (sd 0.3) 10 apart in 4-d are linearly separable: a logistic
    # regression gets every test point right (top-1 = 1), and top-5 of 3 classes is 1 by
    # definition; labels 2, 5, 7 (not 0..2) exercise the label -> column mapping
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0, 0, 0], [10.0, 0, 0, 0], [0.0, 10, 0, 0]])
    names = np.array([2, 5, 7])

    def blobs(n: int) -> tuple[np.ndarray, np.ndarray]:
        x = np.concatenate([c + 0.3 * rng.standard_normal((n, 4)) for c in centres])
        return x, np.repeat(names, n)

    train_x, train_y = blobs(20)
    test_x, test_y = blobs(10)
    result = linear_probe(train_x, train_y, test_x, test_y)
    assert result == {"top1": 1.0, "top5": 1.0, "train_top1": 1.0}


def test_encode_returns_float64_features_in_eval_mode_and_restores_training() -> None:
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3),
                                 torch.nn.Dropout(0.5))
    module.train()
    images = torch.rand(7, 1, 4, 4)
    features = encode(module, images, batch_size=3)   # 3 chunks: 3, 3, 1
    # expected: eval mode (dropout off) = the linear map, by numpy in float64
    W = module[1].weight.detach().double().numpy()
    b = module[1].bias.detach().double().numpy()
    expected = images.reshape(7, 16).double().numpy() @ W.T + b
    assert isinstance(features, np.ndarray) and features.dtype == np.float64
    assert features.shape == (7, 3)
    assert np.allclose(features, expected, atol=1e-5)
    assert module.training and all(m.training for m in module.modules())
    module.eval()
    encode(module, images)
    assert not module.training


# ===================================================================================== train
def test_batches_are_epochs_of_distinct_indices_and_reproducible() -> None:
    n, B, steps = 10, 3, 7   # 3 whole batches per epoch (10 // 3), the 10th image dropped
    drawn = list(batches(n, B, steps, torch.Generator().manual_seed(5)))
    assert len(drawn) == steps
    assert all(b.shape == (B,) for b in drawn)
    per_epoch = n // B
    for start in range(0, steps, per_epoch):
        epoch = torch.cat(drawn[start:start + per_epoch]).tolist()
        assert len(set(epoch)) == len(epoch), f"repeated index in epoch at batch {start}"
        assert all(0 <= i < n for i in epoch)
    again = list(batches(n, B, steps, torch.Generator().manual_seed(5)))
    assert all(torch.equal(a, b) for a, b in zip(drawn, again))
    other = list(batches(n, B, steps, torch.Generator().manual_seed(6)))
    assert not all(torch.equal(a, b) for a, b in zip(drawn, other))
    # B = n: each batch is one whole epoch, a permutation of range(n)
    for b in batches(4, 4, 3, torch.Generator().manual_seed(0)):
        assert sorted(b.tolist()) == [0, 1, 2, 3]


def test_batch_larger_than_the_dataset_names_batch_size() -> None:
    # batches is a generator: the check runs at the first draw
    with pytest.raises(InputError) as caught:
        next(iter(batches(3, 4, 1, torch.Generator().manual_seed(0))))
    assert caught.value.argument == "batch_size"


@pytest.mark.parametrize("field, value", [
    ("steps", 0), ("steps", True), ("steps", 1.5), ("batch_size", 1), ("batch_size", True),
    ("lr", 0), ("lr", 0.0), ("lr", True), ("lr", -1e-3), ("lr", math.nan),
    ("weight_decay", -1e-6), ("weight_decay", True), ("weight_decay", math.inf),
    ("head_hidden", 0), ("head_out", False)])
def test_train_settings_reject_bad_values(field, value) -> None:
    with pytest.raises(InputError) as caught:
        TrainSettings(**{field: value})
    assert caught.value.argument == field


def test_train_settings_accept_the_edges() -> None:
    s = TrainSettings(steps=1, batch_size=2, lr=1e-9, weight_decay=0)
    assert (s.steps, s.batch_size, s.weight_decay) == (1, 2, 0)


SEED = 3
SETTINGS = TrainSettings(width=4, steps=3, batch_size=8, head_hidden=8, head_out=4)
AUGMENT = Augment(pad=1, flip=True, noise_std=0.05)


def _tiny_data() -> ImageDataset:
    g = torch.Generator().manual_seed(0)
    images = torch.rand(40, 1, 8, 8, generator=g)
    return ImageDataset(images, torch.arange(40) % 4, 4, "tiny")


def _weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: t.detach().clone() for k, t in module.state_dict().items()}


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_random_encoder_is_make_encoder_under_manual_seed() -> None:
    # expected: train.py's docstring, "seed sets the encoder's ... initialisation
    # (torch.manual_seed)": a fresh make_encoder right after torch.manual_seed(seed)
    data = _tiny_data()
    base = random_encoder(data, SETTINGS, SEED)
    torch.manual_seed(SEED)
    manual = make_encoder("small_conv", 1, 4)
    assert _same_weights(base.encoder, manual)
    assert base.losses.size == 0 and not base.diverged
    assert not _same_weights(random_encoder(data, SETTINGS, SEED + 1).encoder, manual)


def test_pretrain_is_reproducible_and_seed_dependent() -> None:
    data = _tiny_data()
    first = pretrain(OBJECTIVES["infonce"], data, AUGMENT, SETTINGS, SEED)
    second = pretrain(OBJECTIVES["infonce"], data, AUGMENT, SETTINGS, SEED)
    assert first.losses.shape == (3,) and np.isfinite(first.losses).all()
    assert not first.diverged
    assert np.array_equal(first.losses, second.losses)
    assert _same_weights(first.encoder, second.encoder)
    other = pretrain(OBJECTIVES["infonce"], data, AUGMENT, SETTINGS, SEED + 1)
    assert not np.array_equal(first.losses, other.losses)
    assert not _same_weights(first.encoder, other.encoder)
    # training moved the encoder away from its initialisation
    assert not _same_weights(first.encoder, random_encoder(data, SETTINGS, SEED).encoder)


def _first_views(data: ImageDataset, seed: int):
    """The first batch's two views replayed from train.py's documented seeding: a CPU generator
    seeded with ``seed`` draws the batch (the first ``B`` of a random permutation: ``batches``'
    docstring) and then the two views."""
    generator = torch.Generator().manual_seed(seed)
    index = torch.randperm(len(data), generator=generator)[:SETTINGS.batch_size]
    images = data.images[index]
    return AUGMENT(images, generator), AUGMENT(images, generator), data.labels[index]


@pytest.mark.parametrize("name", list(OBJECTIVES))
def test_pretrain_starts_from_the_random_encoder(name) -> None:
    # paired comparison (train.py's docstring: one seed -> same encoder, batches and views for
    # every method): pretrain's first loss equals the objective's loss on the first views
    # embedded by random_encoder(seed)'s encoder and a projection head initialised right after
    # it (the same torch.manual_seed stream)
    data = _tiny_data()
    trained = pretrain(OBJECTIVES[name], data, AUGMENT, SETTINGS, SEED)
    base = random_encoder(data, SETTINGS, SEED).encoder
    head = ProjectionHead(base.feature_dim, SETTINGS.head_hidden, SETTINGS.head_out)
    v1, v2, _ = _first_views(data, SEED)
    with torch.no_grad():
        z1, z2 = head(base(torch.cat([v1, v2]))).chunk(2)
        expected = float(OBJECTIVES[name].loss_value(z1, z2))
    assert trained.losses[0] == pytest.approx(expected, rel=1e-6, abs=1e-7)


def test_train_supervised_runs_from_the_random_encoder() -> None:
    data = _tiny_data()
    trained = train_supervised(data, AUGMENT, SETTINGS, SEED)
    assert trained.losses.shape == (3,) and np.isfinite(trained.losses).all()
    assert not trained.diverged and not trained.encoder.training
    # first loss: cross-entropy of a linear classifier (initialised after the encoder) on both
    # views' labels, as in the docstring of train_supervised
    base = random_encoder(data, SETTINGS, SEED).encoder
    classifier = torch.nn.Linear(base.feature_dim, data.classes)
    v1, v2, labels = _first_views(data, SEED)
    with torch.no_grad():
        logits = classifier(base(torch.cat([v1, v2]))).double()
    targets = torch.cat([labels, labels]).tolist()
    ce = [-(float(row[t]) - math.log(sum(math.exp(float(x)) for x in row)))
          for row, t in zip(logits, targets)]
    assert trained.losses[0] == pytest.approx(sum(ce) / len(ce), rel=1e-5)


class _NaNAtSecondCall:
    """An objective whose loss is InfoNCE's at the first call and NaN from the second on."""

    def __init__(self) -> None:
        self.calls = 0

    def loss_value(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        loss = OBJECTIVES["infonce"].loss_value(z1, z2)
        return loss if self.calls == 1 else loss * math.nan


def test_non_finite_loss_stops_training() -> None:
    data = _tiny_data()
    bad = _NaNAtSecondCall()
    trained = pretrain(bad, data, AUGMENT, SETTINGS, SEED)  # type: ignore[arg-type]
    assert trained.diverged and trained.diverged_at == 1
    assert bad.calls == 2, "training must stop at the first non-finite loss"
    assert np.isfinite(trained.losses[0]) and np.isnan(trained.losses[1:]).all()
    # the encoder is kept as it was after the last finite step: that of a 1-step InfoNCE run
    one_step = TrainSettings(width=4, steps=1, batch_size=8, head_hidden=8, head_out=4)
    reference = pretrain(OBJECTIVES["infonce"], data, AUGMENT, one_step, SEED)
    assert trained.losses[0] == reference.losses[0]
    assert _same_weights(trained.encoder, reference.encoder)


# ================================================================================ statistics
def test_summary_rows_against_hand_means_and_sample_sds() -> None:
    records = [
        {"method": "infonce", "seed": 0, "top1": 0.50, "top5": 0.80, "diverged_at": None},
        {"method": "infonce", "seed": 1, "top1": 0.60, "top5": 0.90, "diverged_at": None},
        {"method": "infonce", "seed": 2, "top1": 0.55, "top5": 0.88, "diverged_at": None},
        {"method": "js", "seed": 0, "top1": 0.10, "top5": 0.30, "diverged_at": 7},
        {"method": "js", "seed": 1, "top1": 0.42, "top5": 0.71},
        {"method": "js", "seed": 2, "top1": 0.40, "top5": 0.75, "diverged_at": None},
        {"method": "random", "seed": 0, "top1": 0.20, "top5": 0.50, "diverged_at": None},
    ]
    rows = summary_rows(["js", "infonce", "random", "chi2"], {"infonce": "InfoNCE"}, records)
    assert [r["method"] for r in rows] == ["js", "infonce", "random", "chi2"]
    assert [r["label"] for r in rows] == ["js", "InfoNCE", "random", "chi2"]
    assert [r["seeds"] for r in rows] == [3, 3, 1, 0]
    assert [r["diverged"] for r in rows] == [1, 0, 0, 0]
    # expected: Python's statistics.mean / statistics.stdev (n - 1) of the percentages
    hand = {"js": ([10, 42, 40], [30, 71, 75]), "infonce": ([50, 60, 55], [80, 90, 88])}
    for row in rows[:2]:
        top1, top5 = hand[row["method"]]
        assert row["top1_mean"] == pytest.approx(statistics.mean(top1), rel=1e-12)
        assert row["top1_sd"] == pytest.approx(statistics.stdev(top1), rel=1e-12)
        assert row["top5_mean"] == pytest.approx(statistics.mean(top5), rel=1e-12)
        assert row["top5_sd"] == pytest.approx(statistics.stdev(top5), rel=1e-12)
    # one seed: a mean, no sd; no seeds: neither
    assert rows[2]["top1_mean"] == pytest.approx(20.0) and rows[2]["top1_sd"] is None
    assert rows[2]["top5_mean"] == pytest.approx(50.0) and rows[2]["top5_sd"] is None
    assert all(rows[3][k] is None for k in ("top1_mean", "top1_sd", "top5_mean", "top5_sd"))
