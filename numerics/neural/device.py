"""Device and arithmetic of the torch layer: :func:`resolve_device` (CUDA when available) and
the critic's precision (:data:`PRECISIONS`: fp32, TF32 matmuls, bf16 autocast; issue #12)."""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import torch

from theory.errors import InputError


def resolve_device(device: object = None) -> torch.device:
    """``None``: CUDA when available, else the CPU; ``cuda`` without CUDA is an InputError."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise InputError("device", f"expected cpu or cuda[:N], got {device!r}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise InputError("device", "CUDA is not available on this machine; use cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise InputError("device", f"no CUDA device {dev.index} "
                             f"({torch.cuda.device_count()} available)")
    elif dev.type != "cpu":
        raise InputError("device", f"expected cpu or cuda[:N], got {device!r}")
    return dev


# ------------------------------------------------------------------------------ precision
#: Arithmetic of the critic's matmuls on CUDA: plain float32, TF32 tensor cores (float32
#: storage, ~1e-3 relative rounding of the products), or bfloat16 autocast of the critic's
#: forward pass (the losses stay float32: :func:`numerics.neural.losses.minibatch_loss` casts
#: the scores up).  On the CPU ``tf32`` changes nothing and ``bf16`` autocasts too.
PRECISIONS = ("fp32", "tf32", "bf16")


def check_precision(precision: object) -> str:
    if precision not in PRECISIONS:
        raise InputError("precision", f"must be one of {', '.join(PRECISIONS)}, got "
                         f"{precision!r}")
    return str(precision)


@contextmanager
def matmul_precision(precision: str):
    """TF32 matmuls on CUDA on (``tf32``) or off for the duration; the previous setting is
    restored after, so the caller's process is left as it was."""
    check_precision(precision)
    previous = bool(torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = previous


def critic_autocast(precision: str, device: torch.device):
    """The context the critic's forward pass runs in: bf16 autocast (no weight-cast cache, as
    CUDA graph capture requires), or nothing."""
    if check_precision(precision) == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16,
                              cache_enabled=False)
    return nullcontext()
