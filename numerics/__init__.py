"""Numerics in three layers, each using only the ones below it (issue #10)::

    numerics.bench   the MI benchmark: tasks with exact ground truth, estimator table,
        |            staircase runner, level statistics, sweep config / runner / summaries
    numerics.neural  torch: minibatch losses, critics, samplers and random streams, the
        |            training loop, device and precision, result files
    numerics.exact   exact numerics on discrete distributions (no torch)
        |
    theory           the symbolic layer

``import numerics`` imports the exact layer only (never torch).  Its public API, re-exported
here (nats everywhere; bits only at the edge, :mod:`numerics.exact.units`):

* :func:`kway_jsd`, :func:`anchored_divergence`, :func:`infonce_divergence`
  (:mod:`numerics.exact.kjs`);
* :func:`population_objective`, :func:`rule_divergence` (:mod:`numerics.exact.objectives`);
* :func:`population_estimator` (Table 1 and Sec. 3.3 estimators,
  :mod:`numerics.exact.estimators`);
* :func:`kl`, :func:`chi2`, :func:`f_divergence`, :func:`js` (:mod:`numerics.exact.divergences`);
* :mod:`numerics.exact.mi` for joint tables ``p(x, y)``.
"""

from numerics import exact
from numerics.exact import *  # noqa: F403  (the exact layer's public API, re-exported)

__all__ = list(exact.__all__)
