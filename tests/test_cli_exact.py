"""``infonce-anchor kjs | divergence | bounds``: output, JSON and the one-line errors."""

from __future__ import annotations

import json
import math

import pytest

from infonce_anchor.cli import main


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


Q = ("--q1", "0.5,0.3,0.2", "--q0", "0.2,0.3,0.5")


def test_kjs_json_has_nats_bits_method_and_error(capsys):
    rc, out, _ = run(capsys, "kjs", *Q, "--K", "64", "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["value_bits"] == pytest.approx(d["value_nats"] / math.log(2))
    assert d["method"] in ("types", "laplace") and d["error_estimate_nats"] < 1e-9
    assert 0 < d["value_nats"] <= min(d["kl_nats"], d["log_K_nats"])


def test_kjs_text_labels_units(capsys):
    rc, out, _ = run(capsys, "kjs", *Q, "--K", "4")
    assert rc == 0 and "nats" in out and "bits" in out


def test_kjs_methods_agree_through_the_cli(capsys):
    values = []
    for method in ("enumerate", "types", "laplace"):
        rc, out, _ = run(capsys, "kjs", *Q, "--K", "3", "--method", method, "--json")
        values.append(json.loads(out)["value_nats"])
    assert max(values) - min(values) < 1e-12


def test_kjs_dps_prints_the_digits(capsys):
    rc, out, _ = run(capsys, "kjs", *Q, "--K", "1000000", "--dps", "30", "--json")
    d = json.loads(out)
    assert d["dps"] == 30 and len(d["value_nats_digits"].replace("0.", "", 1)) >= 29


def test_divergence_log_reports_anchored_divergence_and_excess(capsys):
    rc, out, _ = run(capsys, "divergence", "--rule", "log", "--K", "4", "--nu", "1", *Q,
                     "--critic", "2,1,0.5", "--json")
    assert rc == 0
    d = json.loads(out)
    assert 0 < d["anchored_divergence_nats"] <= d["prior_entropy_nats"]
    assert d["excess_risk_nats"] > 0
    # I = H(prior) - L(r*) and -L(r*) = divergence
    assert d["anchored_divergence_nats"] == pytest.approx(
        d["prior_entropy_nats"] + d["divergence_nats"], abs=1e-12)


def test_divergence_brier_needs_no_alpha(capsys):
    rc, out, _ = run(capsys, "divergence", "--rule", "brier", "--K", "3", "--nu", "1", *Q,
                     "--json")
    assert rc == 0 and json.loads(out)["divergence_nats"] is not None


def test_bounds_table_and_plot(capsys, tmp_path):
    plot = tmp_path / "b.png"
    rc, out, _ = run(capsys, "bounds", *Q, "--K", "1,2,4,...,64", "--plot", str(plot), "--json")
    assert rc == 0
    d = json.loads(out)
    assert [r["K"] for r in d["rows"]] == [1, 2, 4, 8, 16, 32, 64]
    assert plot.stat().st_size > 1000
    kjs = [r["kjs_nats"] for r in d["rows"]]
    assert kjs == sorted(kjs)  # D_KJS grows with K
    assert all(r["kjs_nats"] <= r["log_K_nats"] + 1e-12 for r in d["rows"])


def test_bounds_text_flags_the_failing_thm2_term(capsys, tmp_path):
    # q1 a point mass: D_KJS exceeds D - log((e^D - 1)/K + 1) at every K >= 2 (claim thm2.c)
    rc, out, _ = run(capsys, "bounds", "--q1", "1,0", "--q0", "0.5,0.5", "--K", "2,4",
                     "--no-plot")
    assert rc == 0 and "NO" in out and "fails" in out


@pytest.mark.parametrize("argv, argument", [
    (("kjs", "--q1", "0.5,-0.3,0.8", "--q0", "0.2,0.3,0.5", "--K", "2"), "q1"),
    (("kjs", "--q1", "0.5,0.3,0.3", "--q0", "0.2,0.3,0.5", "--K", "2"), "q1"),
    (("kjs", "--q1", "0.5,0.5", "--q0", "0.2,0.3,0.5", "--K", "2"), "q0"),
    (("kjs", *Q, "--K", "0"), "K"),
    (("kjs", *Q, "--K", "2.5"), "K"),
    (("kjs", *Q, "--K", "2", "--method", "magic"), "method"),
    (("kjs", *Q, "--K", "2", "--dps", "5"), "dps"),
    (("kjs", "--q1", "nan,1", "--q0", "0.5,0.5", "--K", "2"), "q1"),
    (("divergence", "--rule", "log", "--K", "1", "--nu", "0", *Q), "nu"),
    (("divergence", "--rule", "log", "--K", "2", "--nu", "-1", *Q), "nu"),
    (("divergence", "--rule", "power", "--K", "2", "--nu", "1", *Q), "alpha"),
    (("divergence", "--rule", "nope", "--K", "2", "--nu", "1", *Q), "rule"),
    (("divergence", "--rule", "log", "--K", "2", "--nu", "1", *Q, "--critic", "1,0,1"), "r"),
    (("bounds", *Q, "--K", "0,1", "--no-plot"), "--K"),
])
def test_bad_input_is_one_error_line_naming_the_argument(capsys, argv, argument):
    rc, out, err = run(capsys, *argv)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {argument}:"), err


@pytest.mark.parametrize("command", [["kjs", "--K", "4"], ["bounds", "--K", "2,4", "--no-plot"],
                                     ["divergence", "--rule", "log", "--K", "4", "--nu", "1"]])
def test_unnormalised_input_names_the_command_line_flag(capsys, command):
    """issue #11: the CLI said "pass normalize=True", a Python keyword; it says --normalize."""
    rc, out, err = run(capsys, *command, "--q1", "0.5,0.3,0.3", "--q0", "0.5,0.5")
    assert rc == 2 and "--normalize" in err and "normalize=True" not in err
    assert err.startswith("error: q1:")
    rc, out, _ = run(capsys, *command, "--q1", "0.5,0.3,0.3", "--q0", "0.5,0.5,0.2",
                     "--normalize", "--json")
    assert rc == 0 and json.loads(out)
