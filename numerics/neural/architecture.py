"""The critics' names and the paper's architecture (App. G.1): one definition, imported by
the critics, the trainers, the benchmark configs, the CLI and the claims.  No torch here, so
torch-free modules (the claims report) can read them."""

from __future__ import annotations

from theory.errors import InputError

#: every critic kind of :func:`numerics.neural.critics.make_critic`; ``separable`` is the PMI
#: factorisation ``log r = <g(x), h(y)>``, ``separable_pd`` the PD factorisation
#: ``r = <softplus(g(x)), softplus(h(y))>`` (Sec. 3.1; :mod:`numerics.neural.factorisation`)
CRITICS = ("tabular", "joint", "separable", "bilinear", "separable_pd")
#: the critics of feature vectors (every kind but the tabular one)
FEATURE_CRITICS = ("joint", "separable", "bilinear", "separable_pd")
#: the two MLP critics of the paper's benchmark (App. G: "joint and separable critic types")
PAPER_CRITICS = ("joint", "separable")
#: "two hidden layers with 512 units, ReLU ... a shared 16-dimensional embedding space" (App. G)
DEFAULT_HIDDEN = 512
DEFAULT_LAYERS = 2
DEFAULT_EMBED = 16


# How DEFAULT_LR was chosen (issue #11), at the README's scale: 6x6 joints, B = 8, Adam at a
# constant lr, the CLI's default architectures (MLPs 2 x 512, embedding 16), CPU.  Measured:
# the *exact* population value of the trained critic (its 6x6 table of scores fed to
# numerics.exact.mi.mi_estimator; no held-out noise) minus its target -- D_KJS(K = 7) for
# InfoNCE, the MI for NWJ and for InfoNCE-anchor's plug-in -- mean over seeds 0-4 (0-2 for the
# MLPs) at several step counts.  Joints: 0.152 on the diagonal and the rest even (MI 1.35,
# D_KJS 1.04 nats: the case), a banded exp(-|x - y|) one (MI 0.52) and a Dirichlet(0.5)
# draw with skewed marginals (MI 0.46).  Error (nats) of the diagonal joint:
#
#   critic     estimator       steps   lr 1e-4  1e-3    3e-3    1e-2    2e-2    5e-2    1e-1
#   tabular    InfoNCE         1000    -0.957   -0.412  -0.064  -0.001  -0.003  -0.007  -0.017
#   tabular    InfoNCE         6000    -0.598   -0.003  -0.001  -0.002  -0.003  -0.009  -0.019
#   tabular    NWJ             1000    -1.252   -0.568  -0.094  -0.009  -0.008  -0.017  -0.026
#   tabular    InfoNCE-anchor  2000    -1.216   -0.253  +0.333  +0.096  -0.009  -0.024  +0.004
#   tabular    InfoNCE-anchor  6000    -0.948   +0.374  +0.135  +0.020  +0.025  +0.015  -0.002
#   bilinear   InfoNCE         1000    -0.974   -0.423  -0.067  -0.001  -0.003  -0.007  -0.017
#   bilinear   InfoNCE-anchor  2000    -1.243   -0.276  +0.323  +0.095  -0.009  -0.024  +0.004
#
# (the anchored plug-in overshoots, then relaxes: it needs the larger rates; above 2e-2 the SGD
# jitter grows: seed sd 0.035 at 2e-2, 0.12 at 5e-2, 0.23 at 1e-1 after 6000 steps.)  The other
# two joints rank the rates the same way (tabular InfoNCE after 1000 steps: -0.004 / -0.005 at
# 1e-2 / 2e-2 on the banded joint, -0.009 / -0.007 on the Dirichlet one; lr 1e-4 still -0.398 /
# -0.359).  So tabular and bilinear (with one-hot inputs a table, up to its start): 2e-2, which
# reaches the target within ~1000 steps (2000 for the anchored plug-in).  The 2 x 512 MLPs
# move fast at the paper's 1e-4 and only add jitter at larger rates:
#
#   critic     estimator       steps   lr 1e-4  3e-4    1e-3    3e-3
#   joint      InfoNCE         500     -0.005   -0.012  -0.020  -0.030
#   joint      InfoNCE         3000    -0.004   -0.008  -0.011  -0.014
#   separable  InfoNCE         1000    -0.014   -0.034  -0.056  -0.078
#   separable  InfoNCE         3000    -0.013   -0.023  -0.030  -0.035
#   joint      InfoNCE-anchor  2000    -0.009   -0.038  -0.054  -0.021  (seed sd 0.05 to 0.14)
#   separable  InfoNCE-anchor  2000    -0.041   -0.027                  (seed sd 0.03, 0.08)
#
# so joint and separable keep the paper's 1e-4.  separable_pd (the PD factorisation of the same
# two MLPs) was not tuned separately: it takes separable's 1e-4.
#: Adam learning rates per critic kind used by ``infonce-anchor train`` when ``--lr`` is not
#: given (:func:`numerics.neural.train.train` itself keeps its 1e-4 default); measured as described above.
DEFAULT_LR = {"tabular": 2e-2, "bilinear": 2e-2, "joint": 1e-4, "separable": 1e-4,
              "separable_pd": 1e-4}


def default_lr(critic_kind: str) -> float:
    """The learning rate :data:`DEFAULT_LR` gives ``critic_kind`` (see there for how)."""
    if critic_kind not in DEFAULT_LR:
        raise InputError("critic", f"unknown critic {critic_kind!r}; expected one of "
                         f"{', '.join(CRITICS)}")
    return DEFAULT_LR[critic_kind]
