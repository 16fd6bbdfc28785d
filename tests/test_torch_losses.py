"""Minibatch losses (``numerics.neural.losses``) against the exact population objectives.

* Single-slot losses fed the whole alphabet grid with weights ``(p(x,y), p(x)p(y))`` equal
  ``numerics.exact.mi.mi_estimator`` (numpy, written from the definitions).
* Slot losses: the average of the minibatch loss over *every* batch of ``B`` pairs, weighted by
  its probability, equals ``numerics``' exact objective at ``K`` slots (rows contrast the ``y``'s,
  so the exact side uses the transposed joint).
* InfoNCE-anchor against a literal transcription of the paper's Appendix B pseudocode.
* Stability (scores +-1e4 in float32, bf16 autocast), batching, MINE's gradient, input errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import sympy as sp  # noqa: E402

from infonce_anchor.claims import estimators as estimator_claims  # noqa: E402
from infonce_anchor.claims import sampling  # noqa: E402
from infonce_anchor.claims.catalogue import load  # noqa: E402
from infonce_anchor.claims.registry import run_claim  # noqa: E402
from infonce_anchor.claims.sampling import batch_average  # noqa: E402
from numerics.exact import mi  # noqa: E402
from numerics.neural.losses import (  # noqa: E402
    LOSSES,
    MineState,
    minibatch_loss,
    normalised_integrand,
    scoring_rule_loss,
)
from theory import catalogue  # noqa: E402
from theory.dre import LOG_SUM, NORM1, POWER_SUM, R1, general_objective  # noqa: E402
from theory.errors import InputError  # noqa: E402
from theory.symbols import ALPHA, K_SYM, NU, symbolic_zero  # noqa: E402

PARAMS = {"smile": {"tau": 1.5}, "power": {"alpha": 2.0}, "pseudo_spherical": {"alpha": 2.0},
          "alpha_infonce": {"alpha": 0.5}}
SINGLE = [n for n in LOSSES if n not in ("infonce", "infonce_anchor", "power",
                                         "pseudo_spherical", "sym_inverse_log",
                                         "alpha_infonce", "mlinfonce")]


@pytest.fixture(scope="module")
def joint():
    return np.random.default_rng(4).dirichlet(np.ones(4)).reshape(2, 2)


@pytest.fixture(scope="module")
def critic():
    return np.exp(np.random.default_rng(5).normal(0, 0.7, (2, 2)))


# ------------------------------------------------------------------ one source of truth
@pytest.mark.parametrize("name", ["power", "pseudo_spherical", "sym_inverse_log"])
@pytest.mark.parametrize("anchored", [True, False])
def test_table_rows_are_scale_invariant_so_the_normalised_point_is_exact(name, anchored):
    lam = sp.Symbol("lam", positive=True)
    classes = K_SYM + 1 if anchored else K_SYM
    for term in general_objective(catalogue.entry(name), anchored=anchored).terms:
        e = term.integrand
        scaled = e.xreplace({R1: lam * R1, NU: lam * NU, NORM1: lam * NORM1,
                             POWER_SUM: lam ** ALPHA * POWER_SUM,
                             LOG_SUM: LOG_SUM + classes * sp.log(lam)})
        assert symbolic_zero(sp.expand_log(scaled - e, force=True)), (name, e)
        # and the torch-compiled form is the row at P1 = 1
        assert symbolic_zero(normalised_integrand(e) - e.subs(NORM1, 1))


# ------------------------------------------------------------------ single-slot: population
@pytest.mark.parametrize("name", SINGLE)
def test_single_slot_population_value_equals_numerics(name, joint, critic):
    px, py = joint.sum(1), joint.sum(0)
    S = torch.tensor(np.log(critic), dtype=torch.float64)
    out = minibatch_loss(name, S, weights=(joint, np.outer(px, py)), **PARAMS.get(name, {}))
    ref = mi.mi_estimator(name, critic, joint, **PARAMS.get(name, {}))
    assert float(out.loss) == pytest.approx(ref.loss, abs=1e-12)
    reported = float(out.estimate_nats)
    assert reported == pytest.approx(ref.estimate, abs=1e-12)


# ------------------------------------------------------------------ slot losses: batches
@pytest.mark.parametrize("B, K", [(3, 2), (3, 1), (4, 3)])
@pytest.mark.parametrize("nu", [1.0, 0.5])
def test_anchor_minibatch_expectation_is_eq4(joint, critic, B, K, nu):
    got = batch_average(joint, critic, B, "infonce_anchor", K=K, nu=nu)
    exact = mi.mi_population_objective("log", critic.T, joint.T, K, nu)
    assert got == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize("B, K", [(3, 2), (3, 3), (2, 2)])
def test_infonce_minibatch_expectation_is_log_k_minus_d_infonce(joint, critic, B, K):
    got = batch_average(joint, critic, B, "infonce", K=K)
    exact = math.log(K) - mi.mi_estimator("infonce", critic.T, joint.T, K=K).estimate
    assert got == pytest.approx(exact, abs=1e-12)


@pytest.mark.parametrize("name, alpha", [("power", 2.0), ("power", 0.5), ("power", 3.0),
                                         ("pseudo_spherical", 2.0), ("pseudo_spherical", 1.5),
                                         ("sym_inverse_log", None)])
@pytest.mark.parametrize("nu", [1.0, 0.0])
def test_scoring_rule_minibatch_expectation_is_the_table_objective(joint, critic, name, alpha,
                                                                   nu):
    kw = {} if alpha is None else {"alpha": alpha}
    got = batch_average(joint, critic, 3, name, K=2, nu=nu, **kw)
    exact = mi.mi_population_objective(name, critic.T, joint.T, 2, nu, alpha)
    assert got == pytest.approx(exact, abs=1e-11)


def test_log_rule_through_the_generic_path_is_the_anchor(joint, critic):
    """Sanity link: the Table 6 log row and the dedicated log-space code agree."""
    torch.manual_seed(0)
    S = torch.randn(5, 5, dtype=torch.float64)
    generic = scoring_rule_loss(S, rule="log", nu=1.0, K=4).loss
    assert float(generic) == pytest.approx(float(minibatch_loss("infonce_anchor", S).loss),
                                           abs=1e-12)


def appendix_b(scores: torch.Tensor, nu: float = 1.0) -> torch.Tensor:
    """The paper's Appendix B pseudocode, transcribed line by line."""
    B = scores.size(0)
    K = B - 1
    mask = torch.zeros(B, B, dtype=scores.dtype)
    i = torch.arange(1, B + 1)
    mask[i - 1, i - 2] = -torch.inf
    scores_aug = torch.cat([math.log(nu) * torch.ones(B, 1, dtype=scores.dtype),
                            mask + scores], dim=1)
    joint_term = -(scores.diag().mean() - scores_aug.logsumexp(dim=1).mean())
    neg_inf_diag = torch.zeros(B, B, dtype=scores.dtype).fill_diagonal_(-torch.inf)
    scores_aug_neg = torch.cat([math.log(nu) * torch.ones(B, 1, dtype=scores.dtype),
                                scores + neg_inf_diag], dim=1)
    marginal_term = -(math.log(nu) - scores_aug_neg.logsumexp(dim=1).mean())
    return K / (K + nu) * joint_term + nu / (K + nu) * marginal_term


@pytest.mark.parametrize("B, nu", [(2, 1.0), (8, 1.0), (16, 0.3), (64, 5.0)])
def test_anchor_equals_the_appendix_b_pseudocode(B, nu):
    torch.manual_seed(B)
    S = torch.randn(B, B, dtype=torch.float64) * 3
    assert float(minibatch_loss("infonce_anchor", S, nu=nu).loss) == \
        pytest.approx(float(appendix_b(S, nu)), abs=1e-12)


# ------------------------------------------------------------------ stability and batching
@pytest.mark.parametrize("name", LOSSES)
def test_large_scores_in_float32_never_give_nan(name):
    S = torch.full((6, 6), 1e4)
    S[0, 1], S[2, 2], S[3, 4] = -1e4, -1e4, 0.0
    for scores in (S, -S):
        out = minibatch_loss(name, scores, **PARAMS.get(name, {}))
        assert not torch.isnan(out.loss), name
        assert not torch.isnan(out.plugin_nats)


LOG_SPACE = ("dv", "infonce", "mine", "js", "smile", "fdime_gan", "infonce_anchor", "power",
             "pseudo_spherical")


@pytest.mark.parametrize("name", LOG_SPACE)
def test_log_space_losses_stay_finite_and_match_float64_at_large_scores(name):
    gen = torch.Generator().manual_seed(1)
    S64 = torch.randn(8, 8, generator=gen, dtype=torch.float64) * 1e4
    out32 = minibatch_loss(name, S64.float(), **PARAMS.get(name, {}))
    out64 = minibatch_loss(name, S64, **PARAMS.get(name, {}))
    assert torch.isfinite(out32.loss)
    assert float(out32.loss) == pytest.approx(float(out64.loss), rel=1e-5, abs=1e-3)


@pytest.mark.parametrize("name", LOSSES)
def test_bf16_autocast_matches_float32(name):
    gen = torch.Generator().manual_seed(2)
    x, y = torch.randn(16, 8, generator=gen), torch.randn(16, 8, generator=gen)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        S16 = x @ y.T / 4
        out16 = minibatch_loss(name, S16, **PARAMS.get(name, {}))
    assert S16.dtype == torch.bfloat16 and out16.loss.dtype == torch.float32
    out32 = minibatch_loss(name, S16.float(), **PARAMS.get(name, {}))
    assert float(out16.loss) == pytest.approx(float(out32.loss), rel=1e-6, abs=1e-6)


@pytest.mark.parametrize("name", LOSSES)
def test_leading_dimension_runs_independently(name):
    gen = torch.Generator().manual_seed(3)
    S = torch.randn(3, 6, 6, generator=gen, dtype=torch.float64)
    together = minibatch_loss(name, S, **PARAMS.get(name, {})).loss
    assert together.shape == (3,)
    for r in range(3):
        alone = minibatch_loss(name, S[r], **PARAMS.get(name, {})).loss
        assert float(together[r]) == pytest.approx(float(alone), abs=1e-12)


def test_mine_value_is_dv_and_gradient_is_bias_corrected():
    gen = torch.Generator().manual_seed(4)
    S = torch.randn(5, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    state = MineState(momentum=0.9)
    state.log_ema = torch.tensor(0.3, dtype=torch.float64)
    out = minibatch_loss("mine", S, mine_state=state)
    dv = minibatch_loss("dv", S.detach())
    assert float(out.loss.detach()) == pytest.approx(float(dv.loss), abs=1e-12)
    out.loss.backward()
    B = 5
    off = 1 - torch.eye(B, dtype=torch.float64)
    batch = float((torch.exp(S.detach()) * off).sum() / (B * (B - 1)))
    ema = 0.9 * math.exp(0.3) + 0.1 * batch
    expected = -torch.eye(B, dtype=torch.float64) / B + \
        off * torch.exp(S.detach()) / (B * (B - 1)) / ema
    assert torch.allclose(S.grad, expected, atol=1e-12)
    assert float(state.log_ema) == pytest.approx(math.log(ema), abs=1e-12)


# ------------------------------------------------------------------ input errors
@pytest.mark.parametrize("call, argument", [
    (lambda: minibatch_loss("infonce", torch.zeros(1, 1)), "scores"),
    (lambda: minibatch_loss("infonce_anchor", torch.zeros(1, 1)), "scores"),
    (lambda: minibatch_loss("dv", torch.zeros(1, 1)), "scores"),
    (lambda: minibatch_loss("dv", torch.zeros(3, 4)), "scores"),
    (lambda: minibatch_loss("dv", torch.zeros(3)), "scores"),
    (lambda: minibatch_loss("nwj", torch.tensor([[0.0, float("nan")], [0.0, 0.0]])), "scores"),
    (lambda: minibatch_loss("js", torch.tensor([[0.0, float("inf")], [0.0, 0.0]])), "scores"),
    (lambda: minibatch_loss("infonce_anchor", torch.zeros(4, 4), nu=0.0), "nu"),
    (lambda: minibatch_loss("infonce_anchor", torch.zeros(4, 4), nu=-1.0), "nu"),
    (lambda: minibatch_loss("infonce_anchor", torch.zeros(4, 4), K=4), "K"),
    (lambda: minibatch_loss("infonce", torch.zeros(4, 4), K=5), "K"),
    (lambda: minibatch_loss("infonce", torch.zeros(4, 4), nu=1.0), "nu"),
    (lambda: minibatch_loss("smile", torch.zeros(4, 4)), "tau"),
    (lambda: minibatch_loss("power", torch.zeros(4, 4)), "alpha"),
    (lambda: minibatch_loss("nope", torch.zeros(4, 4)), "name"),
    (lambda: minibatch_loss("dv", torch.zeros(2, 2), weights=(np.eye(2) / 2,)), "weights"),
    (lambda: minibatch_loss("dv", torch.zeros(2, 2), weights=(np.eye(3) / 3, np.eye(3) / 3)),
     "weights"),
    (lambda: minibatch_loss("dv", torch.zeros(2, 2), weights=(np.eye(2), np.eye(2) / 2)),
     "weights"),
    (lambda: minibatch_loss("infonce", torch.zeros(2, 2), weights=(np.eye(2) / 2,) * 2),
     "weights"),
    (lambda: minibatch_loss("dv", np.zeros((2, 2))), "scores"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(InputError) as info:
        call()
    assert str(info.value).startswith(f"{argument}:"), str(info.value)


# ------------------------------------------------------------------ the report's claim
def test_table1_claim_is_verified_through_the_torch_losses():
    res = run_claim(load()["table1.estimators"])
    assert res.outcome.status == "verified-exact", res.outcome.evidence
    assert max(res.outcome.details["gaps_nats"].values()) < 1e-12


def test_table1_claim_is_open_without_torch(monkeypatch):
    monkeypatch.setattr(sampling, "torch_or_none", lambda: None)
    out = estimator_claims.check_table1_estimators()
    assert out.status == "open" and "torch" in out.evidence


# ------------------------------------------------------------------ reviewers' comparisons
@pytest.mark.parametrize("B, K", [(3, 2), (3, 3), (4, 3)])
@pytest.mark.parametrize("alpha", [0.1, 0.5])
def test_alpha_infonce_minibatch_expectation_is_d_alpha(joint, critic, B, K, alpha):
    """Reference: numerics.exact.estimators.alpha_infonce (Laplace method), transposed joint."""
    got = batch_average(joint, critic, B, "alpha_infonce", K=K, alpha=alpha)
    exact = mi.mi_estimator("alpha_infonce", critic.T, joint.T, K=K, alpha=alpha).loss
    assert got == pytest.approx(exact, abs=1e-12)


def test_alpha_infonce_at_one_over_k_is_infonce():
    torch.manual_seed(0)
    S = torch.randn(2, 6, 6, dtype=torch.float64) * 3
    a = minibatch_loss("alpha_infonce", S, K=5, alpha=1 / 5)
    b = minibatch_loss("infonce", S, K=5)
    assert torch.allclose(a.bound_nats, b.bound_nats, atol=1e-12)


def test_mlinfonce_batch_value_is_the_softmax_formula():
    """Transcribed independently: each positive's log-probability among all B^2 scores,
    plus log(n m) = log(B^2)."""
    torch.manual_seed(1)
    S = torch.randn(5, 5, dtype=torch.float64) * 4
    probs = torch.softmax(S.flatten(), 0).reshape(5, 5)
    expected = float(torch.log(25 * torch.diagonal(probs)).mean())
    out = minibatch_loss("mlinfonce", S)
    assert float(out.bound_nats) == pytest.approx(expected, abs=1e-12)
    assert float(out.loss) == pytest.approx(-expected, abs=1e-12)
    big = minibatch_loss("mlinfonce", S * 1e4)
    assert torch.isfinite(big.loss)


@pytest.mark.parametrize("kw, argument", [({"alpha": 0.0}, "alpha"), ({"alpha": 1.5}, "alpha"),
                                         ({}, "alpha"), ({"alpha": 0.5, "K": 1}, "K"),
                                         ({"alpha": 0.5, "nu": 1.0}, "nu")])
def test_alpha_infonce_bad_input(kw, argument):
    with pytest.raises(InputError) as info:
        minibatch_loss("alpha_infonce", torch.zeros(4, 4), **kw)
    assert info.value.argument == argument
