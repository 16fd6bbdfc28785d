"""The training loop (issues #4, #12): Adam on minibatch losses, one or several losses in one
batched critic (:class:`LossBlock`), optionally replayed as a CUDA graph (:class:`GraphedStep`),
and held-out evaluation (:func:`evaluate`).  No host synchronisation inside the loop: per-step
values stay on the device and are checked for NaN / inf once at the end
(:class:`TrainingDiverged`)."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from typing import Any

import torch

from numerics.neural import losses as torch_losses
from numerics.neural.device import critic_autocast
from numerics.neural.streams import draw_batches
from theory.errors import InputError


# ------------------------------------------------------------------------------ progress
class _Progress:
    """tqdm when installed, else a line on stderr every tenth of the steps."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self.total, self.desc, self.enabled, self.n = total, desc, enabled and total > 0, 0
        self._bar = None
        self._next = 0
        self._start = time.perf_counter()
        if not self.enabled:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._next = max(1, total // 10)
        else:
            self._bar = tqdm(total=total, desc=desc, leave=False, file=sys.stderr)

    def update(self, loss=None) -> None:
        """One step; ``loss`` is a callable giving the current loss, called only when shown
        (reading it synchronises a GPU)."""
        self.n += 1
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(1)
            if loss is not None and (self.n % 50 == 0 or self.n == self.total):
                self._bar.set_postfix(loss=f"{loss():.4g}", refresh=False)
            return
        if self.n >= self._next or self.n == self.total:
            rate = self.n / max(time.perf_counter() - self._start, 1e-9)
            tail = f", loss {loss():.4g}" if loss is not None else ""
            print(f"{self.desc}: {self.n}/{self.total} steps ({rate:.0f} steps/s{tail})",
                  file=sys.stderr, flush=True)
            self._next = min(self.total, self.n + max(1, self.total // 10))

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


class TrainingDiverged(RuntimeError):
    """The scores became NaN or infinite during training (lower the learning rate)."""


# ------------------------------------------------------------------------------ loss blocks
@dataclass
class LossBlock:
    """Consecutive runs of one batched critic trained with one loss (issue #12).

    A critic with ``runs = R_1 + R_2 + ...`` (e.g. built with ``make_critic(seeds=...)``) can
    train several losses at once: block ``k`` owns the next ``R_k`` runs, draws their batches
    from its own ``generators`` (per-run generators or a :class:`UnitStream`, exactly those it
    would use alone) and scores them with ``estimator``'s loss.  Runs never mix (batched
    parameters, elementwise Adam), so a block's numbers are those of its runs trained alone,
    up to float rounding; what is shared is one forward / backward / Adam step for all."""

    estimator: str
    loss_kw: dict
    generators: Any
    mine_state: Any = None

    @property
    def runs(self) -> int:
        return len(self.generators)


def draw_blocks(sampler, blocks: list[LossBlock], batch_size: int, critic_kind: str):
    """One batch per run of every block, stacked ``(sum R_k, B, ...)``."""
    parts = [draw_batches(sampler, b.generators, batch_size, critic_kind) for b in blocks]
    if len(parts) == 1:
        return parts[0]
    return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def block_losses(blocks: list[LossBlock], scores: torch.Tensor, check_finite: bool):
    """Each block's loss on its slice of the ``(sum R_k, B, B)`` scores, joined along the run
    dimension: a :class:`numerics.neural.losses.LossOutput` whose ``bound_nats`` is NaN for the
    runs of Type 3 blocks (None when no block has a bound) and whose ``kind`` is the first
    block's.  ``check_finite``: raise :class:`TrainingDiverged` on NaN / inf scores (a device
    sync; training loops check their losses once at the end instead)."""
    if scores.dim() == 2:
        scores = scores.unsqueeze(0)
    outs, start = [], 0
    for b in blocks:
        outs.append(_loss(b.estimator, scores[start:start + b.runs], b.loss_kw, b.mine_state,
                          check_finite))
        start += b.runs
    if len(outs) == 1:
        return outs[0]
    bounds = None
    if any(o.bound_nats is not None for o in outs):
        bounds = torch.cat([o.bound_nats if o.bound_nats is not None else
                            torch.full_like(o.plugin_nats, math.nan) for o in outs])
    return torch_losses.LossOutput(torch.cat([o.loss for o in outs]), bounds,
                                   torch.cat([o.plugin_nats for o in outs]), outs[0].kind)


@dataclass
class _Timed:
    values: Any
    seconds: float


def optimise(critic: torch.nn.Module, blocks: list[LossBlock], sampler_at, *, steps: int,
             batch_size: int, critic_kind: str, lr: float, lr_schedule: str = "constant",
             mine_momentum: float = 0.99, progress: bool = True, desc: str = "train",
             record: bool = False, keep_diverged: bool = False, on_step=None,
             precision: str = "fp32", graphs: bool = False):
    """Adam on each block's minibatch loss (:class:`LossBlock`; one block for a single loss)
    for ``steps`` steps; step ``t`` draws one batch per run from ``sampler_at(t)`` with that
    run's generator.  No host sync inside the loop: the per-step values stay on the device and
    are checked for NaN / inf once at the end.  On CUDA, Adam is the fused kernel (one launch
    for every parameter; the same update up to rounding).  ``precision``: see
    :data:`PRECISIONS` (the critic's forward pass under :func:`critic_autocast`; TF32 is set
    by the caller with :func:`matmul_precision`).  ``graphs=True``: the step (forward, losses,
    backward, Adam) is captured once as a CUDA graph and replayed (:class:`GraphedStep`); the
    batches are still drawn eagerly and copied in, so the numbers are those of the eager loop.

    Returns ``(losses, bounds, plugins)``, each a :class:`_Timed` of a float32 numpy array of shape
    ``(steps, runs)`` (``seconds``: the loop's wall time, device synchronised).  ``bounds`` and
    ``plugins`` (the estimator's bound and plug-in ``E_p[c]`` on each *training* batch, the
    "stepwise" estimates of Sec. 4.1's benchmark) are recorded only with ``record=True``
    (else None); a Type 3 estimator's bound is NaN.  ``on_step(t)`` runs after step ``t``
    (e.g. a held-out evaluation at the end of a staircase level).  A non-finite loss raises
    :class:`TrainingDiverged` after the loop, unless ``keep_diverged``: then the diverged runs
    keep their NaN / inf values (runs never mix: batched parameters, elementwise Adam), so one
    bad seed does not discard the others."""
    runs = sum(b.runs for b in blocks)
    device = next(critic.parameters()).device
    if graphs and (lr_schedule != "constant" or any(b.estimator == "mine" for b in blocks)):
        raise InputError("graphs", "a captured step needs a constant learning rate and no "
                         "MINE moving average (state kept in Python)")
    cuda = device.type == "cuda"
    optimizer = torch.optim.Adam(critic.parameters(), lr=lr, fused=cuda,
                                 capturable=bool(graphs and cuda))
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(steps, 1)) \
        if lr_schedule == "cosine" else None
    for b in blocks:
        if b.estimator == "mine":
            b.mine_state = torch_losses.MineState(momentum=mine_momentum)
    autocast = critic_autocast(precision, device)
    train_step = GraphedStep(critic, blocks, optimizer, autocast) if graphs else \
        (lambda x, y: training_step(critic, blocks, x, y, optimizer, autocast))
    losses = torch.empty((steps, runs), dtype=torch.float32, device=device)
    bounds = torch.full((steps, runs), math.nan, dtype=torch.float32, device=device) \
        if record else None
    plugins = torch.empty((steps, runs), dtype=torch.float32, device=device) if record else None
    bar = _Progress(steps, desc, progress)
    start = time.perf_counter()
    try:
        for step in range(steps):
            x, y = draw_blocks(sampler_at(step), blocks, batch_size, critic_kind)
            out = train_step(x, y)
            if scheduler is not None:
                scheduler.step()
            losses[step] = out.loss.detach()
            if record:
                plugins[step] = out.plugin_nats.detach()
                if out.bound_nats is not None:
                    bounds[step] = out.bound_nats.detach()
            if on_step is not None:
                on_step(step)
            bar.update(lambda: float(losses[step].mean()))
    finally:
        bar.close()
    if steps and not keep_diverged and not bool(torch.isfinite(losses).all()):
        bad = int(torch.nonzero(~torch.isfinite(losses))[0, 0])
        raise _diverged(f"at step {bad}")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start

    def host(t):
        return None if t is None else _Timed(t.cpu().numpy(), seconds)
    return host(losses), host(bounds), host(plugins)


def training_step(critic, blocks: list[LossBlock], x, y, optimizer, autocast):
    """One Adam step on the blocks' summed losses (run ``r``'s gradient is that of its own
    loss); returns the :class:`numerics.neural.losses.LossOutput` (no finiteness check: a
    device sync)."""
    optimizer.zero_grad(set_to_none=True)
    with autocast:
        scores = critic(x, y)
    out = block_losses(blocks, scores, check_finite=False)
    out.loss.sum().backward()
    optimizer.step()
    return out


class GraphedStep:
    """:func:`training_step` captured as a CUDA graph (the launch overhead of a few hundred
    small kernels a step, which bounds small critics on a GPU, becomes one replay).

    The first ``warmup`` calls run eagerly (on a side stream, as capture requires; they are
    real training steps), the next captures the step on static copies of its inputs and
    replays it; later calls copy their batch into those inputs and replay.  Every call is one
    real step, so the sequence of updates is the eager loop's.  On the CPU there is no capture:
    the same static-input loop runs eagerly (what the tests exercise)."""

    warmup = 3

    def __init__(self, critic, blocks: list[LossBlock], optimizer, autocast) -> None:
        self.step = lambda x, y: training_step(critic, blocks, x, y, optimizer, autocast)
        self.optimizer = optimizer
        self.cuda = next(critic.parameters()).device.type == "cuda"
        self.calls = 0
        self.graph = self.inputs = self.out = None

    def __call__(self, x: torch.Tensor, y: torch.Tensor):
        self.calls += 1
        if self.calls <= self.warmup:
            return self._side_stream(x, y)
        if self.inputs is None:
            self.inputs = (x.clone(), y.clone())
            if self.cuda:
                self.graph = torch.cuda.CUDAGraph()
                self.optimizer.zero_grad(set_to_none=True)
                with torch.cuda.graph(self.graph):
                    self.out = self.step(*self.inputs)
        else:
            self.inputs[0].copy_(x)
            self.inputs[1].copy_(y)
        if self.graph is not None:
            self.graph.replay()
        else:
            self.out = self.step(*self.inputs)
        return self.out

    def _side_stream(self, x, y):
        if not self.cuda:
            return self.step(x, y)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            out = self.step(x, y)
        torch.cuda.current_stream().wait_stream(side)
        return out


def evaluate(critic: torch.nn.Module, blocks: list[LossBlock], sampler, *, batch_size: int,
             critic_kind: str, batches: int, check_finite: bool = True,
             precision: str = "fp32") -> tuple[list[torch.Tensor], list[torch.Tensor], str]:
    """The bound (empty list when no block has one; NaN for the runs of Type 3 blocks) and
    plug-in of ``batches`` held-out batches per run (tensors of shape ``(runs,)``), drawn with
    each block's generators, and which one the first block's estimator reports.  Non-finite
    scores raise :class:`TrainingDiverged` unless ``check_finite=False`` (they give NaN / inf
    estimates for the runs concerned)."""
    bounds, plugins, kind = [], [], ""
    device = next(critic.parameters()).device
    with torch.no_grad():
        for _ in range(batches):
            x, y = draw_blocks(sampler, blocks, batch_size, critic_kind)
            with critic_autocast(precision, device):
                scores = critic(x, y)
            out = block_losses(blocks, scores, check_finite)
            kind = out.kind
            plugins.append(out.plugin_nats.double())
            if out.bound_nats is not None:
                bounds.append(out.bound_nats.double())
    return bounds, plugins, kind


def _loss(estimator: str, scores: torch.Tensor, loss_kw: dict, mine_state,
          check_finite: bool):
    """The minibatch loss; in training without the per-call finiteness check of the scores
    (a device sync each step): the losses are checked once after training."""
    if scores.dim() == 2:
        scores = scores.unsqueeze(0)
    try:
        return torch_losses.minibatch_loss(estimator, scores, mine_state=mine_state,
                                           check_finite=check_finite, **loss_kw)
    except InputError as exc:
        if exc.argument == "scores" and "finite" in exc.rule:
            raise _diverged("at evaluation") from None
        raise


def _diverged(where: str) -> "TrainingDiverged":
    return TrainingDiverged(f"training diverged {where}: the critic's scores became NaN or "
                            "infinite; try a smaller learning rate")
