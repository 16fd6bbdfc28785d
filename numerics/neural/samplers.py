"""Samplers of paired data ``(x, y)`` for the torch layer (issue #4).

* :class:`FeatureSampler`: the base of samplers of feature vectors (the benchmark's tasks too);
* :class:`DiscreteJointSampler`: pairs i.i.d. from a joint table, as indices for the tabular
  critic or one-hot features for the others;
* :class:`GaussianSampler`: the correlated Gaussians of Sec. 4.1 / App. G.1 in ``d = 10``,
  optionally cubic.

Each sampler draws a batch from a ``torch.Generator`` (:mod:`numerics.neural.streams`) and
carries its exact MI (``true_mi_nats``)."""

from __future__ import annotations

import math

import torch

from numerics.exact.mi import as_joint, mutual_information
from numerics.neural.architecture import FEATURE_CRITICS
from theory.errors import InputError


class FeatureSampler:
    """Samplers of feature vectors ``(x, y)`` of widths ``dx``, ``dy`` (not for tabular critics);
    subclasses set ``dx``, ``dy`` and define ``sample`` and ``describe``."""

    discrete = False
    dx: int
    dy: int

    def inputs(self, batch, critic_kind: str):
        if critic_kind == "tabular":
            raise InputError("critic", f"the tabular critic needs a discrete joint, not the "
                             f"features of {self.describe()}; use "
                             f"{', '.join(FEATURE_CRITICS)}")
        return batch

    def critic_dims(self) -> dict[str, int]:
        return {"dx": self.dx, "dy": self.dy}


class DiscreteJointSampler:
    """Pairs ``(x, y)`` drawn i.i.d. from a joint table ``p(x, y)`` (rows ``x``, columns ``y``).

    :meth:`sample` returns integer indices ``(B,)`` each; :meth:`inputs` turns them into what a
    critic takes (indices for ``tabular``, one-hot features otherwise, ``dx = n_x``,
    ``dy = n_y``).
    """

    discrete = True

    def __init__(self, joint: object, *, normalize: bool = False) -> None:
        self.joint = as_joint(joint, "joint", normalize=normalize)
        self.n_x, self.n_y = self.joint.shape
        self.dx, self.dy = self.n_x, self.n_y
        self.true_mi_nats = mutual_information(self.joint)
        self._probs: dict[str, torch.Tensor] = {}

    def _flat_probs(self, device: torch.device) -> torch.Tensor:
        key = str(device)
        if key not in self._probs:
            self._probs[key] = torch.as_tensor(self.joint.ravel(), dtype=torch.float64,
                                               device=device)
        return self._probs[key]

    def sample(self, batch_size: int, generator: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch_size`` pairs on the generator's device: ``(x_idx, y_idx)``, int64."""
        probs = self._flat_probs(generator.device)
        cells = torch.multinomial(probs, batch_size, replacement=True, generator=generator)
        return cells // self.n_y, cells % self.n_y

    def features(self, x_idx: torch.Tensor, y_idx: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """One-hot float32 features ``(..., n_x)`` and ``(..., n_y)``."""
        return (torch.nn.functional.one_hot(x_idx, self.n_x).float(),
                torch.nn.functional.one_hot(y_idx, self.n_y).float())

    def inputs(self, batch: tuple[torch.Tensor, torch.Tensor], critic_kind: str):
        return batch if critic_kind == "tabular" else self.features(*batch)

    def critic_dims(self) -> dict[str, int]:
        return {"n_x": self.n_x, "n_y": self.n_y, "dx": self.dx, "dy": self.dy}

    def describe(self) -> str:
        return f"discrete joint {self.n_x}x{self.n_y}"


class GaussianSampler(FeatureSampler):
    """Sec. 4.1 / App. G.1 (Lee & Rhee 2024's benchmark): ``x, eps ~ N(0, I_d)``,
    ``y = rho x + sqrt(1 - rho^2) eps`` with ``rho = sqrt(1 - exp(-2 I / d))``, so that
    ``I(X; Y) = -(d/2) log(1 - rho^2) = I``; with ``cubic=True`` ``y <- y^3`` (an invertible map
    of ``y``: the MI is unchanged)."""

    def __init__(self, dim: int = 10, mi_nats: float = 1.0, cubic: bool = False) -> None:
        if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
            raise InputError("dim", f"must be an integer >= 1, got {dim!r}")
        try:
            mi = float(mi_nats)
        except (TypeError, ValueError):
            raise InputError("mi_nats", f"must be a number, got {mi_nats!r}") from None
        if not (math.isfinite(mi) and mi >= 0):
            raise InputError("mi_nats", f"must be a finite number >= 0, got {mi_nats!r}")
        self.dim, self.dx, self.dy = dim, dim, dim
        self.cubic = bool(cubic)
        self.rho = math.sqrt(-math.expm1(-2.0 * mi / dim))
        self.true_mi_nats = -(dim / 2.0) * math.log1p(-self.rho ** 2)

    def sample(self, batch_size: int, generator: torch.Generator
               ) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (batch_size, self.dim)
        x = torch.randn(shape, generator=generator, device=generator.device)
        eps = torch.randn(shape, generator=generator, device=generator.device)
        y = self.rho * x + math.sqrt(1.0 - self.rho ** 2) * eps
        return x, (y ** 3 if self.cubic else y)

    def describe(self) -> str:
        return f"Gaussian d={self.dim}{' cubic' if self.cubic else ''}"
