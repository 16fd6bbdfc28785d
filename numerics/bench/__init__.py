"""The MI-estimation benchmark of Sec. 4.1 / App. G (issues #5, #12): tasks with exact ground
truth (:mod:`~numerics.bench.tasks`), the estimator table (:mod:`~numerics.bench.estimators`),
one staircase run (:mod:`~numerics.bench.staircase`), per-level statistics
(:mod:`~numerics.bench.statistics`), sweep configs (:mod:`~numerics.bench.config`), the sweep
runner (:mod:`~numerics.bench.runner`) and summaries (:mod:`~numerics.bench.summary`).  Uses
:mod:`numerics.neural` and :mod:`numerics.exact`.
"""
