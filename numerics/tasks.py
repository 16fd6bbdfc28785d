"""Benchmark tasks with exact ground truth (SPEC §7; issue #5), usable on their own.

* :class:`GaussianStaircase`: the MI level as a function of the training step (2, 4, 6, 8, 10
  bits, 4000 steps each by default), each level a :class:`numerics.training.GaussianSampler`
  (``cubic=True`` really applies ``y <- y^3``).
* :class:`ItemsTask` / :func:`digits_task`: ``d`` independent binary sources ``S_k ~ Bern(1/2)``;
  ``X_k`` is an item (an image) of class ``S_k`` and ``Y_k`` a *different* item of class
  ``S_k XOR N_k``, ``N_k ~ Bern(p)``.  The items of scikit-learn's bundled digits ship offline.

**The ground truth of the items task.** SPEC (and the benchmark it follows) states
``I(X; Y) = d (1 - H_b(p))`` bits.  That is ``I(S; S XOR N)``; but requiring ``Y_k`` to differ
from ``X_k`` when the classes agree leaks information about the item itself.  With ``n_c`` items in
class ``c`` the exact value per source is (derived as ``H(Y) - H(Y | X)``, ``X`` determining its
class)::

    1 - H_b(p) + (1/2) sum_c [ (1 - p) log2(n_c / (n_c - 1)) + p log2(n_c / n_{1-c}) ]

which exceeds ``1 - H_b(p)`` by about ``(1 - p)/(n ln 2)`` bits (0.008 bits per source for the
~180 digits per class).  :class:`ItemsTask` solves ``p`` by root finding so that the *exact* MI is
the target, and reports the nominal formula beside it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from theory.errors import InputError

LN2 = math.log(2)


def binary_entropy_bits(p: float) -> float:
    """``H_b(p)`` in bits (``0 log 0 = 0``)."""
    if p <= 0 or p >= 1:
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


class FeatureSampler:
    """Samplers of feature vectors ``(x, y)`` of widths ``dx``, ``dy`` (not for tabular critics);
    subclasses set ``dx``, ``dy`` and define ``sample`` and ``describe``."""

    discrete = False
    dx: int
    dy: int

    def inputs(self, batch, critic_kind: str):
        if critic_kind == "tabular":
            raise InputError("critic", f"the tabular critic needs a discrete joint, not the "
                             f"features of {self.describe()}; use joint, separable or bilinear")
        return batch

    def critic_dims(self) -> dict[str, int]:
        return {"dx": self.dx, "dy": self.dy}


# ------------------------------------------------------------------------------ Gaussian
@dataclass(frozen=True)
class GaussianStaircase:
    """The staircase of SPEC §7: ``levels_bits[i]`` for steps ``[i s, (i+1) s)``, ``s =
    steps_per_level``."""

    levels_bits: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0)
    steps_per_level: int = 4000
    dim: int = 10
    cubic: bool = False

    def __post_init__(self) -> None:
        if not self.levels_bits or any(not (math.isfinite(b) and b >= 0)
                                       for b in self.levels_bits):
            raise InputError("levels_bits", "MI levels must be finite numbers >= 0 (bits)")
        if self.steps_per_level < 1:
            raise InputError("steps_per_level", "must be >= 1")

    @property
    def total_steps(self) -> int:
        return len(self.levels_bits) * self.steps_per_level

    def level_index(self, step: int) -> int:
        if not 0 <= step < self.total_steps:
            raise InputError("step", f"must be in 0..{self.total_steps - 1}, got {step}")
        return step // self.steps_per_level

    def true_mi_nats(self, step: int) -> float:
        """The exact MI at ``step``: ``-(d/2) log(1 - rho^2)`` with the level's ``rho``."""
        return self.sampler(step).true_mi_nats

    def sampler(self, step: int):
        from numerics.training import GaussianSampler
        bits = self.levels_bits[self.level_index(step)]
        return GaussianSampler(self.dim, bits * LN2, cubic=self.cubic)


# ------------------------------------------------------------------------------ items task
def items_mi_bits(p: float, class_sizes: Sequence[int], d: int = 1) -> float:
    """Exact ``I(X; Y)`` in bits of the items task with ``d`` sources (see the module docstring)."""
    n0, n1 = class_sizes
    if min(n0, n1) < 2:
        raise InputError("class_sizes", "each class needs at least 2 items (Y differs from X)")
    if not 0 <= p <= 1:
        raise InputError("p", f"must be in [0, 1], got {p!r}")
    leak = 0.5 * sum((1 - p) * math.log2(n / (n - 1)) + p * math.log2(n / m)
                     for n, m in ((n0, n1), (n1, n0)))
    return d * (1 - binary_entropy_bits(p) + leak)


class ItemsTask(FeatureSampler):
    """``d`` binary sources carried by items of two classes (a sampler with exact MI).

    ``items[c]`` is an array of the feature vectors of class ``c``; ``mi_bits`` the target MI.
    ``p`` in ``[0, 1/2]`` is solved by ``brentq`` so that :func:`items_mi_bits` equals it.
    """

    def __init__(self, items: Sequence[np.ndarray], d: int, mi_bits: float) -> None:
        if len(items) != 2:
            raise InputError("items", "needs the items of exactly two classes")
        self.items = [np.asarray(c, dtype=np.float32) for c in items]
        if any(c.ndim != 2 for c in self.items) or self.items[0].shape[1] != \
                self.items[1].shape[1]:
            raise InputError("items", "each class must be an (n_c, features) array of one width")
        if isinstance(d, bool) or not isinstance(d, int) or d < 1:
            raise InputError("d", f"must be an integer >= 1, got {d!r}")
        self.d = d
        sizes = (len(self.items[0]), len(self.items[1]))
        top = items_mi_bits(0.0, sizes, d)
        floor = items_mi_bits(0.5, sizes, d)
        if not floor <= mi_bits <= top:
            raise InputError("mi_bits", f"must be in [{floor:.4f}, {top:.4f}] bits for d = {d} "
                             f"and these class sizes, got {mi_bits!r}")
        self.p = 0.5 if mi_bits == floor else 0.0 if mi_bits == top else brentq(
            lambda p: items_mi_bits(p, sizes, d) - mi_bits, 0.0, 0.5, xtol=1e-15, rtol=1e-15)
        self.true_mi_bits = items_mi_bits(self.p, sizes, d)
        self.true_mi_nats = self.true_mi_bits * LN2
        self.nominal_mi_bits = d * (1 - binary_entropy_bits(self.p))
        width = self.items[0].shape[1]
        self.dx = self.dy = d * width

    def sample_numpy(self, batch_size: int, rng: np.random.Generator
                     ) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)``: ``(batch_size, d * features)`` arrays."""
        s = rng.integers(0, 2, size=(batch_size, self.d))
        flips = rng.random((batch_size, self.d)) < self.p
        t = s ^ flips
        xs, ys = [], []
        for k in range(self.d):
            xk = np.empty((batch_size, self.items[0].shape[1]), dtype=np.float32)
            yk = np.empty_like(xk)
            for c in (0, 1):
                pool = self.items[c]
                n = len(pool)
                rows = np.nonzero(s[:, k] == c)[0]
                ix = rng.integers(0, n, size=rows.size)
                xk[rows] = pool[ix]
                same = np.nonzero(t[:, k] == c)[0]
                iy = rng.integers(0, n, size=same.size)
                # a different item of the same class when X_k is in class c too
                clash = (s[same, k] == c)
                iy_clash = rng.integers(0, n - 1, size=int(clash.sum()))
                # the X item of those rows, to skip it
                x_items = np.full(batch_size, -1)
                x_items[rows] = ix
                src = x_items[same[clash]]
                iy[clash] = iy_clash + (iy_clash >= src)
                yk[same] = pool[iy]
            xs.append(xk)
            ys.append(yk)
        return np.concatenate(xs, axis=1), np.concatenate(ys, axis=1)

    def sample(self, batch_size: int, generator):
        """torch tensors on the generator's device (the trainer's sampler protocol)."""
        import torch
        seed = int(torch.randint(0, 2**62, (1,), generator=generator,
                                 device=generator.device).item())
        x, y = self.sample_numpy(batch_size, np.random.default_rng(seed))
        return (torch.as_tensor(x, device=generator.device),
                torch.as_tensor(y, device=generator.device))

    def describe(self) -> str:
        return f"items task d={self.d}, p={self.p:.6g}, MI={self.true_mi_bits:.4f} bits"


def digits_task(d: int, mi_bits: float, classes: tuple[int, int] = (0, 1)) -> ItemsTask:
    """The image task on scikit-learn's bundled 8x8 digits (ships offline), pixels in [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError("task", "the digits task needs scikit-learn (pip install "
                         "'infonce-anchor[bench]')") from None
    data = load_digits()
    images = data.data.astype(np.float32) / 16.0
    items = [images[data.target == c] for c in classes]
    return ItemsTask(items, d, mi_bits)
