"""What the claims checked through the torch layer share (registers no claim): torch itself
(optional), the expectation of a minibatch loss over every batch from a discrete joint, and the
trained-critic experiment of the ``sampled.*`` claims (its joint, settings and training).

torch is optional: without it :func:`torch_or_none` returns ``None`` and those claims are
reported ``open`` with :func:`needs_torch`'s reason.
"""

from __future__ import annotations

import itertools

import numpy as np

from infonce_anchor.claims.registry import Outcome


def torch_or_none():
    """The ``torch`` module, or ``None`` where it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def needs_torch() -> Outcome:
    """The outcome of a claim whose check needs torch, where torch is missing."""
    return Outcome("open", "-", "needs torch (pip install 'infonce-anchor[torch]')")


def batch_average(joint: np.ndarray, critic: np.ndarray, B: int, name: str, **kw) -> float:
    """``E_batch[minibatch loss]`` over every batch of ``B`` i.i.d. pairs drawn from ``joint``:
    the ``B x B`` score matrix of a batch holds ``log critic[x_i, y_j]`` and is weighted by the
    batch's probability (``|joint|^B`` batches, so keep ``joint`` and ``B`` small)."""
    import torch

    from numerics.neural.losses import minibatch_loss
    cells = [(x, y) for x in range(joint.shape[0]) for y in range(joint.shape[1])]
    log_r = np.log(critic)
    total = 0.0
    for batch in itertools.product(cells, repeat=B):
        w = float(np.prod([joint[x, y] for x, y in batch]))
        S = torch.tensor([[log_r[xi, yj] for (_, yj) in batch] for (xi, _) in batch],
                         dtype=torch.float64)
        total += w * float(minibatch_loss(name, S, **kw).loss)
    return total


# ------------------------------------------------------------------ trained critics (CPU)
def trained_critic_joint() -> np.ndarray:
    """The 4 x 4 joint of the trained-critic claims: MI (0.55 nats) well above D_KJS at K = 3
    (0.33 nats), so small batches make the difference between "converges to the MI" and
    "converges to D_KJS" unmistakable."""
    J = np.full((4, 4), 0.02)
    np.fill_diagonal(J, 0.22)
    J = J + np.random.default_rng(0).uniform(0, 0.01, (4, 4))
    return J / J.sum()


TRAINING = {"batch_size": 4, "steps": 3000, "lr": 0.05, "lr_schedule": "cosine", "seed": 0,
            "runs": 4, "eval_batches": 100, "progress": False}


def trained_tables(estimator: str, **kw):
    """Train 4 tabular critics (batched runs, seeds 0..3) on :func:`trained_critic_joint` with
    :data:`TRAINING`; return the training result and the critics' tables (log r)."""
    from numerics.neural.samplers import DiscreteJointSampler
    from numerics.neural.train import train
    res = train(estimator, "tabular", DiscreteJointSampler(trained_critic_joint()), **TRAINING,
                **kw)
    return res, res.critic.table.detach().double().numpy()


def seed_spread(values: list[float]) -> str:
    """``mean (sd ... over n seeds)`` of one number per seed."""
    arr = np.asarray(values)
    return f"{arr.mean():.4f} (sd {arr.std(ddof=1):.4f} over {arr.size} seeds)"
