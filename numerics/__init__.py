"""Exact numerics on discrete distributions (issue #3); torch critics live in submodules that
import torch themselves.

Public API (nats everywhere; bits only at the edge):

* :func:`kway_jsd`, :func:`anchored_divergence`, :func:`infonce_divergence` (:mod:`numerics.kjs`);
* :func:`population_objective`, :func:`rule_divergence` (:mod:`numerics.objectives`);
* :func:`population_estimator` (Table 1 and Sec. 3.3 estimators, :mod:`numerics.estimators`);
* :func:`kl`, :func:`chi2`, :func:`f_divergence`, :func:`js` (:mod:`numerics.divergences`);
* :mod:`numerics.mi` for joint tables ``p(x, y)``.
"""

from numerics.divergences import chi2, f_divergence, js, kl
from numerics.estimators import population_estimator
from numerics.kjs import (anchored_divergence, anchored_divergence_result, infonce_divergence,
                          infonce_divergence_result, kway_jsd, kway_jsd_result)
from numerics.objectives import population_objective, population_objective_result, rule_divergence
from numerics.result import Result

__all__ = ["Result", "anchored_divergence", "anchored_divergence_result", "chi2",
           "f_divergence", "infonce_divergence", "infonce_divergence_result", "js", "kl",
           "kway_jsd", "kway_jsd_result", "population_estimator", "population_objective",
           "population_objective_result", "rule_divergence"]
