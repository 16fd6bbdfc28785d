"""Every objective of the paper as a minibatch loss on a score matrix (torch; issue #4).

``S[i, j] = c(x_i, y_j)`` with the joint pairs on the diagonal (SPEC §0); ``r = e^c``.  Each loss
returns a :class:`LossOutput`: the loss to minimise, the bound value (Types 1-2 of Table 1) where
the estimator has one, and the plug-in ``E_p[c]`` (Type 3) = the mean of the diagonal, in nats.

**Two weightings of the same formulas.**

* Minibatch (default): the diagonal entries are samples of ``p(x, y)`` (weight ``1/B`` each) and
  the off-diagonal ones samples of ``p(x) p(y)`` (weight ``1/(B(B-1))``).
* Population (``weights=(W1, W0)``, single-slot losses only): ``S`` is the whole alphabet grid
  ``c(x, y)`` (any ``n x m``), ``W1 = p(x, y)`` and ``W0 = p(x) p(y)``; the loss is then the exact
  population objective (checked against :mod:`numerics.exact.estimators` in the tests).

**Slot losses** (InfoNCE, InfoNCE-anchor and the scoring rules of Tables 6-7): row ``i`` contrasts
the ``y``'s for a fixed ``x_i``, as in the paper's Appendix B pseudocode (``logsumexp`` over
``dim=1``): its ``K`` slots are the diagonal and the ``K - 1`` next columns ``i+1, ..., i+K-1``
(cyclically); the anchor's noise term of row ``i`` uses the ``K`` columns ``i+1, ..., i+K``.  With
``K = B - 1`` this is exactly Appendix B (one off-diagonal entry masked per row in the joint term,
the diagonal masked in the noise term).  The expectation of the minibatch loss over batches is the
population objective ``L_{K;nu}`` with ``q1 = p(y|x)``, ``q0 = p(y)``, averaged over ``x``; in
:mod:`numerics.exact.mi`'s convention (``q1 = p(x|y)``) that is the *transposed* joint.

Scoring-rule losses are evaluated from ``theory``'s general-``K`` rows (Tables 6-7) compiled to
torch, at the normalised point ``p_theta / ||p_theta||_1 = eta_theta`` (the rows are invariant under
rescaling ``p_theta``, which the tests check symbolically), so large scores never overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

import sympy as sp
import torch

from theory import catalogue
from theory.catalogue import resolve_rule
from theory.compile import compile_expr
from theory.dre import LOG_SUM, NORM1, POWER_SUM, R1, general_objective
from theory.errors import InputError
from theory.symbols import ALPHA, K_SYM, NU

LOSSES = ("dv", "nwj", "infonce", "mine", "js", "smile", "drf", "fdime_kl", "fdime_gan",
          "fdime_hellinger", "infonce_anchor", "power", "pseudo_spherical", "sym_inverse_log",
          "alpha_infonce", "mlinfonce")
#: Losses over ``K`` slots per row (need ``B >= 2``).
SLOT_LOSSES = ("infonce", "infonce_anchor", "power", "pseudo_spherical", "sym_inverse_log",
               "alpha_infonce")
#: The estimate each estimator reports: the bound value or the plug-in ``E_p[c]`` (Table 1).
REPORTS = {"dv": "bound", "nwj": "bound", "infonce": "bound", "mine": "bound", "js": "bound",
           "smile": "bound", "drf": "plug-in", "fdime_kl": "plug-in", "fdime_gan": "plug-in",
           "fdime_hellinger": "plug-in", "infonce_anchor": "plug-in", "power": "plug-in",
           "pseudo_spherical": "plug-in", "sym_inverse_log": "plug-in",
           "alpha_infonce": "bound", "mlinfonce": "bound"}


@dataclass
class LossOutput:
    """``loss`` (minimise it), ``bound_nats`` (None for Type 3 estimators), ``plugin_nats``, and
    ``kind``: which of the two the estimator reports."""

    loss: torch.Tensor
    bound_nats: torch.Tensor | None
    plugin_nats: torch.Tensor
    kind: str

    @property
    def estimate_nats(self) -> torch.Tensor:
        return self.bound_nats if self.kind == "bound" and self.bound_nats is not None \
            else self.plugin_nats


@dataclass
class MineState:
    """MINE's moving average of ``E_{p(x)p(y)}[e^c]`` (Belghazi et al. 2018): the gradient of
    ``log E[e^c]`` is taken with this average in the denominator (bias correction).
    ``momentum`` weighs the previous average: ``ema <- momentum ema + (1 - momentum) batch``;
    kept as ``log_ema`` so that large scores cannot overflow it."""

    momentum: float = 0.99
    log_ema: torch.Tensor | None = field(default=None)


# ------------------------------------------------------------------------------ validation
def _check_scores(scores: object, name: str, square: bool, finite: bool = True) -> torch.Tensor:
    if not isinstance(scores, torch.Tensor):
        raise InputError("scores", f"must be a torch tensor, got {type(scores).__name__}")
    if scores.ndim < 2:
        raise InputError("scores", f"must have shape (..., B, B), got {tuple(scores.shape)}")
    if square and scores.shape[-1] != scores.shape[-2]:
        raise InputError("scores", f"{name} needs a square (..., B, B) score matrix, got "
                         f"{tuple(scores.shape)}")
    if finite and not torch.isfinite(scores).all():  # a device sync: trainers check losses
        raise InputError("scores", "scores must be finite (found NaN or inf)")
    if scores.dtype in (torch.float16, torch.bfloat16):
        scores = scores.float()  # losses in float32 at least (e.g. under bf16 autocast)
    return scores


def _check_weights(weights: object, scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    try:
        w1, w0 = weights  # type: ignore[misc]
    except (TypeError, ValueError):
        raise InputError("weights", "must be a pair (W1, W0) of p(x, y) and p(x) p(y)") from None
    out = []
    for w, label in ((w1, "W1"), (w0, "W0")):
        w = torch.as_tensor(w, dtype=scores.dtype, device=scores.device)
        if w.shape != scores.shape[-2:]:
            raise InputError("weights", f"{label} must have the scores' shape "
                             f"{tuple(scores.shape[-2:])}, got {tuple(w.shape)}")
        if not torch.isfinite(w).all() or (w < 0).any():
            raise InputError("weights", f"{label} must be finite and >= 0")
        if abs(float(w.sum()) - 1.0) > 1e-6:
            raise InputError("weights", f"{label} must sum to 1")
        out.append(w)
    return out[0], out[1]


def _minibatch_weights(scores: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    B = scores.shape[-1]
    eye = torch.eye(B, dtype=scores.dtype, device=scores.device)
    return eye / B, (1 - eye) / (B * (B - 1))


# ------------------------------------------------------------------------------ pieces
def _mean(w: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """``sum w * values`` over the last two dims, ignoring cells with ``w = 0``."""
    return torch.where(w > 0, w * values, torch.zeros_like(values)).sum(dim=(-2, -1))


def _log_mean_exp(w: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
    """``log sum w e^S`` stably (logsumexp; cells with ``w = 0`` dropped)."""
    log_w = torch.where(w > 0, torch.log(w), torch.full_like(w, -math.inf))
    return torch.logsumexp((scores + log_w).flatten(-2), dim=-1)


def _dv(S, w1, w0):
    return _mean(w1, S) - _log_mean_exp(w0, S)


def _nwj(S, w1, w0):
    """``E_1[c] - E_0[e^c] + 1``; ``E_0[e^c]`` as ``exp(log-mean-exp)`` (overflows only where
    the true value does)."""
    return _mean(w1, S) - torch.exp(_log_mean_exp(w0, S)) + 1


def _js_loss(S, w1, w0):
    return _mean(w1, torch.nn.functional.softplus(-S)) + _mean(w0, torch.nn.functional.softplus(S))


def _single_slot(name: str, S: torch.Tensor, w1: torch.Tensor, w0: torch.Tensor, *,
                 tau: float | None, mine_state: MineState | None) -> LossOutput:
    plugin = _mean(w1, S)
    if name == "dv":
        bound = _dv(S, w1, w0)
        return LossOutput(-bound, bound, plugin, "bound")
    if name == "nwj":
        bound = _nwj(S, w1, w0)
        return LossOutput(-bound, bound, plugin, "bound")
    if name == "mine":
        bound = _dv(S, w1, w0)
        state = mine_state if mine_state is not None else MineState()
        if not 0 <= state.momentum < 1:
            raise InputError("mine_state", f"momentum must be in [0, 1), got {state.momentum}")
        log_batch = _log_mean_exp(w0, S)
        if state.log_ema is None or state.momentum == 0:
            log_ema = log_batch.detach()
        else:
            log_ema = torch.logaddexp(math.log(state.momentum) + state.log_ema,
                                      math.log1p(-state.momentum) + log_batch.detach())
        state.log_ema = log_ema
        # value: the DV bound; gradient of log E[e^c] replaced by grad E[e^c] / ema
        surrogate = -(plugin - torch.exp(log_batch - log_ema))
        loss = surrogate + (-bound - surrogate).detach()
        return LossOutput(loss, bound, plugin, "bound")
    if name == "js":
        return LossOutput(_js_loss(S, w1, w0), _nwj(S, w1, w0), plugin, "bound")
    if name == "smile":
        if tau is None or not tau > 0:
            raise InputError("tau", f"SMILE needs a clipping threshold tau > 0, got {tau!r}")
        bound = plugin - _log_mean_exp(w0, torch.clamp(S, -tau, tau))
        return LossOutput(_js_loss(S, w1, w0), bound, plugin, "bound")
    if name == "drf":
        # -2 E_1[e^c] + E_0[e^{2c}], both through log-mean-exp
        a, b = _log_mean_exp(w1, S), _log_mean_exp(w0, 2 * S)
        # e^b - 2 e^a factored by the larger exponent (no inf - inf)
        loss = torch.where(b >= a, torch.exp(b) * (1 - 2 * torch.exp(a - b)),
                           torch.exp(a) * (torch.exp(b - a) - 2))
        return LossOutput(loss, None, plugin, "plug-in")
    if name == "fdime_kl":
        return LossOutput(-_nwj(S, w1, w0), None, plugin, "plug-in")
    if name == "fdime_gan":
        # f(u) = u log u - (u + 1) log(u + 1): T = log(r/(1+r)), f*(T) = -log(1 - e^T)
        value = -_mean(w1, torch.nn.functional.softplus(-S)) - \
            _mean(w0, torch.nn.functional.softplus(S))
        return LossOutput(-value, None, plugin, "plug-in")
    if name == "fdime_hellinger":
        # f(u) = (sqrt(u) - 1)^2: T = 1 - r^{-1/2}, f*(T) = T/(1 - T) = r^{1/2} - 1
        value = _mean(w1, -torch.expm1(-S / 2)) - _mean(w0, torch.expm1(S / 2))
        return LossOutput(-value, None, plugin, "plug-in")
    raise AssertionError(name)


# ------------------------------------------------------------------------------ slot losses
def _slot_columns(B: int, K: int, offset: int, device) -> torch.Tensor:
    """``(B, K)`` column indices: row ``i`` takes ``i + offset, ..., i + offset + K - 1`` mod B."""
    rows = torch.arange(B, device=device)[:, None]
    return (rows + offset + torch.arange(K, device=device)[None, :]) % B


def _row_logits(S: torch.Tensor, cols: torch.Tensor, nu: float) -> torch.Tensor:
    """``(..., B, K [+1])``: the chosen scores of each row, with ``log nu`` first when ``nu > 0``."""
    picked = torch.gather(S, -1, cols.expand(*S.shape[:-2], *cols.shape))
    if nu > 0:
        anchor = torch.full_like(picked[..., :1], math.log(nu))
        picked = torch.cat([anchor, picked], dim=-1)
    return picked


def _log_score_terms(S, K, nu):
    """Eq. 4 / App. B: per-row ``-log eta_1`` (joint) and ``-log eta_0`` (noise), log-space."""
    B = S.shape[-1]
    joint_logits = _row_logits(S, _slot_columns(B, K, 0, S.device), nu)
    slot = 1 if nu > 0 else 0
    joint = -(joint_logits[..., slot] - torch.logsumexp(joint_logits, dim=-1))
    if nu == 0:
        return joint.mean(-1), None
    noise_logits = _row_logits(S, _slot_columns(B, K, 1, S.device), nu)
    noise = -(noise_logits[..., 0] - torch.logsumexp(noise_logits, dim=-1))
    return joint.mean(-1), noise.mean(-1)


def normalised_integrand(integrand):
    """A Table 6 / 7 integrand at ``||p_theta||_1 = 1`` (``P1 -> 1``), one power per term.

    Merging ``r1**alpha / r1`` into ``r1**(alpha - 1)`` keeps the value finite at ``eta_1 = 0``.
    Evaluating at the normalised point is exact because the rows are invariant under
    ``p_theta -> p_theta / P1`` (checked symbolically in ``tests/test_torch_losses.py``)."""

    expr = sp.expand(integrand.subs(NORM1, 1))
    return sp.Add(*[sp.powsimp(sp.factor_terms(term), force=True)
                    for term in sp.Add.make_args(expr)])


@lru_cache(maxsize=None)
def _rule_integrands(name: str, anchored: bool):
    """Compiled Table 6 / 7 integrands of a symmetric catalogue rule (torch backend)."""
    obj = general_objective(catalogue.entry(name), anchored=anchored)
    args = (R1, NORM1, POWER_SUM, LOG_SUM, NU, K_SYM, ALPHA)
    return tuple(compile_expr(normalised_integrand(t.integrand), args, "torch")
                 for t in obj.terms)


def _rule_term(fn, logits: torch.Tensor, slot: int, K: int, alpha: float, anchored: bool):
    """A Table 6 / 7 integrand at the normalised ``eta_theta`` of each row."""
    log_eta = logits - torch.logsumexp(logits, dim=-1, keepdim=True)
    r1 = torch.exp(log_eta[..., slot])
    nu = torch.exp(log_eta[..., 0]) if anchored else torch.zeros_like(r1)
    palpha = torch.exp(torch.logsumexp(alpha * log_eta, dim=-1))
    plog = log_eta.sum(-1)
    one = torch.ones_like(r1)
    # numbers as tensors: the torch printer emits torch.pow, which rejects (float, int)
    return fn(r1, one, palpha, plog, nu, one * K, one * alpha)


def scoring_rule_loss(name: str, S: torch.Tensor, K: int, nu: float, alpha: float | None):
    family, alpha_ = resolve_rule(name, alpha)
    a = 0.0 if alpha_ is None else float(alpha_)
    anchored = nu > 0
    fns = _rule_integrands(family, anchored)
    B = S.shape[-1]
    joint_logits = _row_logits(S, _slot_columns(B, K, 0, S.device), nu)
    joint = _rule_term(fns[0], joint_logits, 1 if anchored else 0, K, a, anchored).mean(-1)
    if not anchored:
        return joint
    noise_logits = _row_logits(S, _slot_columns(B, K, 1, S.device), nu)
    noise = _rule_term(fns[1], noise_logits, 0, K, a, anchored).mean(-1)
    return K / (K + nu) * joint + nu / (K + nu) * noise


def _slot_loss(name, S, *, K, nu, alpha) -> LossOutput:
    B = S.shape[-1]
    if B < 2:
        raise InputError("scores", f"{name} needs a batch of at least 2 (B >= 2), got B = {B}")
    plugin = torch.diagonal(S, dim1=-2, dim2=-1).mean(-1)
    if name == "infonce":
        nu_ = 0.0 if nu is None else float(nu)
        if nu_ != 0:
            raise InputError("nu", "InfoNCE has no anchor (nu = 0); use infonce_anchor")
        K_ = _slots(K, B, B)
        joint, _ = _log_score_terms(S, K_, 0.0)
        bound = math.log(K_) - joint
        return LossOutput(joint, bound, plugin, "bound")
    if name == "alpha_infonce":
        return _alpha_infonce(S, _slots(K, B, B), alpha, nu, plugin)
    nu_ = 1.0 if nu is None else float(nu)
    if name == "infonce_anchor" and not nu_ > 0:
        raise InputError("nu", f"InfoNCE-anchor needs nu > 0, got {nu!r}")
    if nu_ < 0 or not math.isfinite(nu_):
        raise InputError("nu", f"the anchor weight must be a finite number >= 0, got {nu!r}")
    K_ = _slots(K, B, B - 1 if nu_ > 0 else B)
    if name == "infonce_anchor":
        joint, noise = _log_score_terms(S, K_, nu_)
        loss = K_ / (K_ + nu_) * joint + nu_ / (K_ + nu_) * noise
        return LossOutput(loss, None, plugin, "plug-in")
    return LossOutput(scoring_rule_loss(name, S, K_, nu_, alpha), None, plugin, "plug-in")


def _alpha_infonce(S, K: int, alpha, nu, plugin) -> LossOutput:
    """alpha-InfoNCE (Poole et al. 2019's interpolated bound; Sec. 3.3, SPEC §4), per row:
    ``c_ii - log(alpha e^{c_ii} + (1-alpha)/(K-1) sum_{j in the K-1 other slots} e^{c_ij})``,
    in log space.  Its batch expectation is :func:`numerics.exact.estimators.alpha_infonce`."""
    if nu not in (None, 0, 0.0):
        raise InputError("nu", "alpha-InfoNCE has no anchor (nu = 0)")
    if K < 2:
        raise InputError("K", f"alpha-InfoNCE needs K >= 2 slots (a batch of at least 3 with "
                         f"the default K = B - 1), got K = {K} with B = {S.shape[-1]}")
    try:
        a = float(alpha)
    except (TypeError, ValueError):
        raise InputError("alpha", f"alpha-InfoNCE needs alpha in (0, 1], got {alpha!r}") from None
    if not 0 < a <= 1:
        raise InputError("alpha", f"alpha-InfoNCE needs alpha in (0, 1], got {alpha!r}")
    logits = _row_logits(S, _slot_columns(S.shape[-1], K, 0, S.device), 0.0)
    positive = logits[..., 0]
    if a == 1:
        bound = (positive - positive).mean(-1)   # 0, kept in the graph (a trainable loss)
    else:
        mixed = torch.cat([positive[..., None] + math.log(a),
                           logits[..., 1:] + math.log((1 - a) / (K - 1))], dim=-1)
        bound = (positive - torch.logsumexp(mixed, dim=-1)).mean(-1)
    return LossOutput(-bound, bound, plugin, "bound")


def _mlinfonce(S, plugin) -> LossOutput:
    """MLInfoNCE (Song & Ermon 2020b, the reading of :mod:`numerics.exact.estimators`) on one batch:
    the ``n = B`` positives (diagonal) and ``B(B-1)`` negatives (off-diagonal) in one softmax,
    ``m = B``: ``D_ML = log(B^2) + mean_i c_ii - logsumexp_{j,k} c_jk``.  The batch's negatives
    share their x's and y's with the positives, so its expectation is D_ML's only up to that
    dependence (unlike the slot losses, no per-row identity holds)."""
    B = S.shape[-1]
    bound = math.log(B * B) + plugin - torch.logsumexp(S.flatten(-2), dim=-1)
    return LossOutput(-bound, bound, plugin, "bound")


def _slots(K: object, B: int, largest: int) -> int:
    if K is None:
        return B - 1 if B > 1 else 1
    if isinstance(K, bool) or not isinstance(K, int) or not 1 <= K <= largest:
        raise InputError("K", f"must be an integer in 1..{largest} for a batch of {B}, got {K!r}")
    return K


# ------------------------------------------------------------------------------ public
def minibatch_loss(name: str, scores: torch.Tensor, *, K: int | None = None,
                   nu: float | None = None, tau: float | None = None, alpha: float | None = None,
                   weights: tuple[object, object] | None = None,
                   mine_state: MineState | None = None, check_finite: bool = True) -> LossOutput:
    """The loss ``name`` on ``scores`` (``(..., B, B)``; leading dims are independent runs).

    ``K`` defaults to ``B - 1`` for every slot loss (Appendix B); InfoNCE allows ``K <= B`` (``K =
    B`` uses every column), the anchored losses ``K <= B - 1``.  ``nu`` defaults to 1 for the
    anchored losses; the scoring rules take ``nu = 0`` for their InfoNCE-type form (Table 7).
    ``weights=(p(x,y), p(x)p(y))`` gives the population value of a single-slot loss on the
    alphabet grid.  ``check_finite=False`` skips the NaN / inf check of the scores, which costs
    a device synchronisation per call; a training loop then checks its losses instead.
    """
    if name not in LOSSES:
        raise InputError("name", f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
    if name in SLOT_LOSSES:
        if weights is not None:
            raise InputError("weights", f"{name} is a slot loss: its population value is the "
                             "expectation over batches (see numerics.exact.objectives)")
        return _slot_loss(name, _check_scores(scores, name, True, check_finite), K=K, nu=nu,
                          alpha=alpha)
    if name == "mlinfonce":
        if weights is not None:
            raise InputError("weights", "mlinfonce is a batch loss: no population weights")
        S = _check_scores(scores, name, True, check_finite)
        if S.shape[-1] < 2:
            raise InputError("scores", f"mlinfonce needs B >= 2, got B = {S.shape[-1]}")
        return _mlinfonce(S, torch.diagonal(S, dim1=-2, dim2=-1).mean(-1))
    if weights is None:
        S = _check_scores(scores, name, True, check_finite)
        if S.shape[-1] < 2:
            raise InputError("scores", f"{name} needs B >= 2 (off-diagonal pairs), got "
                             f"B = {S.shape[-1]}")
        w1, w0 = _minibatch_weights(S)
    else:
        S = _check_scores(scores, name, False)
        w1, w0 = _check_weights(weights, S)
    return _single_slot(name, S, w1, w0, tau=tau, mine_state=mine_state)
