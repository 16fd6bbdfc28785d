"""The public torch loss API of ``numerics.neural.losses`` (issue #10, item 4).

* Every public function gives the dispatcher's :class:`LossOutput` (loss, bound, plug-in, kind
  and gradients) for the same options, and the module wrappers give the function's.
* Values from outside the module: InfoNCE against ``torch.nn.functional.cross_entropy``,
  InfoNCE-anchor against Eq. 4 written out with Python loops, the population values against
  ``numerics.exact.mi`` (numpy), MINE's moving average against its update rule, the estimate's
  kind against Table 1's types, bits against ``nats / log 2``.
* Leading dimensions are independent runs; the modules train a small separable critic; bad input
  raises ``InputError`` naming the argument; the README's example runs (:func:`readme_example`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")


from numerics.exact import mi  # noqa: E402
from numerics.neural.critics import make_critic  # noqa: E402
from numerics.neural.losses import (  # noqa: E402
    LOSSES,
    ContrastiveLoss,
    InfoNCEAnchorLoss,
    InfoNCELoss,
    LossOutput,
    MineState,
    alpha_infonce_loss,
    drf_loss,
    dv_loss,
    fdime_loss,
    infonce_anchor_loss,
    infonce_loss,
    js_loss,
    loss_function,
    mine_loss,
    minibatch_loss,
    mlinfonce_loss,
    nwj_loss,
    scoring_rule_loss,
    smile_loss,
)
from theory.errors import InputError  # noqa: E402


@dataclass(frozen=True)
class Case:
    """A loss by its LOSSES ``name`` and by its public ``function`` (with the keywords the name
    ``fixes``), with ``options`` that all three forms (function, dispatcher, module) take."""

    name: str
    function: Callable[..., LossOutput]
    options: dict = field(default_factory=dict)
    fixes: dict = field(default_factory=dict)

    def call(self, scores: torch.Tensor) -> LossOutput:
        state = {"state": MineState()} if self.name == "mine" else {}
        return self.function(scores, **self.fixes, **self.options, **state)

    def label(self) -> str:
        return "-".join([self.name, *(f"{k}{v}" for k, v in self.options.items())])


CASES = [
    Case("dv", dv_loss), Case("nwj", nwj_loss), Case("mine", mine_loss), Case("js", js_loss),
    Case("smile", smile_loss, {"tau": 1.5}), Case("drf", drf_loss),
    Case("fdime_kl", fdime_loss, fixes={"divergence": "kl"}),
    Case("fdime_gan", fdime_loss, fixes={"divergence": "gan"}),
    Case("fdime_hellinger", fdime_loss, fixes={"divergence": "hellinger"}),
    Case("infonce", infonce_loss), Case("infonce", infonce_loss, {"K": 5}),
    Case("infonce", infonce_loss, {"K": 2}),
    Case("infonce_anchor", infonce_anchor_loss),
    Case("infonce_anchor", infonce_anchor_loss, {"nu": 0.5, "K": 3}),
    Case("power", scoring_rule_loss, {"alpha": 2.0}, {"rule": "power"}),
    Case("power", scoring_rule_loss, {"alpha": 0.5, "nu": 0.0}, {"rule": "power"}),
    Case("pseudo_spherical", scoring_rule_loss, {"alpha": 1.5, "nu": 3.0},
         {"rule": "pseudo_spherical"}),
    Case("sym_inverse_log", scoring_rule_loss, {"nu": 0.5, "K": 4}, {"rule": "sym_inverse_log"}),
    Case("alpha_infonce", alpha_infonce_loss, {"alpha": 0.3}),
    Case("alpha_infonce", alpha_infonce_loss, {"alpha": 0.5, "K": 2}),
    Case("mlinfonce", mlinfonce_loss),
]
IDS = [c.label() for c in CASES]
#: Table 1: Types 1-2 report their bound, Type 3 (and the scoring rules) the plug-in E_p[c]
REPORTS_A_BOUND = {"dv", "nwj", "mine", "js", "smile", "infonce", "alpha_infonce", "mlinfonce"}
SINGLE_SLOT = [c for c in CASES if c.name in ("dv", "nwj", "mine", "js", "smile", "drf",
                                              "fdime_kl", "fdime_gan", "fdime_hellinger")]


def random_scores(*shape: int, seed: int = 0, scale: float = 2.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen, dtype=torch.float64) * scale


def output_and_gradient(loss: Callable[[torch.Tensor], LossOutput], scores: torch.Tensor):
    leaf = scores.clone().requires_grad_(True)
    out = loss(leaf)
    out.loss.sum().backward()
    return out, leaf.grad


def assert_same_output(got: LossOutput, expected: LossOutput) -> None:
    assert got.kind == expected.kind
    torch.testing.assert_close(got.loss, expected.loss, rtol=0, atol=1e-12)
    torch.testing.assert_close(got.plugin_nats, expected.plugin_nats, rtol=0, atol=1e-12)
    assert (got.bound_nats is None) == (expected.bound_nats is None)
    if expected.bound_nats is not None:
        torch.testing.assert_close(got.bound_nats, expected.bound_nats, rtol=0, atol=1e-12)


# ------------------------------------------------------------------ one source of truth
def test_every_loss_name_has_a_public_function_and_a_case_here():
    assert {c.name for c in CASES} == set(LOSSES)
    for case in CASES:
        function = loss_function(case.name)
        assert getattr(function, "func", function) is case.function
        assert getattr(function, "keywords", {}) == case.fixes


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_public_function_equals_the_dispatcher(case):
    S = random_scores(2, 6, 6)
    public, public_grad = output_and_gradient(case.call, S)
    by_name, by_name_grad = output_and_gradient(
        lambda s: minibatch_loss(case.name, s, **case.options), S)
    assert_same_output(public, by_name)
    torch.testing.assert_close(public_grad, by_name_grad, rtol=0, atol=1e-12)
    assert public.loss.shape == (2,)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_module_equals_the_public_function(case):
    S = random_scores(6, 6, seed=1)
    module, module_grad = output_and_gradient(ContrastiveLoss(case.name, **case.options), S)
    public, public_grad = output_and_gradient(case.call, S)
    assert_same_output(module, public)
    torch.testing.assert_close(module_grad, public_grad, rtol=0, atol=1e-12)


def test_named_modules_are_their_functions():
    S = random_scores(7, 7, seed=2)
    assert_same_output(InfoNCELoss(K=4)(S), infonce_loss(S, K=4))
    assert_same_output(InfoNCEAnchorLoss(nu=0.5, K=3)(S), infonce_anchor_loss(S, nu=0.5, K=3))
    assert_same_output(InfoNCEAnchorLoss()(S), infonce_anchor_loss(S))


# ------------------------------------------------------------------ values from outside
@pytest.mark.parametrize("B", [2, 5, 8])
def test_infonce_over_every_column_is_the_cross_entropy(B):
    """Reference: torch's cross-entropy of each row's softmax at its diagonal (K = B)."""
    S = random_scores(B, B, seed=B)
    cross_entropy = torch.nn.functional.cross_entropy(S, torch.arange(B))
    out = infonce_loss(S, K=B)
    assert float(out.loss) == pytest.approx(float(cross_entropy), abs=1e-12)
    assert float(out.bound_nats) == pytest.approx(math.log(B) - float(cross_entropy), abs=1e-12)


def test_infonce_default_masks_one_column_per_row():
    """Appendix B's K = B - 1: row i drops column i - 1; reference: cross-entropy on the rest."""
    B = 6
    S = random_scores(B, B, seed=3)
    masked = S.clone()
    masked[torch.arange(B), (torch.arange(B) - 1) % B] = -math.inf
    cross_entropy = torch.nn.functional.cross_entropy(masked, torch.arange(B))
    assert float(infonce_loss(S).loss) == pytest.approx(float(cross_entropy), abs=1e-12)


def eq4_with_loops(S: torch.Tensor, nu: float, K: int) -> float:
    """Eq. 4 on a minibatch, one row at a time: row i's slots are columns i..i+K-1 (joint term)
    and i+1..i+K (noise term), mod B (the module docstring's convention)."""
    B = S.shape[0]
    s = S.tolist()
    joint = noise = 0.0
    for i in range(B):
        slots = [math.exp(s[i][(i + k) % B]) for k in range(K)]
        noisy = [math.exp(s[i][(i + 1 + k) % B]) for k in range(K)]
        joint -= math.log(math.exp(s[i][i]) / (nu + sum(slots))) / B
        noise -= math.log(nu / (nu + sum(noisy))) / B
    return K / (K + nu) * joint + nu / (K + nu) * noise


@pytest.mark.parametrize("B, nu, K", [(5, 1.0, 4), (6, 0.3, 2), (4, 7.0, 1)])
def test_infonce_anchor_is_eq4_written_out(B, nu, K):
    S = random_scores(B, B, seed=B)
    out = infonce_anchor_loss(S, nu=nu, K=K)
    assert float(out.loss) == pytest.approx(eq4_with_loops(S, nu, K), abs=1e-12)


PARAMS = {"smile": {"tau": 1.5}}


@pytest.mark.parametrize("case", SINGLE_SLOT, ids=[c.label() for c in SINGLE_SLOT])
def test_population_weights_give_the_exact_value(case):
    """Reference: numerics.exact.mi.mi_estimator (numpy, from the definitions) on a 3 x 2 joint."""
    joint = np.random.default_rng(7).dirichlet(np.ones(6)).reshape(3, 2)
    critic = np.exp(np.random.default_rng(8).normal(0, 0.7, (3, 2)))
    product = np.outer(joint.sum(1), joint.sum(0))
    S = torch.tensor(np.log(critic), dtype=torch.float64)
    state = {"state": MineState()} if case.name == "mine" else {}
    out = case.function(S, weights=(joint, product), **case.fixes, **case.options, **state)
    ref = mi.mi_estimator(case.name, critic, joint, **PARAMS.get(case.name, {}))
    assert float(out.loss) == pytest.approx(ref.loss, abs=1e-12)
    assert float(out.estimate_nats) == pytest.approx(ref.estimate, abs=1e-12)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_estimate_is_named_with_its_kind_and_unit(case):
    S = random_scores(3, 5, 5, seed=4)
    out = case.call(S)
    expected_kind = "bound" if case.name in REPORTS_A_BOUND else "plug-in"
    assert out.kind == expected_kind
    diagonal_mean = torch.diagonal(S, dim1=-2, dim2=-1).mean(-1)
    torch.testing.assert_close(out.plugin_nats, diagonal_mean, rtol=0, atol=1e-12)
    expected = out.bound_nats if expected_kind == "bound" else diagonal_mean
    assert (out.bound_nats is None) == (expected_kind == "plug-in")
    torch.testing.assert_close(out.estimate_nats, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(out.estimate_bits, out.estimate_nats / math.log(2), rtol=1e-15,
                               atol=0)


def test_mine_module_keeps_its_own_moving_average():
    """Reference: the update rule ``ema <- m ema + (1 - m) mean_{i != j} e^{S_ij}``."""
    first, other = ContrastiveLoss("mine", momentum=0.8), ContrastiveLoss("mine")
    S1, S2 = random_scores(4, 4, seed=5), random_scores(4, 4, seed=6)
    off_diagonal = ~torch.eye(4, dtype=torch.bool)
    batch1, batch2 = (float(torch.exp(S[off_diagonal]).mean()) for S in (S1, S2))
    first(S1)
    assert float(first.mine_state.log_ema) == pytest.approx(math.log(batch1), abs=1e-12)
    first(S2)
    assert float(first.mine_state.log_ema) == \
        pytest.approx(math.log(0.8 * batch1 + 0.2 * batch2), abs=1e-12)
    assert other.mine_state.log_ema is None and other.mine_state.momentum == 0.99


# ------------------------------------------------------------------ shapes
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leading_dimensions_are_independent_runs(case):
    S = random_scores(2, 3, 6, 6, seed=9)
    together = case.call(S)
    assert together.loss.shape == together.plugin_nats.shape == (2, 3)
    for a in range(2):
        for b in range(3):
            assert_same_output(case.call(S[a, b]), LossOutput(
                together.loss[a, b],
                None if together.bound_nats is None else together.bound_nats[a, b],
                together.plugin_nats[a, b], together.kind))


# ------------------------------------------------------------------ training
def correlated_batch(B: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(B, 2, generator=gen)
    return x, 0.8 * x + 0.6 * torch.randn(B, 2, generator=gen)


MODULES = [(c.label(), lambda c=c: ContrastiveLoss(c.name, **c.options)) for c in CASES] + [
    ("InfoNCELoss", InfoNCELoss), ("InfoNCEAnchorLoss", InfoNCEAnchorLoss)]


@pytest.mark.parametrize("make_loss", [m for _, m in MODULES], ids=[n for n, _ in MODULES])
def test_a_few_adam_steps_lower_the_loss_of_a_separable_critic(make_loss):
    critic = make_critic("separable", dx=2, dy=2, hidden=16, layers=1, embed=4, seed=0)
    loss_fn = make_loss()
    x, y = correlated_batch(16, seed=0)
    optimiser = torch.optim.Adam(critic.parameters(), lr=1e-2)
    start = float(loss_fn(critic(x, y)).loss.detach())
    for _ in range(30):
        out = loss_fn(critic(x, y))
        optimiser.zero_grad()
        out.loss.backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all()
                   for p in critic.parameters())
        optimiser.step()
    assert float(loss_fn(critic(x, y)).loss.detach()) < start


# ------------------------------------------------------------------ input errors
Z = torch.zeros(4, 4)
BAD_INPUT = [
    (lambda: infonce_loss(np.zeros((4, 4))), "scores"),
    (lambda: dv_loss(torch.zeros(3)), "scores"),
    (lambda: nwj_loss(torch.zeros(1, 1)), "scores"),
    (lambda: js_loss(torch.zeros(3, 4)), "scores"),
    (lambda: drf_loss(torch.tensor([[0.0, math.nan], [0.0, 0.0]])), "scores"),
    (lambda: infonce_loss(Z, K=5), "K"),
    (lambda: infonce_loss(Z, K=0), "K"),
    (lambda: infonce_loss(Z, K=2.0), "K"),
    (lambda: infonce_anchor_loss(Z, K=4), "K"),
    (lambda: infonce_anchor_loss(Z, nu=0.0), "nu"),
    (lambda: infonce_anchor_loss(Z, nu=-1.0), "nu"),
    (lambda: infonce_anchor_loss(Z, nu=math.inf), "nu"),
    (lambda: infonce_anchor_loss(Z, nu="one"), "nu"),
    (lambda: smile_loss(Z, tau=0.0), "tau"),
    (lambda: smile_loss(Z, tau=None), "tau"),
    (lambda: fdime_loss(Z, divergence="chi2"), "divergence"),
    (lambda: scoring_rule_loss(Z, rule="power"), "alpha"),
    (lambda: scoring_rule_loss(Z, rule="sym_inverse_log", alpha=2.0), "alpha"),
    (lambda: scoring_rule_loss(Z, rule="pseudo_spherical", alpha=0.5), "alpha"),
    (lambda: scoring_rule_loss(Z, rule="kliep"), "rule"),
    (lambda: scoring_rule_loss(Z, rule="nope"), "rule"),
    (lambda: scoring_rule_loss(Z, rule="log", nu=-0.5), "nu"),
    (lambda: alpha_infonce_loss(Z, alpha=0.0), "alpha"),
    (lambda: alpha_infonce_loss(Z, alpha=1.5), "alpha"),
    (lambda: alpha_infonce_loss(Z, alpha=0.5, K=1), "K"),
    (lambda: mine_loss(Z, state=None), "state"),
    (lambda: MineState(momentum=1.0), "momentum"),
    (lambda: dv_loss(torch.zeros(2, 2), weights=(np.eye(2) / 2,)), "weights"),
    (lambda: minibatch_loss("power", Z, alpha=2.0, weights=(Z, Z)), "weights"),
    (lambda: ContrastiveLoss("nope"), "name"),
    (lambda: ContrastiveLoss("infonce", nu=1.0), "nu"),
    (lambda: ContrastiveLoss("smile"), "tau"),
    (lambda: ContrastiveLoss("dv", momentum=0.9), "momentum"),
    (lambda: ContrastiveLoss("mine", momentum=1.5), "momentum"),
    (lambda: InfoNCEAnchorLoss(nu=-1.0)(Z), "nu"),
    (lambda: InfoNCELoss()(torch.zeros(4)), "scores"),
]


@pytest.mark.parametrize("call, argument", BAD_INPUT, ids=[f"{a}-{i}" for i, (_, a) in
                                                          enumerate(BAD_INPUT)])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(InputError) as info:
        call()
    assert info.value.argument == argument
    assert str(info.value).startswith(f"{argument}:")


# ------------------------------------------------------------------ the README's example
README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def one_thread():
    """One intra-op thread: on a shared, busy CPU torch's spinning threads made the example's
    1000 small steps take minutes instead of seconds (the numbers are the same)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_readme_example_estimates_the_gaussian_mi(capsys, one_thread):
    """The README's block ("Estimating MI on your own data"), run as written.  Reference: the
    Gaussian MI ``-(d/2) log(1 - rho^2)`` with d = 2, rho = 0.8 (the block's own data).
    Tolerance 0.3 nats: the plug-in of a 1000-step critic varies by about +-0.15 nats over
    seeds (seed 0 gives 1.09 nats)."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    example = [b for b in blocks if "InfoNCEAnchorLoss(" in b]
    assert len(example) == 1, "the README has one InfoNCEAnchorLoss example"
    namespace: dict = {}
    exec(compile(example[0], "README.md", "exec"), namespace)
    out = namespace["out"]
    true_mi = -(2 / 2) * math.log(1 - 0.8 ** 2)
    assert out.kind == "plug-in"
    assert float(out.estimate_nats) == pytest.approx(true_mi, abs=0.3)
    printed = capsys.readouterr().out
    nats, bits = (float(v) for v in re.fullmatch(
        r"MI = (\S+) nats = (\S+) bits \(plug-in\)\n", printed).groups())
    assert nats == pytest.approx(float(out.estimate_nats), abs=5e-4)
    assert bits == pytest.approx(nats / math.log(2), abs=1e-3)
