"""The five contrastive objectives of the paper's SSL experiment (Sec. 4.3, Table 2, App. G.3).

Each is a loss of :mod:`numerics.neural.losses` (the same functions the MI benchmark trains, so
the same formulas, checked there against the symbolic layer) on a score matrix built from the two
views' projected embeddings by one of the two factorisations of
:mod:`numerics.neural.factorisation` (embeddings unit-normalised, temperature ``tau``):

============== ===================================== ===== ====== ============= =====
objective      scoring rule (App. G.3)               K     nu     factorisation tau
============== ===================================== ===== ====== ============= =====
InfoNCE        log score (``infonce``)               B - 1 0      PMI           0.2
InfoNCE-anchor log score (``infonce_anchor``)        B - 1 1      PMI           0.2
JS             log score, K = 1 (``js``)             1     1      PMI           0.2
Spherical      spherical (``pseudo_spherical``, 2)   B - 1 1      PD            0.2
chi^2          asymmetric power, alpha = 2 (``drf``) 1     1      PD            0.1
============== ===================================== ===== ====== ============= =====

(App. G.3 lists the rule, ``K`` and ``nu`` of each; Table 2's caption says Spherical and chi^2 use
the PD factorisation; tau = 0.2 "throughout, unless stated otherwise", 0.1 for chi^2.)  The
single-slot losses (JS, chi^2) contrast every off-diagonal pair of the batch as a sample of
``p(x) p(y)``, as in the MI benchmark.

**Views.**  Row ``i`` of ``S = scores(z1, z2)`` contrasts the second views for the first view of
image ``i`` (the positive pair on the diagonal).  The loss is symmetrised over the two views,
``(L(S) + L(S^T)) / 2``, since neither view is the "x" of the pair.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from numerics.neural.factorisation import check_factorisation, factorised_scores
from numerics.neural.losses import LOSSES, minibatch_loss
from theory.errors import InputError


@dataclass(frozen=True)
class SSLObjective:
    """A contrastive objective: the loss ``loss`` (a name of
    :data:`numerics.neural.losses.LOSSES`) with ``K`` (None: ``B - 1``), ``nu`` and ``alpha``,
    on scores of the ``factorisation`` (``pmi`` / ``pd``) at temperature ``tau``."""

    name: str
    label: str
    loss: str
    factorisation: str
    tau: float
    K: int | None = None
    nu: float | None = None
    alpha: float | None = None

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise InputError("loss", f"unknown loss {self.loss!r}; known: {', '.join(LOSSES)}")
        check_factorisation(self.factorisation)

    def scores(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """``S[i, j] = log r(view1_i, view2_j)`` from the projected embeddings ``(B, d)``."""
        return factorised_scores(z1, z2, self.factorisation, tau=self.tau, normalize=True)

    def loss_value(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """The symmetrised loss ``(L(S) + L(S^T)) / 2`` (a scalar to minimise)."""
        S = self.scores(z1, z2)
        options = {"K": self.K, "nu": self.nu, "alpha": self.alpha, "check_finite": False}
        forward = minibatch_loss(self.loss, S, **options).loss
        backward = minibatch_loss(self.loss, S.transpose(-1, -2), **options).loss
        return (forward + backward) / 2


#: App. G.3's objectives, in Table 2's column order.
OBJECTIVES: dict[str, SSLObjective] = {o.name: o for o in (
    SSLObjective("infonce", "InfoNCE", "infonce", "pmi", 0.2),
    SSLObjective("infonce_anchor", "InfoNCE-anchor", "infonce_anchor", "pmi", 0.2, nu=1.0),
    SSLObjective("spherical", "Spherical", "pseudo_spherical", "pd", 0.2, nu=1.0, alpha=2.0),
    SSLObjective("js", "JS", "js", "pmi", 0.2),
    SSLObjective("chi2", "chi^2", "drf", "pd", 0.1),
)}

#: Table 2 of the paper (linear probe on CIFAR-100 after ResNet-18 pretraining, B = 256), %:
#: (top-1, top-5) per objective, as printed.
TABLE2_PAPER: dict[str, tuple[float, float]] = {
    "infonce": (65.98, 89.69), "infonce_anchor": (65.74, 89.24), "spherical": (4.33, 17.91),
    "js": (61.69, 87.33), "chi2": (65.59, 88.4)}


def objective(name: str) -> SSLObjective:
    """The objective ``name`` (a key of :data:`OBJECTIVES`)."""
    if name not in OBJECTIVES:
        raise InputError("objectives", f"unknown SSL objective {name!r}; known: "
                         f"{', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]
