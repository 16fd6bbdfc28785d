"""Torch critics (issue #4): S[i, j] = c(x_i, y_j), shapes, batched runs, seeded initialisation."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from numerics.neural.critics import (
    BilinearCritic,
    JointCritic,
    SeparableCritic,
    TabularCritic,
    make_critic,
)
from theory.errors import InputError  # noqa: E402

B, DX, DY = 5, 3, 4
SMALL = {"hidden": 8, "layers": 2, "embed": 3}


def features(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def small(kind, runs=1, seed=0):
    if kind == "tabular":
        return make_critic("tabular", n_x=DX, n_y=DY, runs=runs, seed=seed)
    return make_critic(kind, dx=DX, dy=DY, runs=runs, seed=seed, **SMALL)


def inputs(kind, lead=(), seed=0):
    if kind == "tabular":
        g = torch.Generator().manual_seed(seed)
        return (torch.randint(0, DX, (*lead, B), generator=g),
                torch.randint(0, DY, (*lead, B), generator=g))
    return features(*lead, B, DX, seed=seed), features(*lead, B, DY, seed=seed + 1)


KINDS = ("tabular", "joint", "separable", "bilinear", "separable_pd")


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_single_batched_and_broadcast(kind):
    x, y = inputs(kind)
    assert small(kind)(x, y).shape == (B, B)
    assert small(kind)(x[None], y[None]).shape == (1, B, B)
    c3 = small(kind, runs=3)
    assert c3(x, y).shape == (3, B, B)                      # one batch shared by the runs
    xr, yr = inputs(kind, lead=(3,))
    assert c3(xr, yr).shape == (3, B, B)


@pytest.mark.parametrize("kind", KINDS)
def test_run_r_is_the_single_run_critic_seeded_seed_plus_r(kind):
    seed = 11
    batched = small(kind, runs=3, seed=seed)
    if kind == "tabular":   # starts at 0; give it distinct values to compare the scoring
        with torch.no_grad():
            batched.table.copy_(features(3, DX, DY))
    xr, yr = inputs(kind, lead=(3,))
    scores = batched(xr, yr)
    for r in range(3):
        single = small(kind, seed=seed + r)
        if kind == "tabular":
            with torch.no_grad():
                single.table.copy_(batched.table[r:r + 1])
        for (name, p_b), (_, p_s) in zip(batched.named_parameters(), single.named_parameters()):
            assert p_b.shape[0] == 3 and p_s.shape[0] == 1, name
            assert torch.equal(p_b[r], p_s[0]), name   # bit-identical initialisation
        torch.testing.assert_close(scores[r], single(xr[r], yr[r]), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("kind", ["joint", "separable", "bilinear", "separable_pd"])
def test_seeds_matter_and_repeat(kind):
    a, b, c = small(kind, seed=1), small(kind, seed=1), small(kind, seed=2)
    pa, pb, pc = (torch.cat([p.flatten() for p in m.parameters()]) for m in (a, b, c))
    assert torch.equal(pa, pb) and not torch.equal(pa, pc)


def test_tabular_scores_are_table_lookups():
    critic = TabularCritic(DX, DY)
    with torch.no_grad():
        critic.table.copy_(features(1, DX, DY))
    x, y = inputs("tabular")
    S = critic(x, y)
    for i in range(B):
        for j in range(B):
            assert S[i, j] == critic.table[0, x[i], y[j]]


def _mlp_reference(weights, biases, v):
    for k, (w, b) in enumerate(zip(weights, biases)):
        v = v @ w + b
        if k < len(weights) - 1:
            v = torch.relu(v)
    return v


def test_joint_critic_is_the_mlp_on_the_concatenation_of_every_pair():
    critic = JointCritic(DX, DY, hidden=8, layers=2, runs=2, seed=3)
    x, y = inputs("joint", lead=(2,))
    S = critic(x, y)
    for r in range(2):
        ws = [w[r] for w in critic.mlp.weights]
        bs = [b[r] for b in critic.mlp.biases]
        for i in range(B):
            for j in range(B):
                ref = _mlp_reference(ws, bs, torch.cat([x[r, i], y[r, j]]))
                torch.testing.assert_close(S[r, i, j], ref[0], rtol=1e-5, atol=1e-6)


def test_separable_and_bilinear_scores():
    sep = SeparableCritic(DX, DY, hidden=8, layers=2, embed=3, seed=4)
    x, y = inputs("separable")
    g = _mlp_reference([w[0] for w in sep.g.weights], [b[0] for b in sep.g.biases], x)
    h = _mlp_reference([w[0] for w in sep.h.weights], [b[0] for b in sep.h.biases], y)
    torch.testing.assert_close(sep(x, y), g @ h.T, rtol=1e-5, atol=1e-6)
    bil = BilinearCritic(DX, DY, seed=4)
    torch.testing.assert_close(bil(x, y), x @ bil.weight[0] @ y.T, rtol=1e-5, atol=1e-6)


def test_default_architecture_is_the_papers():
    c = make_critic("separable", dx=10, dy=10)
    assert [tuple(w.shape) for w in c.g.weights] == [(1, 10, 512), (1, 512, 512), (1, 512, 16)]
    j = make_critic("joint", dx=10, dy=10)
    assert [tuple(w.shape) for w in j.mlp.weights] == [(1, 20, 512), (1, 512, 512), (1, 512, 1)]


@pytest.mark.parametrize("kind", KINDS)
def test_runs_get_independent_gradients(kind):
    critic = small(kind, runs=3)
    xr, yr = inputs(kind, lead=(3,))
    critic(xr, yr)[1].sum().backward()
    for p in critic.parameters():
        assert p.grad[0].abs().sum() == 0 and p.grad[2].abs().sum() == 0
        assert p.grad[1].abs().sum() > 0


def test_bad_input_raises_input_error():
    with pytest.raises(InputError, match="critic"):
        make_critic("mlp", dx=2, dy=2)
    with pytest.raises(InputError, match="n_x and n_y"):
        make_critic("tabular")
    with pytest.raises(InputError, match="dx, dy"):
        make_critic("joint", dx=2)
    with pytest.raises(InputError, match="runs"):
        JointCritic(2, 2, runs=0)
    tab = TabularCritic(2, 2)
    with pytest.raises(InputError, match="integer indices"):
        tab(torch.zeros(3), torch.zeros(3))
    with pytest.raises(InputError, match="0..1"):
        tab(torch.tensor([0, 2]), torch.tensor([0, 1]))
    sep = SeparableCritic(2, 2, hidden=4, embed=2)
    with pytest.raises(InputError, match="feature dimension"):
        sep(torch.zeros(3, 5), torch.zeros(3, 2))
    with pytest.raises(InputError, match="batch size"):
        sep(torch.zeros(3, 2), torch.zeros(4, 2))
    with pytest.raises(InputError, match="leading"):
        SeparableCritic(2, 2, hidden=4, embed=2, runs=3)(torch.zeros(2, 3, 2), torch.zeros(3, 2))
