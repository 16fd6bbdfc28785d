"""Torch critics ``c(x, y)``: a minibatch ``(x_1..x_B, y_1..y_B)`` to the score matrix
``S[i, j] = c(x_i, y_j)`` (diagonal = joint pairs, Sec. 3.1, App. B) (issue #4).

* :class:`TabularCritic` - one parameter per cell ``(x, y)`` of a discrete joint; inputs are
  integer indices;
* :class:`JointCritic` - an MLP on the concatenation ``[x_i, y_j]`` for every pair;
* :class:`SeparableCritic` - two MLPs ``g(x), h(y)`` to an embedding, ``S = g(X) h(Y)^T``
  (PMI, kind ``separable``) or ``S[i, j] = log <softplus(g(x_i)), softplus(h(y_j))>`` (PD, kind
  ``separable_pd``; :mod:`numerics.neural.factorisation`);
* :class:`BilinearCritic` - ``S = X W Y^T``.

The paper's default architecture (App. G.1) is 2 hidden layers x 512 units, ReLU, embedding 16:
the defaults of :func:`make_critic`.

**Batched runs.** Every critic takes ``runs = R``: its parameters carry a leading ``R``
dimension and one forward pass (batched matmuls, no loop over runs) scores ``R`` independent
minibatches, inputs ``(R, B, d)`` (or ``(B, d)``, shared by every run) to scores ``(R, B, B)``.
Run ``r`` is initialised from its own ``torch.Generator`` seeded ``seed + r`` (on the CPU, so the
device does not change the numbers), exactly as a ``runs = 1`` critic with ``seed + r`` is: one
run at a time and all runs at once start from the same parameters.  ``seeds=[s_0, s_1, ...]``
instead gives run ``r`` the seed ``s_r`` (blocks of several trainings stacked in one critic, as
:func:`numerics.bench.staircase.run_staircase_group` does, each block starting where it would alone).

Output shape: ``(B, B)`` for a ``runs = 1`` critic given un-batched inputs (``(B,)`` indices or
``(B, d)`` features), ``(R, B, B)`` otherwise.

Initialisation follows ``torch.nn.Linear`` (weights and biases uniform on
``+-1/sqrt(fan_in)``); the tabular critic starts at 0 (``c = 0``: independence); the bilinear
matrix is uniform on ``+-1/sqrt(dx dy)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from numerics.neural.architecture import (
    CRITICS,
    DEFAULT_EMBED,
    DEFAULT_HIDDEN,
    DEFAULT_LAYERS,
    FEATURE_CRITICS,
)
from numerics.neural.factorisation import check_factorisation, factorised_scores
from theory.errors import InputError, require_int


def _generators(seeds: list[int]) -> list[torch.Generator]:
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise InputError("seed", f"must be an integer, got {seed!r}")
    return [torch.Generator(device="cpu").manual_seed(seed) for seed in seeds]


def run_seeds(seed: int, runs: int, seeds: list[int] | None) -> list[int]:
    """The initialisation seed of each run: ``seed + r``, or the explicit list ``seeds``."""
    if seeds is None:
        return [seed + r for r in range(runs)] if isinstance(seed, int) and \
            not isinstance(seed, bool) else [seed]
    seeds = list(seeds)
    if not seeds:
        raise InputError("seeds", "must list at least one seed")
    return seeds


def _uniform(shape: tuple[int, ...], bound: float, gen: torch.Generator) -> torch.Tensor:
    return (torch.rand(shape, generator=gen, dtype=torch.float32) * 2.0 - 1.0) * bound


class BatchedMLP(nn.Module):
    """``R`` independent ReLU MLPs ``d_in -> hidden x layers -> d_out`` evaluated at once.

    ``weights[k]`` has shape ``(R, fan_in, fan_out)``, ``biases[k]`` ``(R, fan_out)``.
    :meth:`forward` maps ``(R, N, d_in)`` to ``(R, N, d_out)``.
    """

    def __init__(self, d_in: int, d_out: int, hidden: int, layers: int,
                 generators: list[torch.Generator]) -> None:
        super().__init__()
        sizes = [d_in] + [hidden] * layers + [d_out]
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        per_run: list[list[tuple[torch.Tensor, torch.Tensor]]] = []
        for gen in generators:  # run by run, layer by layer: the runs = 1 order
            layers_r = []
            for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
                bound = 1.0 / math.sqrt(fan_in)
                layers_r.append((_uniform((fan_in, fan_out), bound, gen),
                                 _uniform((fan_out,), bound, gen)))
            per_run.append(layers_r)
        for k in range(len(sizes) - 1):
            self.weights.append(nn.Parameter(torch.stack([p[k][0] for p in per_run])))
            self.biases.append(nn.Parameter(torch.stack([p[k][1] for p in per_run])))

    def first_layer(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.weights[0], self.biases[0]

    def rest(self, h: torch.Tensor) -> torch.Tensor:
        """Layers 2.. applied to the pre-activation ``h`` (R, N, hidden) of layer 1."""
        n = len(self.weights)
        for k in range(1, n):
            h = torch.relu(h)
            h = torch.baddbmm(self.biases[k].unsqueeze(1), h, self.weights[k])
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w, b = self.first_layer()
        return self.rest(torch.baddbmm(b.unsqueeze(1), x, w))


class _Critic(nn.Module):
    """Shared input handling: a leading run dimension in and out."""

    kind = ""

    def __init__(self, runs: int, seed: int, seeds: list[int] | None = None) -> None:
        super().__init__()
        self.seeds = run_seeds(seed, require_int(runs, "runs"), seeds)
        self.runs = len(self.seeds) if seeds is not None else runs
        self.seed = self.seeds[0]
        _generators(self.seeds)  # validates the seeds

    def _gens(self) -> list[torch.Generator]:
        """Fresh per-run initialisation generators: run ``r`` seeded ``seeds[r]``."""
        return _generators(self.seeds)

    def _features(self, t: torch.Tensor, d: int, name: str) -> tuple[torch.Tensor, bool]:
        """``(B, d)`` or ``(R, B, d)`` float features to ``(R, B, d)``; flag: had a run dim."""
        if not torch.is_tensor(t):
            t = torch.as_tensor(t)
        if t.dim() == 2:
            batched = False
            t = t.unsqueeze(0).expand(self.runs, -1, -1)
        elif t.dim() == 3:
            batched = True
            if t.shape[0] not in (1, self.runs):
                raise InputError(name, f"leading (run) dimension must be 1 or {self.runs}, "
                                 f"got shape {tuple(t.shape)}")
            t = t.expand(self.runs, -1, -1)
        else:
            raise InputError(name, f"must have shape (B, {d}) or (R, B, {d}), "
                             f"got {tuple(t.shape)}")
        if t.shape[-1] != d:
            raise InputError(name, f"feature dimension must be {d}, got {t.shape[-1]}")
        dtype = self._dtype()
        return t.to(dtype=dtype), batched

    def _dtype(self) -> torch.dtype:
        return next(self.parameters()).dtype

    def _shape_out(self, scores: torch.Tensor, batched: bool) -> torch.Tensor:
        if not batched and self.runs == 1:
            return scores[0]
        return scores

    def _pair(self, x: torch.Tensor, y: torch.Tensor, dx: int, dy: int):
        x, bx = self._features(x, dx, "x")
        y, by = self._features(y, dy, "y")
        if x.shape[1] != y.shape[1]:
            raise InputError("y", f"batch size {y.shape[1]} differs from x's {x.shape[1]}")
        return x, y, bx or by


class TabularCritic(_Critic):
    """``S[i, j] = table[x_i, y_j]``: one parameter per cell, inputs integer indices.

    ``table`` has shape ``(R, n_x, n_y)`` and starts at 0.  ``x``, ``y``: ``(B,)`` or ``(R, B)``
    integer tensors.
    """

    kind = "tabular"

    def __init__(self, n_x: int, n_y: int, *, runs: int = 1, seed: int = 0,
                 seeds: list[int] | None = None) -> None:
        super().__init__(runs, seed, seeds)
        self.n_x = require_int(n_x, "n_x")
        self.n_y = require_int(n_y, "n_y")
        self.table = nn.Parameter(torch.zeros(self.runs, self.n_x, self.n_y))

    def _indices(self, t: torch.Tensor, n: int, name: str) -> tuple[torch.Tensor, bool]:
        if not torch.is_tensor(t):
            t = torch.as_tensor(t)
        if t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex():
            raise InputError(name, f"the tabular critic takes integer indices, got {t.dtype}")
        if t.dim() == 1:
            batched, t = False, t.unsqueeze(0).expand(self.runs, -1)
        elif t.dim() == 2 and t.shape[0] in (1, self.runs):
            batched, t = True, t.expand(self.runs, -1)
        else:
            raise InputError(name, f"must have shape (B,) or ({self.runs}, B), "
                             f"got {tuple(t.shape)}")
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= n):
            raise InputError(name, f"indices must lie in 0..{n - 1}")
        return t.long(), batched

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        xi, bx = self._indices(x, self.n_x, "x")
        yi, by = self._indices(y, self.n_y, "y")
        if xi.shape[1] != yi.shape[1]:
            raise InputError("y", f"batch size {yi.shape[1]} differs from x's {xi.shape[1]}")
        R, B = xi.shape
        rows = self.table.gather(1, xi.unsqueeze(-1).expand(R, B, self.n_y))   # (R, B, n_y)
        scores = rows.gather(2, yi.unsqueeze(1).expand(R, B, B))              # (R, B, B)
        return self._shape_out(scores, bx or by)


class JointCritic(_Critic):
    """``c(x, y) = MLP([x, y])`` for every pair ``(x_i, y_j)``: ``B^2`` MLP evaluations.

    The first layer is split ``W = [W_x; W_y]`` so that ``x_i W_x + b`` and ``y_j W_y`` are
    computed once and broadcast over the pairs (the same numbers as concatenating, up to
    rounding): the ``B^2 x hidden`` pre-activation is written in one pass.
    """

    kind = "joint"

    def __init__(self, dx: int, dy: int, hidden: int = DEFAULT_HIDDEN,
                 layers: int = DEFAULT_LAYERS, *, runs: int = 1, seed: int = 0,
                 seeds: list[int] | None = None) -> None:
        super().__init__(runs, seed, seeds)
        self.dx, self.dy = require_int(dx, "dx"), require_int(dy, "dy")
        require_int(hidden, "hidden")
        require_int(layers, "layers")
        self.mlp = BatchedMLP(self.dx + self.dy, 1, hidden, layers, self._gens())

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y, batched = self._pair(x, y, self.dx, self.dy)
        R, B, _ = x.shape
        w, b = self.mlp.first_layer()
        a = torch.baddbmm(b.unsqueeze(1), x, w[:, :self.dx])   # (R, B, H): x_i W_x + b
        c = torch.bmm(y, w[:, self.dx:])                  # (R, B, H): y_j W_y
        h = a.unsqueeze(2) + c.unsqueeze(1)               # (R, B_x, B_y, H): one pass over pairs
        out = self.mlp.rest(h.reshape(R, B * B, -1))      # (R, B*B, 1)
        return self._shape_out(out.reshape(R, B, B), batched)


class SeparableCritic(_Critic):
    """A separable critic from ReLU MLPs ``g, h`` to an ``embed``-dimensional space (Sec. 3.1).

    ``factorisation="pmi"`` (kind ``separable``): ``c(x, y) = log r(x, y) = <g(x), h(y)>``,
    ``S = g(X) h(Y)^T``.  ``factorisation="pd"`` (kind ``separable_pd``): the ratio itself,
    ``r(x, y) = <softplus(g(x)), softplus(h(y))>``, so ``c(x, y) = log <softplus(g(x)),
    softplus(h(y))>`` (:func:`numerics.neural.factorisation.pd_scores`, in log space).  Both
    draw the same parameters from a seed: only the scoring differs."""

    kind = "separable"

    def __init__(self, dx: int, dy: int, hidden: int = DEFAULT_HIDDEN,
                 layers: int = DEFAULT_LAYERS, embed: int = DEFAULT_EMBED, *, runs: int = 1,
                 seed: int = 0, seeds: list[int] | None = None,
                 factorisation: str = "pmi") -> None:
        super().__init__(runs, seed, seeds)
        self.factorisation = check_factorisation(factorisation)
        self.kind = "separable" if self.factorisation == "pmi" else "separable_pd"
        self.dx, self.dy = require_int(dx, "dx"), require_int(dy, "dy")
        require_int(hidden, "hidden")
        require_int(layers, "layers")
        require_int(embed, "embed")
        # g's parameters are drawn before h's from each run's generator
        gens = self._gens()
        self.g = BatchedMLP(self.dx, embed, hidden, layers, gens)
        self.h = BatchedMLP(self.dy, embed, hidden, layers, gens)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y, batched = self._pair(x, y, self.dx, self.dy)
        if self.factorisation == "pmi":     # the original path: bit-for-bit the same numbers
            scores = torch.bmm(self.g(x), self.h(y).transpose(1, 2))
        else:
            scores = factorised_scores(self.g(x), self.h(y), self.factorisation)
        return self._shape_out(scores, batched)


class BilinearCritic(_Critic):
    """``c(x, y) = x^T W y``: ``S = X W Y^T``."""

    kind = "bilinear"

    def __init__(self, dx: int, dy: int, *, runs: int = 1, seed: int = 0,
                 seeds: list[int] | None = None) -> None:
        super().__init__(runs, seed, seeds)
        self.dx, self.dy = require_int(dx, "dx"), require_int(dy, "dy")
        bound = 1.0 / math.sqrt(self.dx * self.dy)
        self.weight = nn.Parameter(torch.stack(
            [_uniform((self.dx, self.dy), bound, g) for g in self._gens()]))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y, batched = self._pair(x, y, self.dx, self.dy)
        scores = torch.bmm(torch.bmm(x, self.weight), y.transpose(1, 2))
        return self._shape_out(scores, batched)


def make_critic(kind: str, *, dx: int | None = None, dy: int | None = None,
                n_x: int | None = None, n_y: int | None = None, hidden: int = DEFAULT_HIDDEN,
                layers: int = DEFAULT_LAYERS, embed: int = DEFAULT_EMBED, runs: int = 1,
                seed: int = 0, seeds: list[int] | None = None) -> _Critic:
    """A critic by name: ``tabular`` (needs ``n_x, n_y``), ``joint`` / ``separable`` /
    ``separable_pd`` / ``bilinear`` (need ``dx, dy``; ``separable_pd`` is the PD factorisation
    ``r = <softplus(g), softplus(h)>``).  Defaults: the paper's 2 x 512 ReLU, embedding 16.
    ``seeds`` (a list) replaces ``runs`` / ``seed``: run ``r`` is initialised from ``seeds[r]``."""
    if seeds is not None:
        seeds = list(seeds)
        runs = len(seeds) or 1
    if kind == "tabular":
        if n_x is None or n_y is None:
            raise InputError("critic", "the tabular critic needs n_x and n_y (a discrete joint)")
        return TabularCritic(n_x, n_y, runs=runs, seed=seed, seeds=seeds)
    if kind in FEATURE_CRITICS:
        if dx is None or dy is None:
            raise InputError("critic", f"the {kind} critic needs the feature dimensions dx, dy")
        if kind == "joint":
            return JointCritic(dx, dy, hidden, layers, runs=runs, seed=seed, seeds=seeds)
        if kind in ("separable", "separable_pd"):
            return SeparableCritic(dx, dy, hidden, layers, embed, runs=runs, seed=seed,
                                   seeds=seeds,
                                   factorisation="pmi" if kind == "separable" else "pd")
        return BilinearCritic(dx, dy, runs=runs, seed=seed, seeds=seeds)
    raise InputError("critic", f"unknown critic {kind!r}; expected one of {', '.join(CRITICS)}")
