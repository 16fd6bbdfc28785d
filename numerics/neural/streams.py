"""Random streams of the torch layer (issue #4): which generator draws which run's batches.

**Seeds and streams.**  Run ``r`` of a call with ``seed`` uses the run seed ``s = seed + r`` for
three independent streams: the critic's initialisation (a CPU ``torch.Generator`` seeded ``s``,
see :mod:`numerics.neural.critics`), the training batches and the evaluation batches (generators
on the training device seeded from ``numpy.random.SeedSequence([s, 1])`` and ``[s, 2]``, so that
neither repeats the initialisation's random numbers).  Everything run ``r`` sees is a function of
``s`` alone, so ``runs = 3`` with ``seed`` gives the per-run numbers of three ``runs = 1`` calls
with ``seed``, ``seed + 1``, ``seed + 2`` (to float rounding: batched matmuls).  On the CPU two
identical calls give identical numbers; on a GPU the batches differ from the CPU's (device-side
generators) and some kernels are not bit-reproducible.  :class:`UnitStream` ("unit" sampling)
trades that per-run identity for fewer kernel launches."""

from __future__ import annotations

import numpy as np
import torch

from theory.errors import InputError

TRAIN_STREAM = 1


EVAL_STREAM = 2


# ------------------------------------------------------------------------------ samplers
def stream_seed(run_seed: int, stream: int) -> int:
    return int(np.random.SeedSequence([run_seed, stream]).generate_state(1, np.uint64)[0])


def stream_generator(run_seed: int, stream: int, device: torch.device | str = "cpu"
                     ) -> torch.Generator:
    """The generator of one run's training (``stream = 1``) or evaluation (2) batches."""
    return torch.Generator(device=device).manual_seed(stream_seed(run_seed, stream))


def _stack(batches: list, critic_kind: str, sampler) -> tuple[torch.Tensor, torch.Tensor]:
    xs, ys = zip(*(sampler.inputs(b, critic_kind) for b in batches))
    return torch.stack(xs), torch.stack(ys)


class UnitStream:
    """One generator for all ``runs`` of a batched call ("unit" sampling): each step draws
    ``runs * B`` i.i.d. pairs at once and splits them into the runs' batches, a few kernel
    launches instead of a few per run.  The runs still get independent data, but run ``r``'s
    batches now depend on how the seeds are blocked (``seed`` and ``runs``), so a batched call
    no longer equals its runs one by one; per-run generators (the default) keep that."""

    def __init__(self, seed: int, runs: int, stream: int, device) -> None:
        self.runs = runs
        # streams 3 and 4: never the per-run streams 1, 2 of the same seed
        self.generator = stream_generator(seed, stream + 2, device)

    def __len__(self) -> int:
        return self.runs


def stream_generators(seed: int, runs: int, stream: int, device, sampling: str = "per-run"):
    """The training (``stream = 1``) or evaluation (2) generators of runs ``seed .. seed +
    runs - 1``: one per run (``per-run``) or one :class:`UnitStream` (``unit``)."""
    if sampling == "per-run":
        return [stream_generator(seed + r, stream, device) for r in range(runs)]
    if sampling == "unit":
        return UnitStream(seed, runs, stream, device)
    raise InputError("sampling", f"must be per-run or unit, got {sampling!r}")


def draw_batches(sampler, generators, batch_size: int, critic_kind: str):
    """One batch per run, stacked: ``(R, B, ...)``; from each run's own generator, or (a
    :class:`UnitStream`) ``R * B`` i.i.d. pairs from one generator, reshaped."""
    if isinstance(generators, UnitStream):
        R = generators.runs
        x, y = sampler.sample(R * batch_size, generators.generator)
        batch = (x.reshape(R, batch_size, *x.shape[1:]), y.reshape(R, batch_size, *y.shape[1:]))
        return sampler.inputs(batch, critic_kind)
    return _stack([sampler.sample(batch_size, g) for g in generators], critic_kind, sampler)
