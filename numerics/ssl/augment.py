"""Batched, seeded image augmentations for contrastive pretraining (App. G.3: "two augmented
views per image as the positive pair").  Torch only, no torchvision.

Every random number is drawn from the caller's ``torch.Generator`` (on the generator's device,
then moved to the images' device), so one seed reproduces the views exactly, on CPU tensors
and on CUDA tensors with a CPU generator alike.  The ops run in a fixed order on the whole
batch: horizontal flip, pad-and-crop shift, affine (rotation and scale), cutout, gaussian
noise; the result is clamped to [0, 1].  An op that is switched off draws nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from theory.errors import InputError, require_int


def check_real(value: object, name: str, low: float, high: float = math.inf) -> float:
    """``value`` as a float if it is a finite real number in ``[low, high]``; else an
    InputError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not low <= float(value) <= high:
        bounds = f">= {low:g}" if high == math.inf else f"in [{low:g}, {high:g}]"
        raise InputError(name, f"must be a finite number {bounds}, got {value!r}")
    return float(value)


def check_scale(value: object) -> tuple[float, float]:
    """``value`` as a pair ``(low, high)`` with ``0 < low <= high``; else an InputError."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else ()
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, float))
                             for v in pair) or not 0 < pair[0] <= pair[1] < math.inf:
        raise InputError("scale", f"must be a pair (low, high) with 0 < low <= high, got "
                         f"{value!r}")
    return float(pair[0]), float(pair[1])


@dataclass(frozen=True)
class Augment:
    """One random augmentation of a batch of images (N, C, H, W) in [0, 1].

    ``pad``: shift by up to ``pad`` pixels each way (zero-pad, then crop back at a random
    offset per image); ``rotate_degrees``: rotation by a uniform angle in
    ``[-rotate_degrees, rotate_degrees]``; ``scale``: zoom by a uniform factor in
    ``[scale[0], scale[1]]`` (> 1 enlarges the content); ``noise_std``: additive gaussian noise;
    ``cutout``: side of a zeroed square centred at a uniform pixel (clipped at the border;
    0 = off); ``flip``: horizontal flip with probability 1/2.  The defaults switch all off.
    """

    pad: int = 0
    rotate_degrees: float = 0.0
    scale: tuple[float, float] = (1.0, 1.0)
    noise_std: float = 0.0
    cutout: int = 0
    flip: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "pad", require_int(self.pad, "pad", minimum=0))
        object.__setattr__(self, "rotate_degrees",
                           check_real(self.rotate_degrees, "rotate_degrees", 0.0, 180.0))
        object.__setattr__(self, "scale", check_scale(self.scale))
        object.__setattr__(self, "noise_std", check_real(self.noise_std, "noise_std", 0.0))
        object.__setattr__(self, "cutout", require_int(self.cutout, "cutout", minimum=0))
        if not isinstance(self.flip, bool):
            raise InputError("flip", f"must be True or False, got {self.flip!r}")

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A random view of every image in ``images`` (N, C, H, W): same shape, dtype and
        device, values clamped to [0, 1]; all randomness from ``generator``."""
        if not isinstance(images, torch.Tensor) or images.ndim != 4 or \
                not images.is_floating_point():
            raise InputError("images", "must be a floating tensor of shape (N, C, H, W)")
        out = images
        if self.flip:
            out = random_flip(out, generator)
        if self.pad:
            out = random_shift(out, self.pad, generator)
        if self.rotate_degrees or self.scale != (1.0, 1.0):
            out = random_affine(out, self.rotate_degrees, self.scale, generator)
        if self.cutout:
            out = random_cutout(out, self.cutout, generator)
        if self.noise_std:
            out = out + self.noise_std * draw(torch.randn, out.shape, generator, out)
        return out.clamp(0.0, 1.0)


def draw(sampler: Callable[..., torch.Tensor], shape: tuple[int, ...] | torch.Size,
         generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    """``sampler`` (``torch.rand`` or ``torch.randn``) of ``shape`` from ``generator`` on its
    own device, moved to ``like``'s device and dtype."""
    values = sampler(tuple(shape), generator=generator, device=generator.device,
                     dtype=like.dtype)
    return values.to(like.device)


def draw_int(high: int, n: int, generator: torch.Generator, like: torch.Tensor
             ) -> torch.Tensor:
    """``n`` uniform integers in ``0 .. high - 1`` from ``generator``, on ``like``'s device."""
    values = torch.randint(0, high, (n,), generator=generator, device=generator.device)
    return values.to(like.device)


def random_flip(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2."""
    flip = draw(torch.rand, (images.shape[0],), generator, images) < 0.5
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def random_shift(images: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Each image zero-padded by ``pad`` and cropped back at a random offset: its content
    moves by a whole number of pixels in ``-pad .. pad`` along each axis."""
    n, c, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad))
    top = draw_int(2 * pad + 1, n, generator, images)
    left = draw_int(2 * pad + 1, n, generator, images)
    rows = top[:, None] + torch.arange(h, device=images.device)
    cols = left[:, None] + torch.arange(w, device=images.device)
    batch = torch.arange(n, device=images.device)[:, None, None, None]
    channel = torch.arange(c, device=images.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def random_affine(images: torch.Tensor, degrees: float, scale: tuple[float, float],
                  generator: torch.Generator) -> torch.Tensor:
    """Each image rotated by a uniform angle in ``[-degrees, degrees]`` and zoomed by a uniform
    factor in ``scale`` about its centre (bilinear, zeros outside)."""
    n = images.shape[0]
    angle = (2 * draw(torch.rand, (n,), generator, images) - 1) * math.radians(degrees)
    zoom = scale[0] + (scale[1] - scale[0]) * draw(torch.rand, (n,), generator, images)
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    zero = torch.zeros_like(cos)
    theta = torch.stack([torch.stack([cos, -sin, zero], -1),
                         torch.stack([sin, cos, zero], -1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False)


def random_cutout(images: torch.Tensor, side: int, generator: torch.Generator) -> torch.Tensor:
    """Each image with a ``side`` x ``side`` square set to zero, centred at a uniform pixel
    (rows ``y - side // 2 .. y - side // 2 + side - 1``), clipped at the border."""
    n, _, h, w = images.shape
    top = draw_int(h, n, generator, images)[:, None] - side // 2
    left = draw_int(w, n, generator, images)[:, None] - side // 2
    rows = torch.arange(h, device=images.device)[None, :]
    cols = torch.arange(w, device=images.device)[None, :]
    inside_rows = (rows >= top) & (rows < top + side)
    inside_cols = (cols >= left) & (cols < left + side)
    square = inside_rows[:, :, None] & inside_cols[:, None, :]
    return images.masked_fill(square[:, None], 0.0)


#: digits (App. G.3 scaled to 8x8): small shifts, rotations and zooms, noise, a 2x2 cutout;
#: no flip (a mirrored digit is another symbol)
DIGITS_AUGMENT = Augment(pad=1, rotate_degrees=10.0, scale=(0.9, 1.1), noise_std=0.05,
                         cutout=2, flip=False)
#: CIFAR: the usual pad-4 random crop and horizontal flip, plus an 8x8 cutout
CIFAR_AUGMENT = Augment(pad=4, rotate_degrees=0.0, scale=(1.0, 1.0), noise_std=0.0, cutout=8,
                        flip=True)
#: the augmentation presets by name; "none" is the identity
AUGMENTS = {"digits": DIGITS_AUGMENT, "cifar": CIFAR_AUGMENT, "none": Augment()}


def augment_by_name(name: str) -> Augment:
    """The preset ``name`` of :data:`AUGMENTS`; else an InputError naming ``augment``."""
    if name not in AUGMENTS:
        raise InputError("augment", f"must be one of {sorted(AUGMENTS)}, got {name!r}")
    return AUGMENTS[name]
