"""Claims checked through the torch layer (``numerics.torch_losses``; issue #4).

torch is optional: without it these claims are reported ``open`` with that reason.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from infonce_anchor.claims.registry import Outcome, claim

NUMPY_NAME = {"fdime_kl": "f_dime"}
PARAMS = {"smile": {"tau": 1.5}}


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _batch_average(torch, joint, critic, B, name, **kw) -> float:
    """``E_batch[minibatch loss]`` over every batch of ``B`` pairs drawn from ``joint``."""
    from numerics.torch_losses import minibatch_loss
    cells = [(x, y) for x in range(joint.shape[0]) for y in range(joint.shape[1])]
    log_r = np.log(critic)
    total = 0.0
    for batch in itertools.product(cells, repeat=B):
        w = float(np.prod([joint[x, y] for x, y in batch]))
        S = torch.tensor([[log_r[xi, yj] for (_, yj) in batch] for (xi, _) in batch],
                         dtype=torch.float64)
        total += w * float(minibatch_loss(name, S, **kw).loss)
    return total


@claim("table1.estimators", "Every Table 1 estimator (DV, NWJ, InfoNCE, MINE, JS, SMILE, "
       "PCC/D-RFC, f-DIME, InfoNCE-anchor) as a minibatch loss agrees with its population "
       "objective.", "Table 1", "sampled")
def check_table1_estimators() -> Outcome:
    torch = _torch()
    if torch is None:
        return Outcome("open", "-", "needs torch (pip install 'infonce-anchor[torch]')")
    from numerics import mi
    from numerics.torch_losses import minibatch_loss
    rng = np.random.default_rng(2026)
    joint = rng.dirichlet(np.ones(4)).reshape(2, 2)
    critic = np.exp(rng.normal(0, 0.7, (2, 2)))
    px, py = joint.sum(1), joint.sum(0)
    S = torch.tensor(np.log(critic), dtype=torch.float64)
    gaps = {}
    for name in ("dv", "nwj", "mine", "js", "smile", "drf", "fdime_kl", "fdime_gan",
                 "fdime_hellinger"):
        out = minibatch_loss(name, S, weights=(joint, np.outer(px, py)), **PARAMS.get(name, {}))
        ref = mi.mi_estimator(NUMPY_NAME.get(name, name), critic, joint, **PARAMS.get(name, {}))
        gaps[name] = max(abs(float(out.loss) - ref.loss),
                         abs(float(out.estimate_nats) - ref.estimate))
    gaps["infonce (B = 3, K = 2)"] = abs(
        _batch_average(torch, joint, critic, 3, "infonce", K=2)
        - (math.log(2) - mi.mi_estimator("infonce", critic.T, joint.T, K=2).estimate))
    gaps["infonce_anchor (B = 3, K = 2, nu = 1)"] = abs(
        _batch_average(torch, joint, critic, 3, "infonce_anchor", K=2, nu=1.0)
        - mi.mi_population_objective("log", critic.T, joint.T, 2, 1.0))
    worst = max(gaps.values())
    ok = worst < 1e-12
    return Outcome("verified-exact" if ok else "refuted",
                   "torch losses (float64) against numerics' exact objectives: single-slot losses "
                   "on the whole 2x2 alphabet with weights (p(x,y), p(x)p(y)); slot losses "
                   "averaged over all 81 batches of B = 3 pairs",
                   f"{len(gaps)} estimators (PCC is the JS loss with the plug-in); max |loss or "
                   f"estimate - exact| = {worst:.2g} nats",
                   {"gaps_nats": gaps, "joint": joint.tolist(), "critic": critic.tolist()})
