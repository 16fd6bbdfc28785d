"""MI forms (``numerics.exact.mi``) of the objectives and estimators against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from numerics.exact import mi
from numerics.exact.kjs import kway_jsd
from theory.errors import InputError


@pytest.fixture
def joint():
    return np.random.default_rng(11).dirichlet(np.ones(6)).reshape(2, 3)


def test_dv_and_nwj_at_the_pmi_equal_the_mi(joint):
    r = np.exp(mi.pmi(joint))
    truth = mi.mutual_information(joint)
    assert mi.mi_estimator("dv", r, joint).estimate == pytest.approx(truth, abs=1e-14)
    assert mi.mi_estimator("nwj", r, joint).estimate == pytest.approx(truth, abs=1e-14)


def test_anchor_plug_in_at_the_pmi_is_the_mi_and_infonce_is_the_averaged_kjs(joint):
    r = np.exp(mi.pmi(joint))
    truth = mi.mutual_information(joint)
    assert mi.mi_estimator("infonce_anchor", r, joint, K=3, nu=1.0).estimate == \
        pytest.approx(truth, abs=1e-14)
    # the averaged K-way JSD written out: sum_y p(y) D_KJS(p(x|y), p(x))
    px, py = joint.sum(1), joint.sum(0)
    averaged = sum(py[y] * kway_jsd(joint[:, y] / py[y], px, 3) for y in range(3))
    assert mi.mi_estimator("infonce", r, joint, K=3).estimate == pytest.approx(averaged, abs=1e-13)
    assert mi.mi_kway_jsd(joint, 3) == pytest.approx(averaged, abs=1e-13)
    assert averaged < truth


def test_mi_population_objective_is_minimal_at_the_pmi(joint):
    r_star = np.exp(mi.pmi(joint))
    best = mi.mi_population_objective("log", r_star, joint, 2, 1.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        r = r_star * np.exp(rng.normal(0, 0.3, r_star.shape))
        assert mi.mi_population_objective("log", r, joint, 2, 1.0) > best


def test_joint_errors_name_the_argument():
    with pytest.raises(InputError, match="joint"):
        mi.mutual_information([0.5, 0.5])
    with pytest.raises(InputError, match="joint"):
        mi.mutual_information([[0.5, 0.6], [0.0, 0.0]])
    with pytest.raises(InputError, match="critic"):
        mi.mi_estimator("dv", np.zeros((2, 2)), [[0.25, 0.25], [0.25, 0.25]])
