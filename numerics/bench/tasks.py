"""Benchmark tasks with exact ground truth (Sec. 4.1, App. G.1; issue #5), usable on their own.

* :class:`GaussianStaircase`: the MI level as a function of the training step (2, 4, 6, 8, 10
  bits, 4000 steps each by default), each level a :class:`numerics.neural.samplers.GaussianSampler`
  (``cubic=True`` really applies ``y <- y^3``).
* :class:`ItemsTask` / :func:`digits_task`: ``d`` independent binary sources ``S_k ~ Bern(1/2)``;
  ``X_k`` is an item (an image) of class ``S_k`` and ``Y_k`` a *different* item of class
  ``S_k XOR N_k``, ``N_k ~ Bern(p)``.  The items of scikit-learn's bundled digits ship offline.

**The ground truth of the items task.** A common restatement (and Lee & Rhee 2024) states
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
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.optimize import brentq

from numerics.exact.units import LN2
from numerics.neural.samplers import FeatureSampler, GaussianSampler
from theory.errors import InputError


def binary_entropy_bits(p: float) -> float:
    """``H_b(p)`` in bits (``0 log 0 = 0``)."""
    if p <= 0 or p >= 1:
        return 0.0
    return -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


# ------------------------------------------------------------------------------ staircases
class Staircase(ABC):
    """An MI schedule: level ``i`` (``levels_bits[i]`` bits) holds for the training steps
    ``[i s, (i+1) s)``, ``s = steps_per_level`` (App. G.1's "stepwise" mode).  Subclasses define
    :meth:`_level_sampler`; each level's sampler is built once and carries its exact MI."""

    levels_bits: tuple[float, ...]
    steps_per_level: int

    def _check(self) -> None:
        if not self.levels_bits or any(not (math.isfinite(b) and b >= 0)
                                       for b in self.levels_bits):
            raise InputError("levels_bits", "MI levels must be finite numbers >= 0 (bits)")
        if isinstance(self.steps_per_level, bool) or not isinstance(self.steps_per_level, int) \
                or self.steps_per_level < 1:
            raise InputError("steps_per_level", "must be an integer >= 1")

    @abstractmethod
    def _level_sampler(self, bits: float):
        """The sampler of one level with exact MI ``bits``."""

    @cached_property
    def level_samplers(self) -> tuple:
        return tuple(self._level_sampler(b) for b in self.levels_bits)

    @property
    def total_steps(self) -> int:
        return len(self.levels_bits) * self.steps_per_level

    def level_index(self, step: int) -> int:
        if not 0 <= step < self.total_steps:
            raise InputError("step", f"must be in 0..{self.total_steps - 1}, got {step}")
        return step // self.steps_per_level

    def sampler(self, step: int):
        """The sampler of the level that contains training step ``step``."""
        return self.level_samplers[self.level_index(step)]

    def true_mi_nats(self, step: int) -> float:
        """The exact MI at ``step`` (nats)."""
        return self.sampler(step).true_mi_nats

    def level_mi_nats(self) -> list[float]:
        return [s.true_mi_nats for s in self.level_samplers]

    def critic_dims(self) -> dict[str, int]:
        return self.level_samplers[0].critic_dims()

    @property
    def discrete(self) -> bool:
        return False


@dataclass(frozen=True)
class GaussianStaircase(Staircase):
    """The staircase of Sec. 4.1 / App. G.1: correlated Gaussians in ``d = 10`` at 2, 4, 6, 8,
    10 bits, 4000 steps each; ``cubic=True`` really applies ``y <- y^3`` (the MI is unchanged)."""

    levels_bits: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0)
    steps_per_level: int = 4000
    dim: int = 10
    cubic: bool = False

    def __post_init__(self) -> None:
        self._check()

    def _level_sampler(self, bits: float):
        return GaussianSampler(self.dim, bits * LN2, cubic=self.cubic)

    def describe(self) -> str:
        return f"Gaussian{' cubic' if self.cubic else ''} staircase d={self.dim}"


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

    def _pool(self, device) -> tuple:
        """The items of both classes stacked on ``device``, the class offsets and sizes."""
        import torch
        key = str(device)
        cache = self.__dict__.setdefault("_pools", {})
        if key not in cache:
            pool = torch.as_tensor(np.concatenate(self.items), device=device)
            sizes = torch.tensor([len(c) for c in self.items], device=device)
            offsets = torch.tensor([0, len(self.items[0])], device=device)
            cache[key] = (pool, offsets, sizes)
        return cache[key]

    def sample(self, batch_size: int, generator):
        """``(x, y)``, each ``(batch_size, d * features)`` float32 on the generator's device,
        drawn with torch ops only (no host round trip): ``S ~ Bern(1/2)``, ``T = S XOR N``,
        ``X_k`` uniform in class ``S_k``, ``Y_k`` uniform in class ``T_k`` and, when ``T_k =
        S_k``, uniform over the *other* ``n - 1`` items of that class."""
        import torch
        dev = generator.device
        pool, offsets, sizes = self._pool(dev)
        shape = (batch_size, self.d)
        s = torch.randint(0, 2, shape, generator=generator, device=dev)
        flips = torch.rand(shape, generator=generator, device=dev) < self.p
        t = torch.where(flips, 1 - s, s)
        n_s = sizes[s]
        ix = torch.minimum((torch.rand(shape, generator=generator, device=dev) * n_s).long(),
                           n_s - 1)
        same = t == s
        choices = torch.where(same, sizes[t] - 1, sizes[t])
        iy = torch.minimum((torch.rand(shape, generator=generator, device=dev) * choices).long(),
                           choices - 1)
        iy = torch.where(same & (iy >= ix), iy + 1, iy)   # skip X's own item
        x = pool[offsets[s] + ix].reshape(batch_size, -1)
        y = pool[offsets[t] + iy].reshape(batch_size, -1)
        return x, y

    def describe(self) -> str:
        return f"items task d={self.d}, p={self.p:.6g}, MI={self.true_mi_bits:.4f} bits"


def digits_task(d: int, mi_bits: float, classes: tuple[int, int] = (0, 1)) -> ItemsTask:
    """The image task on scikit-learn's bundled 8x8 digits (ships offline), pixels in [0, 1]."""
    return ItemsTask(list(digits_items(classes)), d, mi_bits)


@dataclass(frozen=True, eq=False)
class ItemsStaircase(Staircase):
    """The image / text task of Sec. 4.1 as a staircase: at each level ``p`` is solved anew so
    that the exact MI is the level (the public benchmark's stepwise image/text schedule keeps
    ``p`` constant, a defect not reproduced here).  ``items`` holds the two classes."""

    items: tuple
    d: int = 10
    levels_bits: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0)
    steps_per_level: int = 4000
    name: str = "items"

    def __post_init__(self) -> None:
        self._check()

    def _level_sampler(self, bits: float) -> ItemsTask:
        return ItemsTask(list(self.items), self.d, bits)

    def describe(self) -> str:
        return f"{self.name} staircase d={self.d}"


def digits_items(classes: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """The 8x8 images of two classes of scikit-learn's bundled digits, pixels in [0, 1]."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise InputError("task", "the digits task needs scikit-learn (pip install "
                         "'infonce-anchor[bench]')") from None
    data = load_digits()
    images = data.data.astype(np.float32) / 16.0
    return tuple(images[data.target == c] for c in classes)


def items_from_file(path: str) -> tuple[np.ndarray, np.ndarray]:
    """Two classes of items (e.g. sentence embeddings of IMDB reviews by sentiment) from an
    ``.npz`` file with arrays ``class0`` and ``class1`` of shape ``(n_c, features)``."""
    try:
        with np.load(path) as data:
            missing = {"class0", "class1"} - set(data.files)
            if missing:
                raise InputError("items", f"{path} lacks the array(s) {sorted(missing)}; "
                                 "expected class0 and class1")
            return data["class0"].astype(np.float32), data["class1"].astype(np.float32)
    except (OSError, ValueError) as exc:
        raise InputError("items", f"cannot read {path} as .npz ({exc})") from None
