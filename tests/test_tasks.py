"""Benchmark tasks (``numerics.bench.tasks``): exact ground truth, checked independently."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from numerics.bench.tasks import (
    GaussianStaircase,
    ItemsTask,
    binary_entropy_bits,
    items_mi_bits,
)
from theory.errors import InputError


def brute_force_items_joint(p: float, n0: int, n1: int) -> dict:
    """``p(item of X, item of Y)`` of one source, enumerated from the task's definition: X
    uniform in class S ~ Bern(1/2); Y a different item of class S XOR N, N ~ Bern(p)."""
    sizes = (n0, n1)
    joint = {}
    for c, i in itertools.chain(((0, i) for i in range(n0)), ((1, i) for i in range(n1))):
        px = 0.5 / sizes[c]
        for c2 in (0, 1):
            pc2 = (1 - p) if c2 == c else p
            choices = [j for j in range(sizes[c2]) if not (c2 == c and j == i)]
            for j in choices:
                joint[(c, i), (c2, j)] = px * pc2 / len(choices)
    return joint


def brute_force_items_mi_bits(p: float, n0: int, n1: int) -> float:
    """``I(X; Y)`` of one source in bits from :func:`brute_force_items_joint`."""
    joint = brute_force_items_joint(p, n0, n1)
    pxm, pym = {}, {}
    for (x, y), v in joint.items():
        pxm[x] = pxm.get(x, 0) + v
        pym[y] = pym.get(y, 0) + v
    return sum(v * math.log2(v / (pxm[x] * pym[y])) for (x, y), v in joint.items() if v > 0)


@pytest.mark.parametrize("p", [0.0, 0.05, 0.2, 0.5])
@pytest.mark.parametrize("n0, n1", [(2, 2), (3, 5), (4, 3)])
def test_items_mi_formula_matches_brute_force(p, n0, n1):
    assert items_mi_bits(p, (n0, n1)) == pytest.approx(brute_force_items_mi_bits(p, n0, n1),
                                                        abs=1e-12)


def test_the_nominal_formula_misses_the_distinct_item_term():
    # the nominal d (1 - H_b(p)) of a common restatement is below the exact value whenever p < 1
    exact = items_mi_bits(0.1, (178, 182), d=10)
    nominal = 10 * (1 - binary_entropy_bits(0.1))
    assert exact - nominal == pytest.approx(10 * 0.9 * math.log2(180 / 179), rel=0.05)


def test_items_task_solves_p_for_the_target_and_samples_consistently():
    rng = np.random.default_rng(0)
    items = [rng.normal(0, 1, (5, 3)), rng.normal(5, 1, (6, 3))]
    task = ItemsTask(items, d=2, mi_bits=1.2)
    assert task.true_mi_bits == pytest.approx(1.2, abs=1e-12)
    assert 0 < task.p < 0.5
    torch = pytest.importorskip("torch")
    x, y = (t.numpy() for t in task.sample(20000, torch.Generator().manual_seed(1)))
    assert x.shape == y.shape == (20000, 6)
    # class of each item from its mean (the two pools are well separated)
    sx, sy = x[:, :3].mean(1) > 2.5, y[:, :3].mean(1) > 2.5
    flip_rate = float(np.mean(sx != sy))
    assert flip_rate == pytest.approx(task.p, abs=4 * math.sqrt(task.p / 20000) + 1e-3)
    same = sx == sy
    assert not np.any(np.all(x[same, :3] == y[same, :3], axis=1))  # Y differs from X


def test_gaussian_staircase_levels():
    st = GaussianStaircase(steps_per_level=10, cubic=True)
    assert st.total_steps == 50
    assert st.true_mi_nats(0) == pytest.approx(2 * math.log(2))
    assert st.true_mi_nats(49) == pytest.approx(10 * math.log(2))
    assert st.sampler(25).cubic


@pytest.mark.parametrize("call, argument", [
    (lambda: GaussianStaircase(levels_bits=(-1.0,)), "levels_bits"),
    (lambda: GaussianStaircase(steps_per_level=10).true_mi_nats(50), "step"),
    (lambda: ItemsTask([np.zeros((3, 2))], 1, 0.5), "items"),
    (lambda: ItemsTask([np.zeros((3, 2)), np.ones((3, 2))], 0, 0.5), "d"),
    (lambda: ItemsTask([np.zeros((3, 2)), np.ones((3, 2))], 1, 5.0), "mi_bits"),
    (lambda: items_mi_bits(0.1, (1, 3)), "class_sizes"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(InputError) as info:
        call()
    assert str(info.value).startswith(f"{argument}:")


def test_digits_task_ships_offline():
    pytest.importorskip("sklearn")
    from numerics.bench.tasks import digits_task
    task = digits_task(d=3, mi_bits=2.0)
    assert task.true_mi_bits == pytest.approx(2.0, abs=1e-12)
    assert task.nominal_mi_bits < task.true_mi_bits
    torch = pytest.importorskip("torch")
    x, y = task.sample(8, torch.Generator().manual_seed(0))
    assert x.shape == (8, 3 * 64) and 0 <= float(x.min()) and float(x.max()) <= 1


def test_items_sampler_draws_the_enumerated_joint():
    """The torch sampler's empirical (item X, item Y) frequencies against the enumerated joint:
    a chi-square goodness-of-fit test (fixed seed) over every cell."""
    torch = pytest.importorskip("torch")
    from scipy.stats import chisquare
    n0, n1 = 3, 4
    items = [np.arange(n0, dtype=float)[:, None], np.arange(n0, n0 + n1, dtype=float)[:, None]]
    task = ItemsTask(items, d=1, mi_bits=0.9)
    x, y = task.sample(200_000, torch.Generator().manual_seed(3))
    cells = x[:, 0].long() * (n0 + n1) + y[:, 0].long()
    counts = np.bincount(cells.numpy(), minlength=(n0 + n1) ** 2)
    joint = brute_force_items_joint(task.p, n0, n1)
    expected = np.zeros((n0 + n1) ** 2)
    for ((c, i), (c2, j)), v in joint.items():
        expected[(i + c * n0) * (n0 + n1) + (j + c2 * n0)] = v
    assert counts[expected == 0].sum() == 0          # Y never repeats X's item
    keep = expected > 0
    f_exp = expected[keep] * counts.sum() / expected[keep].sum()
    assert chisquare(counts[keep], f_exp).pvalue > 1e-3


def test_staircases_build_each_level_once_with_exact_mi():
    torch = pytest.importorskip("torch")
    from numerics.bench.tasks import ItemsStaircase
    rng = np.random.default_rng(0)
    items = (rng.normal(0, 1, (6, 2)), rng.normal(3, 1, (7, 2)))
    st = ItemsStaircase(items, d=3, levels_bits=(1.0, 2.0), steps_per_level=5)
    assert st.sampler(0) is st.sampler(4) and st.sampler(5) is st.level_samplers[1]
    assert st.level_mi_nats() == pytest.approx([math.log(2), 2 * math.log(2)], abs=1e-12)
    assert st.sampler(0).p > st.sampler(9).p           # less noise at the higher level
    x, _ = st.sampler(9).sample(4, torch.Generator().manual_seed(0))
    assert x.shape == (4, 6)
