"""The torch layer (issues #4, #12): every objective of the paper as a minibatch loss
(:mod:`~numerics.neural.losses`), critics (:mod:`~numerics.neural.critics`), samplers of paired
data (:mod:`~numerics.neural.samplers`) and their random streams
(:mod:`~numerics.neural.streams`), device and precision (:mod:`~numerics.neural.device`), the
training loop (:mod:`~numerics.neural.loop`), ``train`` (:mod:`~numerics.neural.train`) and
result files (:mod:`~numerics.neural.results`).  Uses :mod:`numerics.exact` and
:mod:`theory`, never :mod:`numerics.bench`.
"""
