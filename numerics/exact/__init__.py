"""Exact numerics on discrete distributions (issue #3): no sampling, no torch.

Modules: :mod:`~numerics.exact.units` (nats / bits), :mod:`~numerics.exact.result`,
:mod:`~numerics.exact.distributions` (input checks), :mod:`~numerics.exact.divergences` (KL,
chi^2, f, JS), :mod:`~numerics.exact.enumeration` and :mod:`~numerics.exact.laplace` (the
expectations over ``K`` slots), :mod:`~numerics.exact.kjs` (D_KJS, Eq. 4),
:mod:`~numerics.exact.objectives` (every scoring rule's population objective),
:mod:`~numerics.exact.estimators` (Table 1 / Sec. 3.3 estimators),
:mod:`~numerics.exact.envelope` (the range of D_KJS at fixed KL: Thm 2 corrected) and
:mod:`~numerics.exact.mi` (joint tables ``p(x, y)``).
"""

from numerics.exact.divergences import chi2, f_divergence, js, kl
from numerics.exact.estimators import population_estimator
from numerics.exact.kjs import (
                                anchored_divergence,
                                anchored_divergence_result,
                                infonce_divergence,
                                infonce_divergence_result,
                                kway_jsd,
                                kway_jsd_result,
)
from numerics.exact.objectives import (
                                population_objective,
                                population_objective_result,
                                rule_divergence,
)
from numerics.exact.result import Result

__all__ = ["Result", "anchored_divergence", "anchored_divergence_result", "chi2",
           "f_divergence", "infonce_divergence", "infonce_divergence_result", "js", "kl",
           "kway_jsd", "kway_jsd_result", "population_estimator", "population_objective",
           "population_objective_result", "rule_divergence"]
