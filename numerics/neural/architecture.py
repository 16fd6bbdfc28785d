"""The critics' names and the paper's architecture (App. G / SPEC §7): one definition, imported by
the critics, the trainers, the benchmark configs, the CLI and the claims.  No torch here, so
torch-free modules (the claims report) can read them."""

from __future__ import annotations

#: every critic kind of :func:`numerics.neural.critics.make_critic`
CRITICS = ("tabular", "joint", "separable", "bilinear")
#: the two MLP critics of the paper's benchmark (App. G: "joint and separable critic types")
PAPER_CRITICS = ("joint", "separable")
#: "two hidden layers with 512 units, ReLU ... a shared 16-dimensional embedding space" (App. G)
DEFAULT_HIDDEN = 512
DEFAULT_LAYERS = 2
DEFAULT_EMBED = 16
