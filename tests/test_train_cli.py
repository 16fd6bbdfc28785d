"""``infonce-anchor train``: JSON keys, exact targets, results file and the one-line errors."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from infonce_anchor.cli import main  # noqa: E402
from numerics.exact.mi import mi_kway_jsd, mutual_information  # noqa: E402

JOINT = np.array([[0.20, 0.05, 0.05],
                  [0.03, 0.25, 0.02],
                  [0.05, 0.05, 0.30]])


@pytest.fixture
def joint_file(tmp_path):
    path = tmp_path / "joint.npy"
    np.save(path, JOINT)
    return str(path)


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


def base(joint_file, estimator="infonce_anchor", critic="tabular", B="16", steps="10"):
    return ["train", "--joint", joint_file, "--estimator", estimator, "--critic", critic,
            "--batch-size", B, "--steps", steps, "--seed", "0", "--lr", "0.01", "--quiet",
            "--eval-batches", "3", "--device", "cpu"]


KEYS = {"estimator", "bound_nats", "plugin_nats", "true_mi_nats", "kjs_target_nats",
        "estimate_nats", "device", "seed", "steps", "batch_size"}


def test_json_keys_and_exact_targets(capsys, joint_file):
    rc, out, _ = run(capsys, *base(joint_file), "--json")
    assert rc == 0
    d = json.loads(out)
    assert KEYS <= set(d)
    assert d["estimator"] == "infonce_anchor" and d["kind"] == "plug-in"
    assert d["bound_nats"] is None and d["estimate_nats"] == d["plugin_nats"]
    assert d["true_mi_nats"] == pytest.approx(mutual_information(JOINT), abs=1e-15)
    # the slot losses contrast the y's of each x: D_KJS on the transposed joint, K = B - 1
    assert d["kjs_target_nats"] == pytest.approx(mi_kway_jsd(JOINT.T, 15), abs=1e-15)
    assert (d["device"], d["seed"], d["steps"], d["batch_size"]) == ("cpu", 0, 10, 16)


def test_bound_estimator_reports_the_bound(capsys, joint_file):
    rc, out, _ = run(capsys, *base(joint_file, "infonce", "separable"), "--hidden", "16",
                     "--json")
    d = json.loads(out)
    assert rc == 0 and d["kind"] == "bound" and d["estimate_nats"] == d["bound_nats"]
    assert d["bound_nats"] <= np.log(15) + 1e-9


def test_runs_give_lists_and_out_writes_rows(capsys, joint_file, tmp_path):
    out_file = tmp_path / "results.csv"
    rc, out, _ = run(capsys, *base(joint_file, "smile"), "--tau", "5", "--runs", "2",
                     "--out", str(out_file), "--json")
    d = json.loads(out)
    assert rc == 0 and len(d["bound_nats"]) == 2 and len(d["plugin_nats"]) == 2
    with out_file.open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["seed"] for r in rows] == ["0", "1"]
    assert float(rows[0]["kjs_target_nats"]) == pytest.approx(d["kjs_target_nats"])
    assert float(rows[1]["bound_nats"]) == pytest.approx(d["bound_nats"][1])


def test_text_output_labels_units(capsys, joint_file):
    rc, out, _ = run(capsys, *base(joint_file, steps="2"))
    assert rc == 0 and "nats" in out and "bits" in out and "true MI" in out


def test_same_seed_same_json(capsys, joint_file):
    first = json.loads(run(capsys, *base(joint_file, "nwj"), "--json")[1])
    second = json.loads(run(capsys, *base(joint_file, "nwj"), "--json")[1])
    first.pop("seconds"), second.pop("seconds")
    assert first == second


@pytest.fixture
def bad_files(tmp_path):
    np.save(tmp_path / "vector.npy", np.array([0.5, 0.5]))
    np.save(tmp_path / "cube.npy", np.full((2, 2, 2), 0.125))
    np.save(tmp_path / "sum.npy", np.array([[0.5, 0.6]]))
    np.save(tmp_path / "negative.npy", np.array([[1.5, -0.5]]))
    (tmp_path / "text.npy").write_text("not an array\n")
    return tmp_path


@pytest.mark.parametrize("change,argument", [
    ({"--joint": "{dir}/absent.npy"}, "--joint"),
    ({"--joint": "{dir}/vector.npy"}, "--joint"),
    ({"--joint": "{dir}/cube.npy"}, "--joint"),
    ({"--joint": "{dir}/sum.npy"}, "--joint"),
    ({"--joint": "{dir}/negative.npy"}, "--joint"),
    ({"--joint": "{dir}/text.npy"}, "--joint"),
    ({"--estimator": "cpc"}, "--estimator"),
    ({"--critic": "mlp"}, "--critic"),
    ({"--batch-size": "1"}, "--batch-size"),
    ({"--batch-size": "two"}, "--batch-size"),
    ({"--estimator": "infonce", "--batch-size": "1"}, "--batch-size"),
    ({"--steps": "-3"}, "--steps"),
    ({"--lr": "0"}, "--lr"),
    ({"--K": "16"}, "--K"),
    ({"--nu": "0"}, "--nu"),
    ({"--estimator": "smile"}, "--tau"),
    ({"--estimator": "power"}, "--alpha"),
    ({"--device": "tpu"}, "--device"),
    ({"--out": "{dir}/results.txt"}, "--out"),
])
def test_errors_are_one_line_exit_2(capsys, joint_file, bad_files, change, argument):
    argv = base(joint_file, steps="1")
    for flag, value in change.items():
        value = value.format(dir=bad_files)
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {argument}: "), err


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_without_cuda_is_one_line(capsys, joint_file):
    argv = base(joint_file)
    argv[argv.index("--device") + 1] = "cuda"
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and err.strip() == "error: --device: CUDA is not available on this " \
        "machine; use cpu"


def test_normalize_rescales(capsys, tmp_path):
    path = tmp_path / "counts.npy"
    np.save(path, JOINT * 100)
    argv = base(str(path), steps="1") + ["--json"]
    rc, _, err = run(capsys, *argv)
    assert rc == 2 and "--normalize" in err
    rc, out, _ = run(capsys, *argv, "--normalize")
    assert rc == 0
    assert json.loads(out)["true_mi_nats"] == pytest.approx(mutual_information(JOINT))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_device(capsys, joint_file):
    argv = base(joint_file, "infonce", "joint")
    argv[argv.index("--device") + 1] = "cuda"
    rc, out, _ = run(capsys, *argv, "--json")
    assert rc == 0 and json.loads(out)["device"].startswith("cuda")
