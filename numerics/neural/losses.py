"""Every objective of the paper as a minibatch loss on a score matrix (torch; issues #4, #10).

``S[i, j] = c(x_i, y_j)`` with the joint pairs on the diagonal (Sec. 3.1); ``r = e^c``.  Each loss
returns a :class:`LossOutput`: the loss to minimise, the bound value (Types 1-2 of Table 1) where
the estimator has one, the plug-in ``E_p[c]`` (Type 3) = the mean of the diagonal, in nats, and
``kind``: which of the two is the estimator's MI estimate (``estimate_nats`` / ``estimate_bits``).

**The API.**  One function per loss, with its options as keywords and its formula in its
docstring: :func:`dv_loss`, :func:`nwj_loss`, :func:`mine_loss`, :func:`js_loss`,
:func:`smile_loss`, :func:`drf_loss`, :func:`fdime_loss` (Table 1), :func:`infonce_loss`,
:func:`infonce_anchor_loss` (Eq. 4), :func:`scoring_rule_loss` (Tables 6-7),
:func:`alpha_infonce_loss` and :func:`mlinfonce_loss` (Sec. 3.3).  ``torch.nn.Module`` wrappers:
:class:`InfoNCELoss`, :class:`InfoNCEAnchorLoss` and :class:`ContrastiveLoss` (any loss by name;
MINE's module holds its own :class:`MineState`).  :func:`minibatch_loss` is the by-name dispatcher
of the trainer and the benchmark; it calls the same functions (:func:`loss_function`).

**Two weightings of the same formulas.**

* Minibatch (default): the diagonal entries are samples of ``p(x, y)`` (weight ``1/B`` each) and
  the off-diagonal ones samples of ``p(x) p(y)`` (weight ``1/(B(B-1))``).  Below, ``E_p[.]`` is
  the diagonal mean and ``E_pp[.]`` the off-diagonal mean.
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

Leading dimensions of ``scores`` (``(..., B, B)``) are independent runs: every output then has
shape ``(...)``.  Bad input raises :class:`theory.errors.InputError` naming the argument.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, partial

import sympy as sp
import torch
from torch import nn

from numerics.exact.units import to_bits
from theory import catalogue
from theory.catalogue import resolve_rule
from theory.compile import compile_expr
from theory.dre import DEFAULT_NU, LOG_SUM, NORM1, POWER_SUM, R1, general_objective
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
#: The f-divergences of f-DIME (:func:`fdime_loss`), named ``fdime_<divergence>`` in LOSSES.
FDIME_DIVERGENCES = ("kl", "gan", "hellinger")
#: The symmetric scoring rules of Tables 6-7 that are losses of their own in LOSSES.
SCORING_RULES = ("power", "pseudo_spherical", "sym_inverse_log")
#: MINE's default moving-average momentum.
MINE_MOMENTUM = 0.99


@dataclass
class LossOutput:
    """What a loss returns, every tensor of shape ``scores.shape[:-2]``, in nats.

    * ``loss``: the objective to minimise (call ``.backward()`` on it, or on its sum);
    * ``bound_nats``: the variational bound's value (Types 1-2 of Table 1); None for Type 3
      estimators, which have none;
    * ``plugin_nats``: the plug-in ``E_p[c]`` (Type 3 of Table 1);
    * ``kind``: ``"bound"`` or ``"plug-in"``, which of the two the estimator reports as its MI
      estimate: :attr:`estimate_nats` (and :attr:`estimate_bits`, for printing).
    """

    loss: torch.Tensor
    bound_nats: torch.Tensor | None
    plugin_nats: torch.Tensor
    kind: str

    @property
    def estimate_nats(self) -> torch.Tensor:
        """The estimator's MI estimate: ``bound_nats`` if ``kind == "bound"``, else the plug-in."""
        return self.bound_nats if self.kind == "bound" and self.bound_nats is not None \
            else self.plugin_nats

    @property
    def estimate_bits(self) -> torch.Tensor:
        """:attr:`estimate_nats` in bits (``/ log 2``), the paper's unit: for printing only."""
        return to_bits(self.estimate_nats)


@dataclass
class MineState:
    """MINE's moving average of ``E_{p(x)p(y)}[e^c]`` (Belghazi et al. 2018): the gradient of
    ``log E[e^c]`` is taken with this average in the denominator (bias correction).
    ``momentum`` weighs the previous average: ``ema <- momentum ema + (1 - momentum) batch``;
    kept as ``log_ema`` so that large scores cannot overflow it."""

    momentum: float = MINE_MOMENTUM
    log_ema: torch.Tensor | None = field(default=None)

    def __post_init__(self) -> None:
        _check_momentum(self.momentum, "momentum")


# ------------------------------------------------------------------------------ validation
def _as_float(value: object) -> float:
    """``float(value)``, or NaN where that fails (the callers' range checks then reject it)."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _check_momentum(momentum: object, argument: str) -> None:
    if not 0 <= _as_float(momentum) < 1:
        raise InputError(argument, f"MINE's momentum must be in [0, 1), got {momentum!r}")


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


def _batch_scores(scores: object, name: str, check_finite: bool) -> torch.Tensor:
    """A square ``(..., B, B)`` minibatch with ``B >= 2`` (off-diagonal pairs exist)."""
    S = _check_scores(scores, name, True, check_finite)
    if S.shape[-1] < 2:
        raise InputError("scores", f"{name} needs a batch of at least 2 (B >= 2), got "
                         f"B = {S.shape[-1]}")
    return S


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


def _weighted_scores(scores: object, name: str, weights: object, check_finite: bool):
    """``(S, W1, W0)``: the minibatch weights, or the population grid's ``weights`` (whose
    scores are always checked for NaN / inf: a one-off evaluation, not a training step)."""
    if weights is None:
        S = _batch_scores(scores, name, check_finite)
        return (S, *_minibatch_weights(S))
    S = _check_scores(scores, name, False)
    return (S, *_check_weights(weights, S))


def default_slots(batch_size: int) -> int:
    """``K = B - 1``: every other pair of the batch is a negative slot (Appendix B; Sec. 4's
    default), and 1 for a batch of one."""
    return batch_size - 1 if batch_size > 1 else 1


def effective_K_nu(name: str, batch_size: int, K: int | None, nu: float | None):
    """The ``(K, nu)`` the loss ``name`` uses at batch size ``B`` when given ``K`` / ``nu`` (or
    None): the slot losses default to ``K = B - 1``; InfoNCE and alpha-InfoNCE have ``nu = 0``,
    the anchored losses ``nu = DEFAULT_NU``; single-slot losses keep what they were given."""
    if name not in SLOT_LOSSES:
        return K, nu
    K_ = default_slots(batch_size) if K is None else K
    if name in ("infonce", "alpha_infonce"):
        return K_, 0.0 if nu is None else float(nu)
    return K_, DEFAULT_NU if nu is None else float(nu)


def _slots(K: object, B: int, largest: int) -> int:
    if K is None:
        return default_slots(B)
    if isinstance(K, bool) or not isinstance(K, int) or not 1 <= K <= largest:
        raise InputError("K", f"must be an integer in 1..{largest} for a batch of {B}, got {K!r}")
    return K


def _anchor_weight(nu: object, *, allow_zero: bool) -> float:
    """``nu`` as a float: finite, ``> 0`` (or ``>= 0`` where the InfoNCE-type form exists)."""
    value = _as_float(nu)
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        rule = ">= 0" if allow_zero else "> 0 (nu = 0 is InfoNCE: infonce_loss)"
        raise InputError("nu", f"the anchor weight must be a finite number {rule}, got {nu!r}")
    return value


def _plugin(S: torch.Tensor) -> torch.Tensor:
    """``E_p[c]``: the mean of the diagonal (the joint pairs)."""
    return torch.diagonal(S, dim1=-2, dim2=-1).mean(-1)


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


def _logistic_loss(S, w1, w0):
    """``L_JS = E_1[softplus(-c)] + E_0[softplus(c)]``."""
    return _mean(w1, torch.nn.functional.softplus(-S)) + _mean(w0, torch.nn.functional.softplus(S))


def _fdime_gan_value(S, w1, w0):
    """``f(u) = u log u - (u + 1) log(u + 1)``: ``T = log(r/(1+r))``, ``f*(T) = -log(1 - e^T)``."""
    return -_mean(w1, torch.nn.functional.softplus(-S)) - \
        _mean(w0, torch.nn.functional.softplus(S))


def _fdime_hellinger_value(S, w1, w0):
    """``f(u) = (sqrt(u) - 1)^2``: ``T = 1 - r^{-1/2}``, ``f*(T) = T/(1 - T) = r^{1/2} - 1``."""
    return _mean(w1, -torch.expm1(-S / 2)) - _mean(w0, torch.expm1(S / 2))


_FDIME_VALUES = {"kl": _nwj, "gan": _fdime_gan_value, "hellinger": _fdime_hellinger_value}


# ------------------------------------------------------------------------- Table 1: single slot
def dv_loss(scores: torch.Tensor, *, weights: tuple[object, object] | None = None,
            check_finite: bool = True) -> LossOutput:
    """Donsker-Varadhan (Table 1, Type 1; Sec. 2.1), a lower bound on the MI:

    ``I_DV = E_p[c] - log E_pp[e^c]``, ``loss = -I_DV``; reports the bound.  Eq. 5 at
    ``beta = 0`` (the tightest of that family).  ``weights=(p(x,y), p(x)p(y))``: the population
    value on an alphabet grid ``S`` (module docstring); ``check_finite=False`` skips the NaN / inf
    check of the scores (a device sync)."""
    S, w1, w0 = _weighted_scores(scores, "dv", weights, check_finite)
    bound = _dv(S, w1, w0)
    return LossOutput(-bound, bound, _mean(w1, S), "bound")


def nwj_loss(scores: torch.Tensor, *, weights: tuple[object, object] | None = None,
             check_finite: bool = True) -> LossOutput:
    """NWJ (Table 1, Type 1; Sec. 2.1) in the paper's parametrisation (optimum at ``c = PMI``):

    ``I_NWJ = E_p[c] - E_pp[e^c] + 1``, ``loss = -I_NWJ``; reports the bound.  Eq. 5 as
    ``beta -> infinity``.  ``weights``, ``check_finite``: as :func:`dv_loss`."""
    S, w1, w0 = _weighted_scores(scores, "nwj", weights, check_finite)
    bound = _nwj(S, w1, w0)
    return LossOutput(-bound, bound, _mean(w1, S), "bound")


def mine_loss(scores: torch.Tensor, *, state: MineState,
              weights: tuple[object, object] | None = None,
              check_finite: bool = True) -> LossOutput:
    """MINE (Table 1, Type 1; Belghazi et al. 2018): the DV bound with a bias-corrected gradient.

    Value ``loss = -I_DV`` (:func:`dv_loss`), but the gradient of ``log E_pp[e^c]`` is
    ``grad E_pp[e^c] / ema`` with ``ema <- m ema + (1 - m) E_pp[e^c]`` (``m = state.momentum``).
    ``state`` is updated in place at every call: keep one :class:`MineState` per training."""
    if not isinstance(state, MineState):
        raise InputError("state", f"MINE needs a MineState (its moving average), got {state!r}")
    _check_momentum(state.momentum, "state")
    S, w1, w0 = _weighted_scores(scores, "mine", weights, check_finite)
    plugin, bound = _mean(w1, S), _dv(S, w1, w0)
    log_batch = _log_mean_exp(w0, S)
    state.log_ema = _updated_log_ema(state, log_batch.detach())
    surrogate = -(plugin - torch.exp(log_batch - state.log_ema))
    loss = surrogate + (-bound - surrogate).detach()  # value -bound, gradient of the surrogate
    return LossOutput(loss, bound, plugin, "bound")


def _updated_log_ema(state: MineState, log_batch: torch.Tensor) -> torch.Tensor:
    if state.log_ema is None or state.momentum == 0:
        return log_batch
    return torch.logaddexp(math.log(state.momentum) + state.log_ema,
                           math.log1p(-state.momentum) + log_batch)


def js_loss(scores: torch.Tensor, *, weights: tuple[object, object] | None = None,
            check_finite: bool = True) -> LossOutput:
    """JS / NT-Logistic (Table 1, Type 2; Poole et al. 2019): trained with the logistic loss

    ``L_JS = E_p[softplus(-c)] + E_pp[softplus(c)]`` (twice Eq. 4 at ``K = 1, nu = 1``), reports
    the NWJ bound ``E_p[c] - E_pp[e^c] + 1`` at the trained critic.  ``weights``,
    ``check_finite``: as :func:`dv_loss`."""
    S, w1, w0 = _weighted_scores(scores, "js", weights, check_finite)
    return LossOutput(_logistic_loss(S, w1, w0), _nwj(S, w1, w0), _mean(w1, S), "bound")


def smile_loss(scores: torch.Tensor, *, tau: float,
               weights: tuple[object, object] | None = None,
               check_finite: bool = True) -> LossOutput:
    """SMILE(tau) (Table 1, Type 2; Song & Ermon 2020a): trained with ``L_JS`` (:func:`js_loss`),

    reports ``E_p[c] - log E_pp[e^{clip(c, -tau, tau)}]`` (DV with a clipped partition term).
    ``tau > 0`` is the clipping threshold.  ``weights``, ``check_finite``: as :func:`dv_loss`."""
    S, w1, w0 = _weighted_scores(scores, "smile", weights, check_finite)
    threshold = _as_float(tau)
    if not threshold > 0:
        raise InputError("tau", f"SMILE needs a clipping threshold tau > 0, got {tau!r}")
    plugin = _mean(w1, S)
    bound = plugin - _log_mean_exp(w0, torch.clamp(S, -threshold, threshold))
    return LossOutput(_logistic_loss(S, w1, w0), bound, plugin, "bound")


def drf_loss(scores: torch.Tensor, *, weights: tuple[object, object] | None = None,
             check_finite: bool = True) -> LossOutput:
    """D-RFC / chi^2 / LSIF (Table 1, Type 3; the power rule at ``alpha = 2``, Tables 3 and 5):

    ``loss = -2 E_p[e^c] + E_pp[e^{2c}]``, minimised at ``e^c = p(x,y)/(p(x)p(y))``; reports the
    plug-in ``E_p[c]``.  ``weights``, ``check_finite``: as :func:`dv_loss`."""
    S, w1, w0 = _weighted_scores(scores, "drf", weights, check_finite)
    joint, product = _log_mean_exp(w1, S), _log_mean_exp(w0, 2 * S)
    # e^product - 2 e^joint factored by the larger exponent (no inf - inf)
    loss = torch.where(product >= joint, torch.exp(product) * (1 - 2 * torch.exp(joint - product)),
                       torch.exp(joint) * (torch.exp(product - joint) - 2))
    return LossOutput(loss, None, _mean(w1, S), "plug-in")


def fdime_loss(scores: torch.Tensor, *, divergence: str = "kl",
               weights: tuple[object, object] | None = None,
               check_finite: bool = True) -> LossOutput:
    """f-DIME (Table 1, Type 3; Letizia et al. 2024): the variational f-divergence bound
    ``E_p[T] - E_pp[f*(T)]`` (Eq. 4's family at ``K = 1, nu = 1``, Sec. 3.4), negated, with ``T``
    the optimal map of ``r = e^c``; reports the plug-in ``E_p[c]``.  ``divergence``:

    * ``"kl"``: ``loss = -(E_p[c] - E_pp[e^c] + 1)`` (the NWJ loss);
    * ``"gan"``: ``loss = E_p[softplus(-c)] + E_pp[softplus(c)]``;
    * ``"hellinger"``: ``loss = -(E_p[1 - e^{-c/2}] - E_pp[e^{c/2} - 1])``.

    ``weights``, ``check_finite``: as :func:`dv_loss`."""
    if divergence not in FDIME_DIVERGENCES:
        raise InputError("divergence", f"must be one of {', '.join(FDIME_DIVERGENCES)}, got "
                         f"{divergence!r}")
    S, w1, w0 = _weighted_scores(scores, f"fdime_{divergence}", weights, check_finite)
    return LossOutput(-_FDIME_VALUES[divergence](S, w1, w0), None, _mean(w1, S), "plug-in")


# ------------------------------------------------------------------------------ slot losses
def _slot_columns(B: int, K: int, offset: int, device) -> torch.Tensor:
    """``(B, K)`` column indices: row ``i`` takes ``i + offset, ..., i + offset + K - 1`` mod B."""
    rows = torch.arange(B, device=device)[:, None]
    return (rows + offset + torch.arange(K, device=device)[None, :]) % B


def _row_logits(S: torch.Tensor, cols: torch.Tensor, nu: float) -> torch.Tensor:
    """``(..., B, K [+1])``: the chosen scores of each row, ``log nu`` first when ``nu > 0``."""
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


def infonce_loss(scores: torch.Tensor, *, K: int | None = None,
                 check_finite: bool = True) -> LossOutput:
    """InfoNCE (Table 1, Type 1; Sec. 2.2; Eq. 4 at ``nu = 0``), over ``K`` slots per row:

    ``loss = -(1/B) sum_i log(e^{S_ii} / sum_{j in J_i} e^{S_ij})`` with ``J_i`` the ``K``
    columns ``i, i+1, ..., i+K-1`` (mod B); reports the bound ``log K - loss`` (the minibatch
    ``D_InfoNCE``, at most ``log K``: Prop. 1).  ``K`` defaults to ``B - 1`` (Appendix B);
    ``K = B`` is the usual cross-entropy over every column.  ``check_finite``: as
    :func:`dv_loss`."""
    S = _batch_scores(scores, "infonce", check_finite)
    slots = _slots(K, S.shape[-1], S.shape[-1])
    joint, _ = _log_score_terms(S, slots, 0.0)
    return LossOutput(joint, math.log(slots) - joint, _plugin(S), "bound")


def infonce_anchor_loss(scores: torch.Tensor, *, nu: float = DEFAULT_NU, K: int | None = None,
                        check_finite: bool = True) -> LossOutput:
    """InfoNCE-anchor (Eq. 4; Appendix B pseudocode), the paper's estimator (Table 1, Type 3):

    ``loss = K/(K+nu) (1/B) sum_i -log(e^{S_ii} / (nu + sum_{j in J_i} e^{S_ij}))
    + nu/(K+nu) (1/B) sum_i -log(nu / (nu + sum_{j in N_i} e^{S_ij}))``, with ``J_i`` the ``K``
    columns ``i, ..., i+K-1`` and ``N_i`` the ``K`` columns ``i+1, ..., i+K`` (mod B).  For
    ``nu > 0`` the minimiser is ``c = PMI`` (Thm 3), so it reports the plug-in ``E_p[c]``
    (Sec. 3.1).  ``K`` defaults to ``B - 1`` (at most ``B - 1``); ``nu`` is the anchor weight
    (paper default 1).  ``check_finite``: as :func:`dv_loss`."""
    S = _batch_scores(scores, "infonce_anchor", check_finite)
    weight = _anchor_weight(nu, allow_zero=False)
    slots = _slots(K, S.shape[-1], S.shape[-1] - 1)
    joint, noise = _log_score_terms(S, slots, weight)
    loss = slots / (slots + weight) * joint + weight / (slots + weight) * noise
    return LossOutput(loss, None, _plugin(S), "plug-in")


def normalised_integrand(integrand):
    """A Table 6 / 7 integrand at ``||p_theta||_1 = 1`` (``P1 -> 1``), one power per term.

    Merging ``r1**alpha / r1`` into ``r1**(alpha - 1)`` keeps the value finite at ``eta_1 = 0``.
    Evaluating at the normalised point is exact because the rows are invariant under
    ``p_theta -> p_theta / P1`` (checked symbolically in ``tests/test_torch_losses.py``)."""

    expr = sp.expand(integrand.subs(NORM1, 1))
    return sp.Add(*[sp.powsimp(sp.factor_terms(term), force=True)
                    for term in sp.Add.make_args(expr)])


@cache
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


def _scoring_rule_value(family: str, S: torch.Tensor, K: int, nu: float, alpha: float | None):
    """The Table 6 (``nu > 0``) / Table 7 (``nu = 0``) row of ``family`` on the minibatch."""
    a = 0.0 if alpha is None else float(alpha)
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


def _symmetric_rule(rule: object, alpha: object) -> tuple[str, float | None]:
    family, value = resolve_rule(rule, alpha)
    if catalogue.entry(family).kind != "symmetric":
        symmetric = [e.name for e in catalogue.by_kind("symmetric")]
        raise InputError("rule", f"{rule} is asymmetric (Table 5: no K-slot form); the "
                         f"symmetric rules of Tables 6-7 are {', '.join(symmetric)}")
    return family, value


def scoring_rule_loss(scores: torch.Tensor, *, rule: str, alpha: float | None = None,
                      nu: float = DEFAULT_NU, K: int | None = None,
                      check_finite: bool = True) -> LossOutput:
    """A symmetric proper scoring rule ``lambda`` as a DRE loss (Sec. 3.4; Table 6 for ``nu > 0``,
    Table 7 for ``nu = 0``, the InfoNCE-type form), with the rows' slots as in
    :func:`infonce_anchor_loss` and ``eta_theta = (nu, e^{S_ij}: j in J_i) / (nu + sum_J e^S)``
    (Eq. 3):

    ``loss = K/(K+nu) (1/B) sum_i lambda_1(eta_theta(J_i)) + nu/(K+nu) (1/B) sum_i
    lambda_0(eta_theta(N_i))``; reports the plug-in ``E_p[c]``.  ``rule``: ``power``
    (``lambda_z = ||eta||_alpha^alpha/alpha - eta_z^{alpha-1}/(alpha-1)``, needs ``alpha``),
    ``pseudo_spherical`` (``-(eta_z/||eta||_alpha)^{alpha-1}/(alpha-1)``, ``alpha > 1``),
    ``sym_inverse_log`` (``sum_z' log eta_z' + 1/eta_z``), ``log`` (= :func:`infonce_anchor_loss`),
    or a special case (``brier``, ``spherical``).  ``K`` defaults to ``B - 1`` (``B`` at
    ``nu = 0``).  ``check_finite``: as :func:`dv_loss`."""
    S = _batch_scores(scores, rule if isinstance(rule, str) else "scoring_rule_loss",
                      check_finite)
    weight = _anchor_weight(nu, allow_zero=True)
    B = S.shape[-1]
    slots = _slots(K, B, B - 1 if weight > 0 else B)
    family, alpha_value = _symmetric_rule(rule, alpha)
    loss = _scoring_rule_value(family, S, slots, weight, alpha_value)
    return LossOutput(loss, None, _plugin(S), "plug-in")


def alpha_infonce_loss(scores: torch.Tensor, *, alpha: float, K: int | None = None,
                       check_finite: bool = True) -> LossOutput:
    """alpha-InfoNCE (Sec. 3.3; Poole et al. 2019's interpolated bound), per row ``i``:

    ``D_alpha = (1/B) sum_i log(e^{S_ii} / (alpha e^{S_ii} + (1-alpha)/(K-1) sum_{j in J_i, j != i}
    e^{S_ij}))``, ``loss = -D_alpha``; reports the bound.  ``alpha`` in ``(0, 1]``
    (``alpha = 1/K`` is InfoNCE's bound), ``K >= 2`` slots ``J_i`` as in :func:`infonce_loss`
    (default ``B - 1``).  Its batch expectation is :func:`numerics.exact.estimators.alpha_infonce`.
    ``check_finite``: as :func:`dv_loss`."""
    S = _batch_scores(scores, "alpha_infonce", check_finite)
    B = S.shape[-1]
    slots = _slots(K, B, B)
    if slots < 2:
        raise InputError("K", f"alpha-InfoNCE needs K >= 2 slots (a batch of at least 3 with "
                         f"the default K = B - 1), got K = {slots} with B = {B}")
    weight = _mixing_weight(alpha)
    logits = _row_logits(S, _slot_columns(B, slots, 0, S.device), 0.0)
    positive = logits[..., 0]
    if weight == 1:
        bound = (positive - positive).mean(-1)   # 0, kept in the graph (a trainable loss)
    else:
        mixed = torch.cat([positive[..., None] + math.log(weight),
                           logits[..., 1:] + math.log((1 - weight) / (slots - 1))], dim=-1)
        bound = (positive - torch.logsumexp(mixed, dim=-1)).mean(-1)
    return LossOutput(-bound, bound, _plugin(S), "bound")


def _mixing_weight(alpha: object) -> float:
    value = _as_float(alpha)
    if not 0 < value <= 1:
        raise InputError("alpha", f"alpha-InfoNCE needs alpha in (0, 1], got {alpha!r}")
    return value


def mlinfonce_loss(scores: torch.Tensor, *, check_finite: bool = True) -> LossOutput:
    """MLInfoNCE (Sec. 3.3; Song & Ermon 2020b, the reading of :mod:`numerics.exact.estimators`):
    the ``B`` positives (diagonal) and ``B(B-1)`` negatives (off-diagonal) in one softmax:

    ``D_ML = log(B^2) + (1/B) sum_i S_ii - logsumexp_{j,k} S_jk``, ``loss = -D_ML``; reports the
    bound.  The batch's negatives share their x's and y's with the positives, so its expectation
    is D_ML's only up to that dependence.  ``check_finite``: as :func:`dv_loss`."""
    S = _batch_scores(scores, "mlinfonce", check_finite)
    B = S.shape[-1]
    bound = math.log(B * B) + _plugin(S) - torch.logsumexp(S.flatten(-2), dim=-1)
    return LossOutput(-bound, bound, _plugin(S), "bound")


# ------------------------------------------------------------------------------ by name
_LOSS_FUNCTIONS: dict[str, Callable[..., LossOutput]] = {
    "dv": dv_loss, "nwj": nwj_loss, "infonce": infonce_loss, "mine": mine_loss, "js": js_loss,
    "smile": smile_loss, "drf": drf_loss,
    **{f"fdime_{d}": partial(fdime_loss, divergence=d) for d in FDIME_DIVERGENCES},
    "infonce_anchor": infonce_anchor_loss,
    **{rule: partial(scoring_rule_loss, rule=rule) for rule in SCORING_RULES},
    "alpha_infonce": alpha_infonce_loss, "mlinfonce": mlinfonce_loss,
}


def loss_function(name: str) -> Callable[..., LossOutput]:
    """The public function of the loss ``name`` (one of :data:`LOSSES`): e.g. ``infonce_anchor``
    is :func:`infonce_anchor_loss`, ``fdime_gan`` is ``fdime_loss(divergence="gan")`` and
    ``power`` is ``scoring_rule_loss(rule="power")`` (``functools.partial``)."""
    if name not in _LOSS_FUNCTIONS:
        raise InputError("name", f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
    return _LOSS_FUNCTIONS[name]


@cache
def _keywords(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """The keyword options of loss ``name``'s function: all of them, and the required ones."""
    params = [p for p in inspect.signature(loss_function(name)).parameters.values()
              if p.kind is p.KEYWORD_ONLY]
    return (frozenset(p.name for p in params),
            frozenset(p.name for p in params if p.default is p.empty))


def _reject_inapplicable(name: str, accepted: frozenset[str], *, nu, weights) -> None:
    if weights is not None and "weights" not in accepted:
        raise InputError("weights", f"{name} is a batch loss: its population value is the "
                         "expectation over batches (see numerics.exact.objectives)")
    if name in SLOT_LOSSES and "nu" not in accepted and nu not in (None, 0):
        raise InputError("nu", f"{name} has no anchor (nu = 0); the anchored form is "
                         "infonce_anchor")


def minibatch_loss(name: str, scores: torch.Tensor, *, K: int | None = None,
                   nu: float | None = None, tau: float | None = None, alpha: float | None = None,
                   weights: tuple[object, object] | None = None,
                   mine_state: MineState | None = None, check_finite: bool = True) -> LossOutput:
    """The loss ``name`` on ``scores`` (``(..., B, B)``; leading dims are independent runs): the
    by-name form of the public functions (:func:`loss_function`), for trainers and benchmarks.

    Each loss takes the options its function has and ignores the others; None means that
    function's default.  ``K`` defaults to ``B - 1`` for every slot loss (Appendix B); InfoNCE
    allows ``K <= B`` (``K = B`` uses every column), the anchored losses ``K <= B - 1``.  ``nu``
    defaults to 1 for the anchored losses; the scoring rules take ``nu = 0`` for their
    InfoNCE-type form (Table 7).  ``weights=(p(x,y), p(x)p(y))`` gives the population value of a
    single-slot loss on the alphabet grid.  ``mine_state`` defaults to a fresh
    :class:`MineState` (no bias correction across calls).  ``check_finite=False`` skips the NaN /
    inf check of the scores, which costs a device synchronisation per call; a training loop then
    checks its losses instead.
    """
    function = loss_function(name)
    accepted, required = _keywords(name)
    _reject_inapplicable(name, accepted, nu=nu, weights=weights)
    given = {"K": K, "nu": nu, "tau": tau, "alpha": alpha, "weights": weights,
             "state": MineState() if mine_state is None else mine_state}
    options = {key: value for key, value in given.items()
               if key in accepted and (value is not None or key in required)}
    return function(scores, check_finite=check_finite, **options)


# ------------------------------------------------------------------------------ nn.Module
class ContrastiveLoss(nn.Module):
    """The loss ``name`` (one of :data:`LOSSES`) with fixed ``options`` (the keywords of its
    function, :func:`loss_function`) as a module: ``forward(scores)`` returns the
    :class:`LossOutput` (``.loss`` to minimise, ``.estimate_nats`` / ``.estimate_bits`` the MI
    estimate, ``.kind`` whether that is a bound or a plug-in).

    ``ContrastiveLoss("smile", tau=5.0)``, ``ContrastiveLoss("power", alpha=2.0, nu=1.0)``.
    ``ContrastiveLoss("mine", momentum=0.99)`` holds its own :class:`MineState` (``.mine_state``),
    updated at every forward.  Unknown or missing options raise :class:`InputError` here; their
    values are checked at the first forward (some depend on the batch size ``B``)."""

    def __init__(self, name: str, **options: object) -> None:
        super().__init__()
        self.function = loss_function(name)
        self.loss_name = name
        if name == "mine" and "state" not in options:
            options["state"] = MineState(options.pop("momentum", MINE_MOMENTUM))
        _check_options(name, options)
        self.options = options

    @property
    def mine_state(self) -> MineState | None:
        """MINE's moving average (None for the other losses)."""
        return self.options.get("state")  # type: ignore[return-value]

    def forward(self, scores: torch.Tensor) -> LossOutput:
        return self.function(scores, **self.options)

    def extra_repr(self) -> str:
        shown = [f"{key}={value!r}" for key, value in self.options.items() if key != "state"]
        return ", ".join([repr(self.loss_name), *shown])


def _check_options(name: str, options: dict[str, object]) -> None:
    accepted, required = _keywords(name)
    for key in options:
        if key not in accepted:
            raise InputError(key, f"{name} takes no option {key!r}; its options: "
                             f"{', '.join(sorted(accepted))}")
    missing = sorted(required - set(options))
    if missing:
        raise InputError(missing[0], f"{name} needs the option {missing[0]}")


class InfoNCELoss(ContrastiveLoss):
    """:func:`infonce_loss` as a module: ``InfoNCELoss(K=None)(scores)`` -> :class:`LossOutput`
    (its estimate is the bound ``log K - loss``)."""

    def __init__(self, K: int | None = None, check_finite: bool = True) -> None:
        super().__init__("infonce", K=K, check_finite=check_finite)


class InfoNCEAnchorLoss(ContrastiveLoss):
    """:func:`infonce_anchor_loss` as a module: ``InfoNCEAnchorLoss(nu=1.0, K=None)(scores)`` ->
    :class:`LossOutput` (its estimate is the plug-in ``E_p[c]``)."""

    def __init__(self, nu: float = DEFAULT_NU, K: int | None = None, check_finite: bool = True) -> None:
        super().__init__("infonce_anchor", nu=nu, K=K, check_finite=check_finite)
