"""The command line, run in-process through ``infonce_anchor.cli.main`` (``capsys`` captures).

Reference values are written here from the paper's Sec. 3 and App. D.5, E.3 (Eq. 4, Eq. 6, Eq. 8
and Tables 3-7) or derived by hand in the comments, never taken from the code under test.  Only
``--only`` subsets of ``verify`` run by default; the full report runs once, marked ``slow``.
"""

from __future__ import annotations

import fnmatch
import json
from fractions import Fraction

import pytest
import sympy as sp
from sympy.core.function import AppliedUndef

from infonce_anchor.claims.catalogue import load
from infonce_anchor.cli import main

STATUSES = {"verified-symbolic", "verified-exact", "verified-sampled", "refuted", "open"}
CLAIM_KEYS = {"id", "statement", "status", "severity", "method", "evidence", "correction"}
TABLE3_NAMES = {"kliep", "robust_power", "inverse_log",
                "log", "power", "sym_inverse_log", "pseudo_spherical"}
SYMMETRIC = {"log", "power", "sym_inverse_log", "pseudo_spherical"}

#: Exact points of the simplex (each sums to 1) for M = 1, 2, 3, and the admissible alpha's.
SIMPLEX_POINTS = {
    1: [(Fraction(1, 3), Fraction(2, 3)), (Fraction(7, 10), Fraction(3, 10))],
    2: [(Fraction(1, 5), Fraction(3, 10), Fraction(1, 2)),
        (Fraction(3, 7), Fraction(2, 7), Fraction(2, 7))],
    3: [(Fraction(1, 10), Fraction(2, 10), Fraction(3, 10), Fraction(4, 10)),
        (Fraction(1, 2), Fraction(1, 8), Fraction(1, 4), Fraction(1, 8))],
}
ALPHAS = {"robust_power": (Fraction(1, 2), Fraction(3, 2), 2, 3),
          "power": (Fraction(1, 2), Fraction(3, 2), 2, 3),
          "pseudo_spherical": (Fraction(3, 2), 2, 3)}


def run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.fixture(scope="module")
def tables_json() -> dict:
    """``infonce-anchor tables --format json`` parsed (run once for the module)."""
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(["tables", "--format", "json"])
    assert rc == 0
    return json.loads(buf.getvalue())


def parse_lambda(rule: dict) -> tuple[list[sp.Expr], dict[str, sp.Symbol]]:
    """Each ``lambda`` string parsed with only the rule's listed variables and parameters."""
    names = rule["variables"] + rule["parameters"]
    local = {n: sp.Symbol(n, positive=True) for n in names}
    losses = []
    for text in rule["lambda"]:
        expr = sp.sympify(text, locals=local)
        assert expr.free_symbols <= set(local.values()), (text, expr.free_symbols)
        assert not expr.atoms(AppliedUndef), text
        losses.append(expr)
    return losses, local


def close(a: sp.Expr, b: sp.Expr, values: dict[sp.Symbol, object]) -> bool:
    """``a == b`` at exact rational ``values``, evaluated to 40 digits."""
    exact = {s: sp.Rational(v.numerator, v.denominator) if isinstance(v, Fraction)
             else sp.Integer(v) for s, v in values.items()}
    diff = sp.N((a - b).xreplace(exact), 40)
    return abs(complex(diff)) < 1e-30


# ------------------------------------------------------------------------ reference rules
def spec_symmetric_losses(name: str, eta: list[sp.Symbol], alpha: sp.Symbol) -> list[sp.Expr]:
    """Table 4 (App. D.5): lambda_z(eta) with the constants Eq. 8 gives (which the table drops)."""
    M = len(eta) - 1
    if name == "log":
        return [-sp.log(e) for e in eta]
    if name == "power":
        norm = sum(e**alpha for e in eta)
        return [norm / alpha - e**(alpha - 1) / (alpha - 1) for e in eta]
    if name == "sym_inverse_log":
        return [-(M + 1) + sum(sp.log(e) for e in eta) + 1 / e for e in eta]
    if name == "pseudo_spherical":
        norm = sum(e**alpha for e in eta) ** (1 / alpha)
        return [-(e / norm) ** (alpha - 1) for e in eta]
    raise KeyError(name)


def eq6_binary_losses(name: str, eta: list[sp.Symbol], alpha: sp.Symbol) -> list[sp.Expr]:
    """Eq. 6 worked by hand for the Psi of Table 3, with rho = eta1/eta0:
    lambda_0 = rho Psi'(rho) - Psi(rho), lambda_1 = -Psi'(rho).

    * Psi = rho log rho:   Psi' = log rho + 1        -> (rho, -log rho - 1)
    * Psi = (rho^a - rho)/(a(a-1)): Psi' = (a rho^(a-1) - 1)/(a(a-1))
                                                     -> (rho^a / a, (1 - a rho^(a-1))/(a(a-1)))
    * Psi = -log rho:      Psi' = -1/rho             -> (log rho - 1, 1/rho)
    """
    rho = eta[1] / eta[0]
    if name == "kliep":
        return [rho, -sp.log(rho) - 1]
    if name == "robust_power":
        return [rho**alpha / alpha, (1 - alpha * rho**(alpha - 1)) / (alpha * (alpha - 1))]
    if name == "inverse_log":
        return [sp.log(rho) - 1, 1 / rho]
    raise KeyError(name)


def assert_rule_matches(rule: dict, reference, points) -> None:
    losses, local = parse_lambda(rule)
    eta = [local[v] for v in rule["variables"]]
    alpha = local.get("alpha", sp.Symbol("alpha", positive=True))
    expected = reference(rule["name"], eta, alpha)
    assert len(losses) == len(expected) == len(eta)
    alphas = ALPHAS.get(rule["name"], (None,))
    for point in points:
        for a in alphas:
            values = dict(zip(eta, point))
            if a is not None:
                values[alpha] = a
            for z, (got, want) in enumerate(zip(losses, expected)):
                assert close(got, want, values), (rule["name"], z, point, a, got, want)


# =============================================================================== errors
def _assert_one_error_line(rc: int, out: str, err: str) -> None:
    assert rc == 2
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err and "Traceback" not in out


def test_rule_with_undeclared_symbol_is_one_error_line(capsys):
    rc, out, err = run(capsys, "rule", "x*rho", "--asymmetric")
    _assert_one_error_line(rc, out, err)
    assert "undeclared symbol(s) x" in err  # names the offending symbol


def test_rule_with_zero_classes_is_one_error_line(capsys):
    rc, out, err = run(capsys, "rule", "rho*log(rho)", "--asymmetric", "--classes", "0")
    _assert_one_error_line(rc, out, err)
    assert err.startswith("error: classes:")


def test_tables_with_zero_classes_is_one_error_line(capsys):
    rc, out, err = run(capsys, "tables", "--classes", "0")
    _assert_one_error_line(rc, out, err)
    assert out == ""


def test_power_psi_at_alpha_one_is_one_error_line(capsys):
    # (rho^a - rho)/(a(a-1)) divides by zero at a = 1 (Table 3: alpha not in {0, 1})
    rc, out, err = run(capsys, "rule", "(rho**alpha-rho)/(alpha*(alpha-1))", "--asymmetric",
                       "--param", "alpha=1")
    _assert_one_error_line(rc, out, err)
    assert "alpha" in err


def test_unknown_table_format_is_one_error_line(capsys):
    rc, out, err = run(capsys, "tables", "--format", "html")
    _assert_one_error_line(rc, out, err)


def test_verify_unknown_claim_is_one_error_line(capsys):
    rc, out, err = run(capsys, "verify", "--only", "nosuchclaim")
    _assert_one_error_line(rc, out, err)
    assert "nosuchclaim" in err


def test_verify_zero_workers_is_one_error_line(capsys):
    rc, out, err = run(capsys, "verify", "--only", "eq5.a", "--workers", "0")
    _assert_one_error_line(rc, out, err)


# Regressions: bad input that once escaped as a traceback (exit status 1) instead of one
# "error: " line with exit status 2 (tokenize.TokenError, AttributeError and undefined functions
# from the parser; OSError from --markdown / --out).
def _bad_input(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        return run(capsys, *argv)
    except Exception as exc:  # noqa: BLE001 - an exception escaping main() fails the test
        out, err = capsys.readouterr()
        return 1, out, err + f"Traceback: {type(exc).__name__}: {exc}"


def test_rule_with_unbalanced_parenthesis_is_one_error_line(capsys):
    _assert_one_error_line(*_bad_input(capsys, "rule", "log(", "--asymmetric"))


def test_rule_with_unknown_function_is_one_error_line(capsys):
    _assert_one_error_line(*_bad_input(capsys, "rule", "f(rho)", "--asymmetric"))


def test_rule_with_attribute_access_is_one_error_line(capsys):
    _assert_one_error_line(*_bad_input(capsys, "rule", "rho.x", "--asymmetric"))


def test_verify_markdown_into_missing_directory_is_one_error_line(capsys, tmp_path):
    target = tmp_path / "missing" / "report.md"
    _assert_one_error_line(*_bad_input(capsys, "verify", "--only", "eq5.a", "--markdown",
                                       str(target)))


def test_tables_out_below_a_file_is_one_error_line(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    _assert_one_error_line(*_bad_input(capsys, "tables", "--out", str(blocker / "tables")))


# =============================================================================== tables
def test_tables_json_has_tables_3_to_7(tables_json):
    assert set(tables_json) == {"table3", "table4", "table5", "table6", "table7"}


def test_table3_rules_and_their_keys(tables_json):
    rules = tables_json["table3"]["rules"]
    assert len(rules) == 7
    assert {r["name"] for r in rules} == TABLE3_NAMES
    for r in rules:
        assert {"name", "kind", "generator", "parameters", "variables", "lambda"} <= set(r)
        assert r["kind"] == ("symmetric" if r["name"] in SYMMETRIC else "asymmetric")
        assert r["variables"] == ["eta0", "eta1"]  # M = 1: two classes
        assert len(r["lambda"]) == 2
        expected_params = ["alpha"] if r["name"] in ALPHAS else []
        assert r["parameters"] == expected_params


def test_table3_lambda_strings_parse_with_listed_names_only(tables_json):
    for r in tables_json["table3"]["rules"]:
        losses, _ = parse_lambda(r)
        assert len(losses) == 2


def test_table3_log_rule_is_minus_log_eta(tables_json):
    # Table 3: the log rule (Phi = sum eta log eta) has lambda_z = -log(eta_z)
    (log_rule,) = [r for r in tables_json["table3"]["rules"] if r["name"] == "log"]
    losses, local = parse_lambda(log_rule)
    for z, loss in enumerate(losses):
        assert sp.simplify(loss - (-sp.log(local[f"eta{z}"]))) == 0


def test_table3_symmetric_rows_match_spec(tables_json):
    for r in tables_json["table3"]["rules"]:
        if r["kind"] == "symmetric":
            assert_rule_matches(r, spec_symmetric_losses, SIMPLEX_POINTS[1])


def test_table3_asymmetric_rows_match_eq6_by_hand(tables_json):
    for r in tables_json["table3"]["rules"]:
        if r["kind"] == "asymmetric":
            # Eq. 6 rules are functions of the odds: valid at any positive eta, simplex or not
            points = SIMPLEX_POINTS[1] + [(Fraction(2), Fraction(5, 3))]
            assert_rule_matches(r, eq6_binary_losses, points)


def test_table4_default_m2_matches_spec(tables_json):
    t4 = tables_json["table4"]
    assert t4["classes"] == 2
    assert {r["name"] for r in t4["rules"]} == SYMMETRIC
    for r in t4["rules"]:
        assert r["variables"] == ["eta0", "eta1", "eta2"]
        assert_rule_matches(r, spec_symmetric_losses, SIMPLEX_POINTS[2])


def test_tables_classes_3_gives_table4_on_four_classes(capsys):
    rc, out, err = run(capsys, "tables", "--classes", "3", "--format", "json")
    assert rc == 0 and err == ""
    t4 = json.loads(out)["table4"]
    assert t4["classes"] == 3
    assert len(t4["rules"]) == 4
    for r in t4["rules"]:
        assert r["variables"] == ["eta0", "eta1", "eta2", "eta3"]
        assert len(r["lambda"]) == 4
        assert_rule_matches(r, spec_symmetric_losses, SIMPLEX_POINTS[3])


def _objective_rows(tables_json: dict, key: str) -> dict[str, dict]:
    return {row["name"]: row for row in tables_json[key]["rows"]}


AGG = {n: sp.Symbol(n, positive=True) for n in ("r1", "r", "nu", "K", "alpha", "P1", "Palpha")}
AGG["Plog"] = sp.Symbol("Plog", real=True)


def _expr(text: str) -> sp.Expr:
    expr = sp.sympify(text, locals=AGG)
    assert expr.free_symbols <= set(AGG.values()), text
    return expr


def test_table6_log_row_is_eq4(tables_json):
    # Sec. 3, Eq. 4: L = -(K/(K+nu)) E_{q1 q0..q0}[log(r(x1)/(nu + sum r))]
    #                            -(nu/(K+nu)) E_{q0^K}[log(nu/(nu + sum r))],  P1 = nu + sum r
    row = _objective_rows(tables_json, "table6")["log"]
    K, nu, r1, P1 = AGG["K"], AGG["nu"], AGG["r1"], AGG["P1"]
    assert row["K"] == "K" and row["nu"] == "nu"
    (joint,) = [t for t in row["terms"] if t["expectation"] == "q1(x1) q0(x2..xK)"]
    (noise,) = [t for t in row["terms"] if t["expectation"] == "q0(x1..xK)"]
    assert sp.simplify(_expr(joint["weight"]) - K / (K + nu)) == 0
    assert sp.simplify(_expr(noise["weight"]) - nu / (K + nu)) == 0
    assert sp.simplify(sp.expand_log(_expr(joint["integrand"]) + sp.log(r1 / P1), force=True)) == 0
    assert sp.simplify(sp.expand_log(_expr(noise["integrand"]) + sp.log(nu / P1), force=True)) == 0


def test_table7_log_row_is_infonce(tables_json):
    # Sec. 3 (after Eq. 4): nu = 0 gives InfoNCE, L = -E[log(r(x1) / sum_i r(x_i))], P1 = sum_i r
    row = _objective_rows(tables_json, "table7")["log"]
    assert row["nu"] == "0"
    (term,) = row["terms"]
    assert _expr(term["weight"]) == 1
    integrand = _expr(term["integrand"])
    assert sp.simplify(sp.expand_log(integrand + sp.log(AGG["r1"] / AGG["P1"]), force=True)) == 0


def test_table6_and_7_rows_are_the_spec_rules_at_the_model_posterior(tables_json):
    # the integrand of the q1 term is lambda_1(eta_theta) and that of the noise term
    # lambda_0(eta_theta), eta_theta = p_theta / P1 (Eq. 3), written with Table 4's formulas in
    # the aggregates P1, Palpha = sum p^alpha, Plog = sum log p of p_theta = (nu, r1..rK)
    # (Table 7: p_theta = (r1..rK), K classes).
    K, nu, r1, P1, Pa, Pl, a = (AGG[n] for n in ("K", "nu", "r1", "P1", "Palpha", "Plog",
                                                 "alpha"))

    def spec(name: str, p: sp.Expr, classes: sp.Expr) -> sp.Expr:
        e = p / P1
        if name == "log":
            return -sp.log(e)
        if name == "power":
            return Pa / P1**a / a - e**(a - 1) / (a - 1)
        if name == "sym_inverse_log":
            return -classes + (Pl - classes * sp.log(P1)) + 1 / e
        if name == "pseudo_spherical":
            return -(e / (Pa ** (1 / a) / P1)) ** (a - 1)
        raise KeyError(name)

    values = [{K: 3, nu: Fraction(1, 2), r1: Fraction(3, 2), P1: Fraction(11, 2),
               Pa: Fraction(29, 4), Pl: Fraction(-1, 3), a: av} for av in (Fraction(3, 2), 2, 3)]
    for key, classes in (("table6", K + 1), ("table7", K)):
        rows = _objective_rows(tables_json, key)
        assert set(rows) == SYMMETRIC
        for name, row in rows.items():
            for term in row["terms"]:
                slot = r1 if term["expectation"] == "q1(x1) q0(x2..xK)" else nu
                got, want = _expr(term["integrand"]), spec(name, slot, classes)
                for v in values:
                    assert close(got, want, v), (key, name, term["expectation"])


def test_table5_rows_are_the_spec_objectives_up_to_constants(tables_json):
    # Table 5 (App. E.3) at nu = 1, up to the factor K/(K+1) and additive constants:
    #   log:  E_q1[-log r] + E_q0[r];  power: E_q1[(r^(a-1) - 1)/(1-a)] + E_q0[r^a]/a;
    #   inverse log: E_q1[1/r] + E_q0[log r].  Compared through d/dr of each term.
    r, nu, K, a = AGG["r"], AGG["nu"], AGG["K"], AGG["alpha"]
    reference = {"kliep": (-sp.log(r), r),
                 "robust_power": ((r**(a - 1) - 1) / (1 - a), r**a / a),
                 "inverse_log": (1 / r, sp.log(r))}
    rows = _objective_rows(tables_json, "table5")
    assert set(rows) == set(reference)
    for name, row in rows.items():
        (pos,) = [t for t in row["terms"] if t["expectation"] == "q1(x)"]
        (neg,) = [t for t in row["terms"] if t["expectation"] == "q0(x)"]
        for term, ref in ((pos, reference[name][0]), (neg, reference[name][1])):
            got = sp.diff(_expr(term["weight"]) * _expr(term["integrand"]), r).subs(nu, 1)
            want = K / (K + 1) * sp.diff(ref, r)
            for av in (Fraction(1, 2), 2, 3):
                for rv in (Fraction(1, 3), Fraction(5, 2)):
                    assert close(got, want, {r: rv, K: 4, a: av}), (name, term)


def test_tables_latex_prints_every_table(capsys):
    rc, out, err = run(capsys, "tables", "--format", "latex")
    assert rc == 0 and err == ""
    assert out.count(r"\begin{tabular}") == 5
    assert out.count(r"\end{table}") == 5


@pytest.mark.parametrize("fmt, ext", [("latex", "tex"), ("markdown", "md"), ("json", "json")])
def test_tables_out_writes_one_file_per_table(capsys, tmp_path, fmt, ext):
    out_dir = tmp_path / "tables"
    rc, out, err = run(capsys, "tables", "--format", fmt, "--out", str(out_dir))
    assert rc == 0 and err == ""
    names = [f"table{i}.{ext}" for i in range(3, 8)]
    assert sorted(p.name for p in out_dir.iterdir()) == names
    assert out.split() == [str(out_dir / n) for n in names]  # the paths written, one a line
    for n in names:
        text = (out_dir / n).read_text()
        if fmt == "latex":
            assert r"\begin{tabular}" in text and r"\end{table}" in text
        elif fmt == "json":
            assert "rules" in json.loads(text) or "rows" in json.loads(text)
        else:
            assert text.startswith("### Table")


# ================================================================================= rule
def test_rule_kliep_psi_is_proper(capsys):
    rc, out, err = run(capsys, "rule", "rho*log(rho)", "--asymmetric", "--json")
    assert rc == 0 and err == ""
    result = json.loads(out)
    assert result["propriety"]["proper"] is True
    assert result["propriety"]["strictly_proper"] is True
    assert result["propriety"]["witness"] is None
    # Eq. 6 by hand: (lambda_0, lambda_1) = (rho, -log rho - 1), rho = eta1/eta0
    rule = {"name": "kliep", "variables": result["rule"]["variables"], "parameters": [],
            "lambda": result["rule"]["lambda"]}
    assert_rule_matches(rule, eq6_binary_losses, SIMPLEX_POINTS[1])
    assert len(result["objectives"]) == 1  # asymmetric: only the anchored objective
    assert result["objectives"][0]["K"] == "1"


def test_rule_concave_psi_is_not_proper_with_a_witness_of_negative_regret(capsys):
    # the expression starts with '-', so it goes after '--' (options before it)
    rc, out, err = run(capsys, "rule", "--asymmetric", "--json", "--", "-rho*log(rho)")
    assert rc == 0 and err == ""
    result = json.loads(out)
    prop = result["propriety"]
    assert prop["proper"] is False
    assert result["objectives"] == []
    witness = prop["witness"]
    assert witness is not None
    # recompute Reg(eta_hat || eta*) = <eta*, lambda(eta_hat)> - <eta*, lambda(eta*)> exactly
    local = {n: sp.Symbol(n, positive=True) for n in result["rule"]["variables"]}
    losses = [sp.sympify(s, locals=local) for s in result["rule"]["lambda"]]
    eta = [local[n] for n in result["rule"]["variables"]]
    star = [sp.Rational(v) for v in witness["eta_star"]]
    hat = [sp.Rational(v) for v in witness["eta_hat"]]
    assert sum(star) == 1 and sum(hat) == 1 and all(v > 0 for v in star + hat)
    at = lambda point: [l.xreplace(dict(zip(eta, point))) for l in losses]  # noqa: E731
    regret = sum(s * (lh - ls) for s, lh, ls in zip(star, at(hat), at(star)))
    value = sp.N(regret, 30)
    assert value < 0
    assert abs(value - sp.Float(witness["regret_nats"], 30)) < 1e-18
    # and the printed losses are Eq. 6 for Psi = -rho log rho (the negated KLIEP rule)
    rho = eta[1] / eta[0]
    for got, want in zip(losses, [-rho, sp.log(rho) + 1]):
        for point in SIMPLEX_POINTS[1]:
            assert close(got, want, dict(zip(eta, point)))


def test_rule_json_after_double_dash_is_not_an_option(capsys):
    # argparse treats everything after '--' as positional: '--json' there is an extra argument,
    # a usage error (exit status 2), never silently dropped or parsed as the expression
    try:
        rc = main(["rule", "--asymmetric", "--", "-rho*log(rho)", "--json"])
    except SystemExit as exc:  # argparse's own error exit
        rc = exc.code
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == ""
    assert "--json" in err


def test_rule_symmetric_cube_gives_anchored_and_infonce_objectives(capsys):
    rc, out, err = run(capsys, "rule", "eta0**3 + eta1**3 + eta2**3", "--symmetric",
                       "--classes", "2", "--json")
    assert rc == 0 and err == ""
    result = json.loads(out)
    assert result["propriety"]["proper"] is True
    assert result["rule"]["variables"] == ["eta0", "eta1", "eta2"]
    # Eq. 8 by hand for Phi = sum eta^3 on the simplex: grad_z = 3 eta_z^2,
    # <grad, eta> - Phi = 2 sum eta^3, so lambda_z = 2 sum_k eta_k^3 - 3 eta_z^2
    local = {n: sp.Symbol(n, positive=True) for n in result["rule"]["variables"]}
    eta = list(local.values())
    for z, text in enumerate(result["rule"]["lambda"]):
        want = 2 * sum(e**3 for e in eta) - 3 * eta[z] ** 2
        for point in SIMPLEX_POINTS[2]:
            assert close(sp.sympify(text, locals=local), want, dict(zip(eta, point)))
    assert [(o["K"], o["nu"]) for o in result["objectives"]] == [("2", "nu"), ("3", "0")]


# =============================================================================== verify
def _check_claims(claims: list[dict]) -> None:
    for c in claims:
        assert CLAIM_KEYS <= set(c), c
        assert c["status"] in STATUSES, c
        assert c["method"] != "check crashed", c
        assert isinstance(c["statement"], str) and c["statement"]
        # a refuted claim is rated and states its correction; no other outcome carries either
        if c["status"] == "refuted":
            assert c["severity"] in ("major", "minor") and c["correction"], c
        else:
            assert c["severity"] is None and c["correction"] is None, c


def test_verify_only_thm2_json(capsys):
    rc, out, err = run(capsys, "verify", "--only", "thm2.*", "--json")
    assert rc == 0
    report = json.loads(out)
    claims = report["claims"]
    assert claims, "thm2.* matched nothing"
    assert all(fnmatch.fnmatch(c["id"], "thm2.*") for c in claims)
    assert len({c["id"] for c in claims}) == len(claims)
    _check_claims(claims)
    # the summary counts exactly these claims
    assert sum(report["summary"].values()) == len(claims)
    assert set(report["summary"]) == STATUSES


def test_verify_only_eq5_writes_markdown(capsys, tmp_path):
    path = tmp_path / "report.md"
    rc, out, err = run(capsys, "verify", "--only", "eq5.*", "--markdown", str(path))
    assert rc == 0
    text = path.read_text()
    assert text.startswith("# Claims report")
    # Eq. 5's parts (Sec. 3.2): DV at 0, NWJ at inf, monotone, bound; and the exact check
    ids = [f"eq5.{c}" for c in "abcd"] + ["eq5.exact"]
    for claim_id in ids:
        assert f"`{claim_id}`" in text
        assert claim_id in out  # the terminal table too
    table_rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(table_rows) == len(ids)
    assert all(any(f"**{s}**" in row for s in STATUSES) for row in table_rows)


@pytest.mark.slow
def test_full_verify_reports_every_registered_claim(capsys):
    registered = list(load())
    rc, out, err = run(capsys, "verify", "--json")
    assert rc == 0, err  # 1 would mean a check crashed
    report = json.loads(out)
    ids = [c["id"] for c in report["claims"]]
    assert ids == registered  # every claim, once, in paper order
    _check_claims(report["claims"])
    assert sum(report["summary"].values()) == len(registered)
