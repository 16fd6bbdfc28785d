"""Separable critics from two embeddings: the PMI and the PD factorisation (Sec. 3.1, App. G.3).

A separable critic scores the pair ``(x_i, y_j)`` from embeddings ``u_i = f(x_i)`` and
``v_j = g(y_j)``.  The paper names two forms of the density ratio ``r(x, y)`` (Sec. 3.1, "the
exponential form ... or the direct form"):

* **PMI** (pointwise mutual information): ``log r(x, y) = <f(x), g(y)> / tau``; the score
  ``c = log r`` is the inner product itself (van den Oord et al. 2018; every critic of the MI
  benchmark so far).
* **PD** (pointwise dependence): ``r(x, y) = <f(x), g(y)> / tau``, the ratio itself (HaoChen et
  al. 2021).  A ratio must be positive; the paper does not say how its PD critics keep it so.
  Here both embeddings go through ``softplus`` first, so every coordinate is positive and so is
  the inner product: ``r = <softplus(f(x)), softplus(g(y))> / tau``.

Both return the score matrix ``S[i, j] = c(x_i, y_j) = log r(x_i, y_j)`` that every loss of
:mod:`numerics.neural.losses` takes.  ``normalize=True`` scales each embedding (after the
softplus, for PD) to unit length first, as in contrastive representation learning; ``r`` then
lies in ``(0, 1/tau]`` for PD.  The PD score is computed from ``log softplus`` with each row's
largest entry factored out, ``log r_ij = m_i + n_j + log sum_k e^{a_ik - m_i} e^{b_jk - n_j} -
log tau`` (``a = log softplus(u)``, ``m_i = max_k a_ik``; likewise ``b``, ``n``), one matrix
product; the sum is floored at the smallest normal float (``log r`` >= ``m_i + n_j - 87`` in
float32), which only two embeddings with (numerically) disjoint supports reach.

Inputs ``(..., B, d)`` (leading dimensions are independent runs), output ``(..., B, B)``.
"""

from __future__ import annotations

import math

import torch

from theory.errors import InputError

#: the two forms of a separable critic
FACTORISATIONS = ("pmi", "pd")


def check_factorisation(name: object) -> str:
    """``name`` if it is one of :data:`FACTORISATIONS`, else an :class:`InputError`."""
    if name not in FACTORISATIONS:
        raise InputError("factorisation", f"must be one of {', '.join(FACTORISATIONS)} "
                         f"(PMI: log r = <f, g> / tau; PD: r = <f, g> / tau), got {name!r}")
    return str(name)


def _check_tau(tau: object) -> float:
    if isinstance(tau, bool) or not isinstance(tau, (int, float)) or not tau > 0 \
            or not math.isfinite(tau):
        raise InputError("tau", f"the temperature must be a positive number, got {tau!r}")
    return float(tau)


def log_softplus(z: torch.Tensor) -> torch.Tensor:
    """``log(softplus(z)) = log(log(1 + e^z))``, finite for every finite ``z`` (``= z`` up to
    ``e^z / 2`` for ``z < -20``, where ``softplus(z)`` would underflow)."""
    small = z < -20
    safe = torch.where(small, torch.zeros_like(z), z)
    return torch.where(small, z, torch.nn.functional.softplus(safe).log())


def pmi_scores(u: torch.Tensor, v: torch.Tensor, *, tau: float = 1.0,
               normalize: bool = False) -> torch.Tensor:
    """PMI factorisation: ``S[i, j] = <u_i, v_j> / tau`` (``u, v`` unit-normalised first when
    ``normalize``)."""
    tau = _check_tau(tau)
    if normalize:
        u, v = torch.nn.functional.normalize(u, dim=-1), torch.nn.functional.normalize(v, dim=-1)
    return u @ v.transpose(-1, -2) / tau


def pd_scores(u: torch.Tensor, v: torch.Tensor, *, tau: float = 1.0,
              normalize: bool = False) -> torch.Tensor:
    """PD factorisation: ``S[i, j] = log(<softplus(u_i), softplus(v_j)> / tau)``, in log space
    (``softplus(u)`` and ``softplus(v)`` unit-normalised first when ``normalize``)."""
    tau = _check_tau(tau)
    lu, lv = log_softplus(u), log_softplus(v)
    if normalize:
        lu = lu - 0.5 * torch.logsumexp(2 * lu, dim=-1, keepdim=True)
        lv = lv - 0.5 * torch.logsumexp(2 * lv, dim=-1, keepdim=True)
    mu, mv = lu.amax(dim=-1, keepdim=True), lv.amax(dim=-1, keepdim=True)
    inner = torch.exp(lu - mu) @ torch.exp(lv - mv).transpose(-1, -2)
    floor = torch.finfo(inner.dtype).tiny
    return mu + mv.transpose(-1, -2) + inner.clamp_min(floor).log() - math.log(tau)


def factorised_scores(u: torch.Tensor, v: torch.Tensor, factorisation: str, *,
                      tau: float = 1.0, normalize: bool = False) -> torch.Tensor:
    """:func:`pmi_scores` or :func:`pd_scores` by name."""
    if check_factorisation(factorisation) == "pmi":
        return pmi_scores(u, v, tau=tau, normalize=normalize)
    return pd_scores(u, v, tau=tau, normalize=normalize)
