"""Compiled objectives (numpy, mpmath, torch) agree with sympy's own evaluation."""

from __future__ import annotations

import random
from functools import lru_cache

import mpmath
import numpy as np
import pytest
import sympy as sp

from theory import catalogue, dre
from theory.compile import BACKENDS, compile_expr, compile_objective
from theory.errors import InputError
from theory.symbols import ALPHA, NU


@lru_cache(maxsize=None)
def objective(name: str, K: int):
    # propriety is not the subject here (see test_propriety.py)
    return dre.dre_objective(catalogue.rule(name, M=K), K, NU, require_proper=False)


def random_point(names, rng: random.Random) -> dict[str, float]:
    point = {}
    for n in names:
        if n == "alpha":
            point[n] = rng.choice([1.5, 2.0, 2.5, 3.0])
        else:  # nu and the slot ratios r_i
            point[n] = rng.uniform(0.05, 5.0)
    return point


def sympy_value(expr: sp.Expr, point: dict[str, float]) -> float:
    subs = {s: sp.Float(point[str(s)], 30) for s in expr.free_symbols}
    return float(expr.xreplace(subs).evalf(30))


# ------------------------------------------------------------------------------ error paths
@pytest.mark.parametrize("backend", ["jax", "Numpy", "", "tensorflow"])
def test_unknown_backend_is_refused(backend):
    with pytest.raises(InputError) as excinfo:
        compile_expr(sp.Symbol("x"), [sp.Symbol("x")], backend)
    assert str(excinfo.value).startswith("backend:")


def test_unknown_backend_is_refused_by_compile_objective():
    with pytest.raises(InputError) as excinfo:
        compile_objective(objective("log", 2), backend="cupy")
    assert str(excinfo.value).startswith("backend:")


# ---------------------------------------------------------------------------------- numpy
CASES = [("log", 2), ("power", 2), ("sym_inverse_log", 3), ("pseudo_spherical", 2),
         ("kliep", 2), ("robust_power", 3), ("inverse_log", 1)]


@pytest.mark.parametrize("name, K", CASES)
def test_numpy_matches_sympy_evalf(name, K):
    obj = objective(name, K)
    compiled = compile_objective(obj, "numpy")
    assert [c.sampling for c in compiled] == [t.sampling for t in obj.terms]
    rng = random.Random(1)
    for term, c in zip(obj.terms, compiled):
        for _ in range(20):
            point = random_point(set(c.symbols) | set(c.weight_symbols), rng)
            got = c.integrand(*[point[s] for s in c.symbols])
            weight = c.weight(*[point[s] for s in c.weight_symbols])
            assert float(got) == pytest.approx(sympy_value(term.integrand, point), rel=1e-12,
                                               abs=1e-12)
            assert float(weight) == pytest.approx(sympy_value(term.weight, point), rel=1e-13)


def test_numpy_vectorises_and_matches_hand_formula():
    # log score, K = 2 (Eq. 4): integrands -log(r1/(nu+r1+r2)) and -log(nu/(nu+r1+r2))
    joint, noise = compile_objective(objective("log", 2), "numpy")
    rng = np.random.default_rng(0)
    values = {"nu": rng.uniform(0.1, 3, 50), "r1": rng.uniform(0.01, 10, 50),
              "r2": rng.uniform(0.01, 10, 50)}
    total = values["nu"] + values["r1"] + values["r2"]
    got_joint = joint.integrand(*[values[s] for s in joint.symbols])
    got_noise = noise.integrand(*[values[s] for s in noise.symbols])
    assert got_joint.shape == (50,)
    np.testing.assert_allclose(got_joint, -np.log(values["r1"] / total), rtol=1e-13)
    np.testing.assert_allclose(got_noise, -np.log(values["nu"] / total), rtol=1e-13)


# --------------------------------------------------------------------------------- mpmath
@pytest.mark.parametrize("name, K", [("power", 2), ("log", 3), ("kliep", 2)])
def test_mpmath_backend_keeps_precision(name, K):
    obj = objective(name, K)
    compiled = compile_objective(obj, "mpmath")
    rng = random.Random(2)
    with mpmath.workdps(40):
        for term, c in zip(obj.terms, compiled):
            for _ in range(5):
                point = {s: sp.Rational(rng.randint(1, 400), 80) for s in c.symbols}
                if "alpha" in point:
                    point["alpha"] = sp.Rational(rng.choice([3, 4, 5]), 2)
                got = c.integrand(*[mpmath.mpf(point[s].p) / point[s].q for s in c.symbols])
                assert isinstance(got, mpmath.mpf)
                exact = term.integrand.xreplace({s: point[str(s)]
                                                 for s in term.integrand.free_symbols})
                expected = mpmath.mpf(str(sp.N(exact, 45)))
                assert abs(got - expected) <= mpmath.mpf(10) ** -33 * (1 + abs(expected))


# ---------------------------------------------------------------------------------- torch
def test_torch_backend_matches_numpy():
    torch = pytest.importorskip("torch")
    assert "torch" in BACKENDS
    obj = objective("power", 2)
    rng = np.random.default_rng(3)
    for c_np, c_t in zip(compile_objective(obj, "numpy"), compile_objective(obj, "torch")):
        assert c_np.symbols == c_t.symbols
        values = {s: rng.uniform(0.1, 4, 32) for s in c_np.symbols}
        if "alpha" in values:
            values["alpha"] = np.full(32, 2.5)
        expected = c_np.integrand(*[values[s] for s in c_np.symbols])
        got = c_t.integrand(*[torch.tensor(values[s], dtype=torch.float64)
                              for s in c_t.symbols])
        assert isinstance(got, torch.Tensor)
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-12)


def test_torch_backend_is_differentiable():
    torch = pytest.importorskip("torch")
    (joint, _) = compile_objective(objective("log", 1), "torch")
    assert joint.symbols == ("nu", "r1")
    nu = torch.tensor(1.0, dtype=torch.float64)
    r1 = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    loss = joint.integrand(nu, r1)
    loss.backward()
    # d/dr [-log(r/(nu+r))] = -1/r + 1/(nu+r) = -1/2 + 1/3 at nu = 1, r = 2
    assert r1.grad.item() == pytest.approx(-1 / 2 + 1 / 3, rel=1e-14)
    assert ALPHA not in objective("log", 1).terms[0].integrand.free_symbols
