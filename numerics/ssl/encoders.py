"""Encoders and the projection head for contrastive pretraining (Sec. 4.3, App. G.3).

Two encoders map images (N, C, H, W) to features (N, ``feature_dim``): a small conv net for
8x8 digits and the CIFAR variant of ResNet-18 (He et al. 2016, "Deep Residual Learning for
Image Recognition": BasicBlocks [2, 2, 2, 2], widths 64/128/256/512; the CIFAR variant has a
3x3 stride-1 stem and no max-pool), written here from that definition.  The projection head
(Linear-BatchNorm-ReLU-Linear, SimCLR) maps features to the embeddings the contrastive
objective scores; the linear probe reads the encoder's features.  Parameters start at torch's
default initialisation, under the caller's ``torch.manual_seed``.
"""

from __future__ import annotations

import torch
from torch import nn

from theory.errors import InputError, require_int

#: the encoder names of :func:`make_encoder`
ENCODERS = ("small_conv", "resnet18")


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, bias: bool = True
            ) -> nn.Conv2d:
    """A 3x3 convolution with padding 1 (keeps the size at stride 1)."""
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=bias)


class SmallConvEncoder(nn.Module):
    """For 8x8 images: conv3x3 (in -> w) ReLU, conv3x3 (w -> 2w) ReLU, 2x2 max-pool,
    conv3x3 (2w -> 4w) ReLU, global average pool; ``feature_dim = 4 w``."""

    def __init__(self, in_channels: int = 1, width: int = 32) -> None:
        super().__init__()
        in_channels = require_int(in_channels, "in_channels")
        width = require_int(width, "width")
        self.feature_dim = 4 * width
        self.layers = nn.Sequential(
            conv3x3(in_channels, width), nn.ReLU(),
            conv3x3(width, 2 * width), nn.ReLU(),
            nn.MaxPool2d(2),
            conv3x3(2 * width, 4 * width), nn.ReLU(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features (N, 4w) of images (N, C, H, W)."""
        return self.layers(images).mean(dim=(2, 3))


class BasicBlock(nn.Module):
    """ResNet's basic block: conv3x3 (stride s) BN ReLU conv3x3 BN, plus the shortcut (the
    identity, or a 1x1 stride-s conv and BN where the shape changes), then ReLU."""

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, out_channels, stride, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The block's output: ReLU(residual branch + shortcut)."""
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResNet18(nn.Module):
    """ResNet-18, CIFAR variant: 3x3 stride-1 stem conv (64) + BN + ReLU, no max-pool, four
    stages of two BasicBlocks (64, 128, 256, 512 channels; stride 2 entering stages 2-4),
    global average pool; ``feature_dim = 512``, no classifier."""

    WIDTHS = (64, 128, 256, 512)
    BLOCKS = (2, 2, 2, 2)

    def __init__(self, in_channels: int = 3) -> None:
        super().__init__()
        in_channels = require_int(in_channels, "in_channels")
        self.feature_dim = self.WIDTHS[-1]
        self.stem = nn.Sequential(conv3x3(in_channels, self.WIDTHS[0], bias=False),
                                  nn.BatchNorm2d(self.WIDTHS[0]), nn.ReLU())
        stages, channels = [], self.WIDTHS[0]
        for stage, (width, blocks) in enumerate(zip(self.WIDTHS, self.BLOCKS)):
            stride = 1 if stage == 0 else 2
            for block in range(blocks):
                stages.append(BasicBlock(channels, width, stride if block == 0 else 1))
                channels = width
        self.blocks = nn.Sequential(*stages)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Features (N, 512) of images (N, C, H, W)."""
        return self.blocks(self.stem(images)).mean(dim=(2, 3))


class ProjectionHead(nn.Module):
    """SimCLR's projection head: Linear (in -> hidden), BatchNorm1d, ReLU, Linear (hidden ->
    out).  Takes features (N, in_dim), returns embeddings (N, out_dim)."""

    def __init__(self, in_dim: int, hidden: int = 128, out_dim: int = 64) -> None:
        super().__init__()
        in_dim = require_int(in_dim, "in_dim")
        hidden = require_int(hidden, "hidden")
        self.out_dim = require_int(out_dim, "out_dim")
        self.layers = nn.Sequential(nn.Linear(in_dim, hidden), nn.BatchNorm1d(hidden),
                                    nn.ReLU(), nn.Linear(hidden, self.out_dim))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Embeddings (N, out_dim) of features (N, in_dim)."""
        return self.layers(features)


def make_encoder(name: str, in_channels: int, width: int | None = None) -> nn.Module:
    """The encoder ``name`` ("small_conv" or "resnet18") for images with ``in_channels``
    channels; it has a ``feature_dim`` attribute.  Else an InputError naming ``encoder``.
    ``width``: the small encoder's first width (default 32); ResNet-18's widths are fixed."""
    if name == "small_conv":
        return SmallConvEncoder(in_channels) if width is None else \
            SmallConvEncoder(in_channels, width)
    if width is not None:
        raise InputError("width", f"only the small_conv encoder has a width option, got "
                         f"{width!r} for {name!r}")
    if name == "resnet18":
        return ResNet18(in_channels)
    raise InputError("encoder", f"must be one of {list(ENCODERS)}, got {name!r}")
