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


# --------------------------------------------------------------------- envelope (Thm 2 corrected)
def _envelope_bits(K: int) -> float:
    """U_K(2 bits) = log K - E log(1 + Bin(K-1, 1/4)), term by term (independent of numerics)."""
    e_log = sum(math.comb(K - 1, j) * 0.25**j * 0.75 ** (K - 1 - j) * math.log(1 + j)
                for j in range(K))
    return (math.log(K) - e_log) / math.log(2)


def test_envelope_text_prints_every_number_with_its_unit(capsys):
    rc, out, _ = run(capsys, "envelope", "--D", "2", "--unit", "bits", "--K", "4,64")
    assert rc == 0
    for K in (4, 64):
        assert f"K = {K}:" in out and f"{_envelope_bits(K):.10g} bits" in out
        assert f"{2 - math.log2(1 + 3 / K):.10g} bits" in out  # Thm 2's expression
    assert "not an upper bound" in out and "conjecture" in out
    numbers = [line for line in out.splitlines() if line.startswith("  ")]
    assert len(numbers) == 10 and all(line.endswith(" bits") or "(below U_K(D)" in line
                                      for line in numbers)
    assert "nats" not in out


def test_envelope_json_has_nats_and_bits(capsys):
    rc, out, _ = run(capsys, "envelope", "--D", "2", "--unit", "bits", "--K", "4,64", "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["D_bits"] == 2 and d["D_nats"] == pytest.approx(2 * math.log(2), rel=1e-15)
    for row in d["rows"]:
        K = row["K"]
        assert row["envelope_bits"] == pytest.approx(_envelope_bits(K), rel=1e-13)
        assert row["envelope_nats"] == pytest.approx(_envelope_bits(K) * math.log(2), rel=1e-13)
        assert row["closed_form_upper_bound_bits"] == pytest.approx(
            2 + math.log2(1 - 0.75**K), rel=1e-13)
        assert row["thm2_bound_bits"] == pytest.approx(2 - math.log2(1 + 3 / K), rel=1e-13)
        assert row["prop1_bound_bits"] == 2.0 and row["infimum_nats"] == 0.0
        assert row["thm2_bound_bits"] < row["envelope_bits"] < row["closed_form_upper_bound_bits"]
        assert "search" not in row


def test_envelope_in_nats_and_with_a_search(capsys):
    rc, out, _ = run(capsys, "envelope", "--D", "1.5", "--K", "3", "--search", "--json")
    assert rc == 0
    d = json.loads(out)
    assert d["unit_given"] == "nats" and d["D_nats"] == 1.5
    found = d["rows"][0]["search"]
    assert found["kl_nats"] == pytest.approx(1.5, abs=1e-7)
    assert found["excess_nats"] <= 1e-12  # never above U_K at the pair's KL
    assert found["kjs_nats"] == pytest.approx(d["rows"][0]["envelope_nats"], abs=1e-6)
    rc, out, _ = run(capsys, "envelope", "--D", "1.5", "--K", "3", "--search")
    assert rc == 0 and "search (" in out and "best D_KJS" in out


@pytest.mark.parametrize("argv, argument", [
    (("--D", "0", "--K", "4"), "--D"),
    (("--D", "-1", "--K", "4"), "--D"),
    (("--D", "two", "--K", "4"), "--D"),
    (("--D", "nan", "--K", "4"), "--D"),
    (("--D", "inf", "--K", "4"), "--D"),
    (("--D", "2", "--K", "0"), "--K"),
    (("--D", "2", "--K", "2.5"), "--K"),
    (("--D", "2", "--K", "4", "--unit", "furlongs"), "--unit"),
])
def test_envelope_bad_input_is_one_error_line(capsys, argv, argument):
    rc, out, err = run(capsys, "envelope", *argv)
    assert rc == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {argument}:"), err


def test_bounds_has_the_envelope_and_the_chi2_lower_bound(capsys, tmp_path):
    plot = tmp_path / "b.png"
    rc, out, _ = run(capsys, "bounds", *Q, "--K", "1,2,4,...,64", "--plot", str(plot), "--json")
    assert rc == 0 and plot.stat().st_size > 1000
    q1, q0 = (0.5, 0.3, 0.2), (0.2, 0.3, 0.5)
    D = sum(a * math.log(a / b) for a, b in zip(q1, q0))
    chi2 = sum(a * a / b for a, b in zip(q1, q0)) - 1
    p = math.exp(-D)
    for r in json.loads(out)["rows"]:
        K = r["K"]
        e_log = sum(math.comb(K - 1, j) * p**j * (1 - p) ** (K - 1 - j) * math.log(1 + j)
                    for j in range(K))
        assert r["envelope_nats"] == pytest.approx(math.log(K) - e_log, rel=1e-12, abs=1e-15)
        assert r["chi2_lower_bound_nats"] == pytest.approx(D - math.log1p(chi2 / K), rel=1e-12)
        slack = r["error_estimate_nats"]
        assert r["chi2_lower_bound_nats"] <= r["kjs_nats"] + slack
        assert r["kjs_nats"] <= r["envelope_nats"] + slack
    rc, out, _ = run(capsys, "bounds", *Q, "--K", "2,4", "--no-plot")
    assert rc == 0 and "U_K(KL)" in out and "chi2 lower" in out


def test_bounds_without_q1_absolutely_continuous_has_no_envelope(capsys):
    rc, out, _ = run(capsys, "bounds", "--q1", "0.5,0.5,0", "--q0", "0,0.5,0.5", "--K", "2,4",
                     "--no-plot", "--json")
    assert rc == 0
    rows = json.loads(out)["rows"]
    assert all(r["envelope_nats"] is None and r["chi2_lower_bound_nats"] is None for r in rows)
