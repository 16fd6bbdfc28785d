"""Pretraining an encoder with a contrastive objective, and the two references (Sec. 4.3).

:func:`pretrain`: each step draws ``B`` training images, two augmented views of each (App. G.3's
positive pair), encodes both, projects them with a head, and minimises the objective's
symmetrised loss (:meth:`numerics.ssl.objectives.SSLObjective.loss_value`) with Adam.
:func:`train_supervised` is the supervised reference: the same encoder, views and steps,
cross-entropy of a linear classifier on the labels.  :func:`random_encoder` is the untrained
baseline.  All three are evaluated the same way, by :func:`numerics.ssl.probe.linear_probe` on
the frozen encoder.

**Seeds.**  ``seed`` sets the encoder's and head's initialisation (``torch.manual_seed``) and a
CPU generator that draws the batches and the augmentations; so every method run with one seed
starts from the same encoder and sees the same batches and views: a paired comparison.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from numerics.ssl.augment import Augment
from numerics.ssl.data import ImageDataset
from numerics.ssl.encoders import ProjectionHead, make_encoder
from numerics.ssl.objectives import SSLObjective
from theory.errors import InputError


@dataclass
class Pretrained:
    """An encoder after training, and how training went."""

    encoder: torch.nn.Module
    losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    seconds: float = 0.0
    diverged_at: int | None = None

    @property
    def diverged(self) -> bool:
        return self.diverged_at is not None


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings shared by every method of a sweep."""

    encoder: str = "small_conv"
    width: int | None = None
    steps: int = 600
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-6
    head_hidden: int = 128
    head_out: int = 64

    def __post_init__(self) -> None:
        for name in ("steps", "batch_size", "head_hidden", "head_out"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(name, f"must be a positive integer, got {value!r}")
        if self.batch_size < 2:
            raise InputError("batch_size", f"a contrastive batch needs B >= 2, got "
                             f"{self.batch_size}")
        for name in ("lr", "weight_decay"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 \
                    or not math.isfinite(value) or (name == "lr" and value == 0):
                raise InputError(name, f"must be a {'positive' if name == 'lr' else 'non-negative'}"
                                 f" number, got {value!r}")


def random_encoder(data: ImageDataset, settings: TrainSettings, seed: int) -> Pretrained:
    """The untrained encoder initialised with ``seed`` (the baseline)."""
    torch.manual_seed(seed)
    return Pretrained(make_encoder(settings.encoder, data.images.shape[1], settings.width))


def pretrain(objective: SSLObjective, data: ImageDataset, augment: Augment,
             settings: TrainSettings, seed: int, *, device: torch.device | str = "cpu",
             progress=None) -> Pretrained:
    """Contrastive pretraining of ``settings.encoder`` on ``data`` with ``objective``.  A loss
    that is not finite stops training there (``diverged_at``: the step); the encoder is then
    evaluated as it is."""
    def step_loss(encoder, head, v1, v2):
        z = head(encoder(torch.cat([v1, v2])))
        z1, z2 = z.chunk(2)
        return objective.loss_value(z1, z2)

    return _train(data, augment, settings, seed, device, step_loss,
                  lambda e: ProjectionHead(e.feature_dim, settings.head_hidden, settings.head_out),
                  progress)


def train_supervised(data: ImageDataset, augment: Augment, settings: TrainSettings, seed: int,
                     *, device: torch.device | str = "cpu", progress=None) -> Pretrained:
    """The supervised reference: cross-entropy of a linear classifier on the encoder, trained on
    both views' labels, with the same settings."""
    def step_loss(encoder, classifier, v1, v2, labels):
        logits = classifier(encoder(torch.cat([v1, v2])))
        return torch.nn.functional.cross_entropy(logits, torch.cat([labels, labels]))

    return _train(data, augment, settings, seed, device, step_loss,
                  lambda e: torch.nn.Linear(e.feature_dim, data.classes), progress,
                  with_labels=True)


def _train(data, augment, settings, seed, device, step_loss, make_head, progress,
           with_labels: bool = False) -> Pretrained:
    start = time.perf_counter()
    torch.manual_seed(seed)
    encoder = make_encoder(settings.encoder, data.images.shape[1], settings.width).to(device)
    head = make_head(encoder).to(device)
    params = list(encoder.parameters()) + list(head.parameters())
    optimiser = torch.optim.Adam(params, lr=settings.lr, weight_decay=settings.weight_decay)
    generator = torch.Generator().manual_seed(seed)
    losses = np.full(settings.steps, np.nan)
    diverged_at = None
    for step, index in enumerate(batches(len(data), settings.batch_size, settings.steps,
                                         generator)):
        images = data.images[index]
        v1, v2 = augment(images, generator).to(device), augment(images, generator).to(device)
        args = (v1, v2, data.labels[index].to(device)) if with_labels else (v1, v2)
        loss = step_loss(encoder, head, *args)
        if not torch.isfinite(loss):
            diverged_at = step
            break
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        losses[step] = float(loss.detach())
        if progress is not None:
            progress(step)
    encoder.eval()
    return Pretrained(encoder, losses, time.perf_counter() - start, diverged_at)


def batches(n: int, batch_size: int, steps: int, generator: torch.Generator):
    """``steps`` index batches of size ``batch_size`` from ``range(n)``: epochs of a random
    permutation, each cut into whole batches (the last partial batch of an epoch is dropped)."""
    if batch_size > n:
        raise InputError("batch_size", f"must be at most the number of training images ({n}), "
                         f"got {batch_size}")
    done = 0
    while done < steps:
        order = torch.randperm(n, generator=generator)
        for i in range(0, n - batch_size + 1, batch_size):
            if done == steps:
                return
            yield order[i:i + batch_size]
            done += 1
