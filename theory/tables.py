"""Tables 3-7 regenerated from the generating functions of the catalogue.

Table 3: binary rules (M = 1), asymmetric (Eq. 6) and symmetric (Eq. 8).  Table 4: symmetric
rules on ``M + 1`` classes (M = 2 by default).  Table 5: DRE objectives of the asymmetric rules.
Tables 6 and 7: DRE objectives of the symmetric rules with (nu > 0) and without (nu = 0) the
anchor class, for symbolic ``K``.  Every row is derived here; nothing is copied from the paper
(``theory.paper_rows`` holds the printed rows, used only for comparison).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from theory import catalogue
from theory.dre import (
    AGGREGATES,
    LOG_SUM,
    NORM1,
    POWER_SUM,
    R1,
    DREObjective,
    R,
    general_objective,
)
from theory.errors import InputError
from theory.symbols import ALPHA, K_SYM, NU, check_classes

FORMATS = ("markdown", "latex", "json")
#: Largest M for Table 4 (explicit symbols; the derivation cost grows with M).
MAX_TABLE4_CLASSES = 12
LATEX_NAMES = {NORM1: r"\|p_\theta\|_1", POWER_SUM: r"\|p_\theta\|_\alpha^\alpha",
               LOG_SUM: r"\textstyle\sum_k \log p_{\theta,k}", R1: r"r(x_1)", R: r"r(x)",
               NU: r"\nu", ALPHA: r"\alpha", K_SYM: "K"}


@dataclass(frozen=True)
class RuleRow:
    """A row of Table 3 / 4: generator and the derived losses ``lambda_0..lambda_M``."""

    name: str
    kind: str
    title: str
    known_as: str
    generator: sp.Expr
    generator_symbol: str
    parameters: tuple[sp.Symbol, ...]
    variables: tuple[sp.Symbol, ...]
    losses: tuple[sp.Expr, ...]

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "generator": str(self.generator),
                "parameters": [str(p) for p in self.parameters],
                "variables": [str(v) for v in self.variables],
                "lambda": [str(l) for l in self.losses],
                "title": self.title, "known_as": self.known_as}


@dataclass(frozen=True)
class ObjectiveRow:
    """A row of Tables 5-7: a catalogue rule and its derived DRE objective."""

    name: str
    kind: str
    title: str
    known_as: str
    objective: DREObjective

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "kind": self.kind, "title": self.title,
                "known_as": self.known_as, "K": str(self.objective.K),
                "nu": str(self.objective.nu),
                "terms": [{"weight": str(t.weight), "expectation": t.sampling,
                           "integrand": str(t.integrand)} for t in self.objective.terms]}


def _rule_row(e: catalogue.CatalogueEntry, M: int) -> RuleRow:
    gen = e.generator(M)
    rule = e.rule(M)
    return RuleRow(e.name, e.kind, e.title, e.known_as, gen.expr, gen.symbol, gen.parameters,
                   rule.eta, rule.losses)


@lru_cache(maxsize=None)
def table3() -> tuple[RuleRow, ...]:
    """Table 3: every catalogue rule with two classes (M = 1)."""
    return tuple(_rule_row(e, 1) for e in catalogue.ENTRIES)


@lru_cache(maxsize=None)
def table4(M: int = 2) -> tuple[RuleRow, ...]:
    """Table 4: the symmetric rules on classes ``0..M``."""
    M = check_classes(M)
    return tuple(_rule_row(e, M) for e in catalogue.by_kind("symmetric"))


@lru_cache(maxsize=None)
def objective_table(kind: str, anchored: bool = True) -> tuple[ObjectiveRow, ...]:
    """The DRE objectives (symbolic K and nu) of the catalogue rules of ``kind``, with the anchor
    class (``nu > 0``) or without it (``nu = 0``): Tables 5-7."""
    return tuple(ObjectiveRow(e.name, e.kind, e.title, e.known_as,
                              general_objective(e, anchored=anchored))
                 for e in catalogue.by_kind(kind))


def table5() -> tuple[ObjectiveRow, ...]:
    """Table 5: the asymmetric rules' objectives (symbolic K and nu)."""
    return objective_table("asymmetric")


def table6() -> tuple[ObjectiveRow, ...]:
    """Table 6: InfoNCE-anchor-type objectives (nu > 0) of the symmetric rules."""
    return objective_table("symmetric")


def table7() -> tuple[ObjectiveRow, ...]:
    """Table 7: InfoNCE-type objectives (nu = 0) of the symmetric rules."""
    return objective_table("symmetric", anchored=False)


TITLES = {
    "table3": "Table 3: strictly proper binary scoring rules (M = 1), derived by Eq. 6 / Eq. 8",
    "table4": "Table 4: symmetric strictly proper (M + 1)-ary scores, derived by Eq. 8",
    "table5": "Table 5: DRE objectives of the asymmetric rules, L^lambda_{K;nu}(r) (nats)",
    "table6": "Table 6: InfoNCE-anchor-type DRE objectives (nu > 0) of the symmetric rules (nats)",
    "table7": "Table 7: InfoNCE-type DRE objectives (nu = 0) of the symmetric rules (nats)",
}


def all_tables(M: int = 2) -> dict[str, tuple]:
    return {"table3": table3(), "table4": table4(M), "table5": table5(), "table6": table6(),
            "table7": table7()}


# ---------------------------------------------------------------------------- rendering
def _md(expr: sp.Expr) -> str:
    return "`" + str(expr).replace("|", "\\|") + "`"


def _legend_md(key: str) -> str:
    if key in ("table5", "table6", "table7"):
        names = {"table5": ["r", "nu", "K", "alpha"],
                 "table6": ["r1", "nu", "K", "alpha", "P1", "Palpha", "Plog"],
                 "table7": ["r1", "K", "alpha", "P1", "Palpha", "Plog"]}[key]
        lines = [f"- `{n}`: {AGGREGATES[n]}" for n in names]
        if key == "table7":
            lines.append("- without the anchor p_theta = (r(x_1), ..., r(x_K)): P1 = sum_i r(x_i)"
                         ", Palpha = sum_i r(x_i)^alpha, Plog = sum_i log r(x_i)")
        if key == "table5":
            lines.append("- the paper's Table 5 is the nu = 1 case up to the positive factor "
                         "K/(K+1) and additive constants")
        return "\n".join(lines)
    return ("- variables eta0..etaM are the class probabilities; rho1..rhoM = eta_z/eta_0; "
            "losses lambda_z (lower is better)")


def render_markdown(key: str, rows: tuple) -> str:
    out = [f"### {TITLES[key]}", ""]
    if key in ("table3", "table4"):
        out += ["| rule | kind | generator | lambda_0 .. lambda_M | known as |",
                "|---|---|---|---|---|"]
        for r in rows:
            losses = "<br>".join(f"λ{z} = {_md(l)}" for z, l in enumerate(r.losses))
            out.append(f"| {r.name} | {r.kind} | {r.generator_symbol} = {_md(r.generator)} | "
                       f"{losses} | {r.known_as} |")
    else:
        out += ["| rule | L^lambda_{K;nu}(r) = sum of weight x E[integrand] | known as |",
                "|---|---|---|"]
        for r in rows:
            terms = "<br>".join(f"{_md(t.weight)} · E_{{{t.sampling}}}[{_md(t.integrand)}]"
                                for t in r.objective.terms)
            out.append(f"| {r.name} | {terms} | {r.known_as} |")
    out += ["", _legend_md(key), ""]
    return "\n".join(out)


def _tex(expr: sp.Expr) -> str:
    return sp.latex(expr, symbol_names=LATEX_NAMES)


def render_latex(key: str, rows: tuple) -> str:
    out = [r"\begin{table}[h]", r"\centering", f"\\caption{{{TITLES[key]}}}"]
    if key in ("table3", "table4"):
        out += [r"\begin{tabular}{lll}", r"\hline", r"Rule & Generator & $\lambda(\eta)$ \\",
                r"\hline"]
        for r in rows:
            losses = r", \; ".join(_tex(l) for l in r.losses)
            symbol = r"\Psi" if r.generator_symbol == "Psi" else r"\Phi"
            out.append(f"{r.name.replace('_', ' ')} & ${symbol} = {_tex(r.generator)}$ & "
                       f"$({losses})$ \\\\")
    else:
        out += [r"\begin{tabular}{ll}", r"\hline", r"Rule & $\mathcal{L}^\lambda_{K;\nu}(r)$ \\",
                r"\hline"]
        for r in rows:
            terms = " + ".join(f"{_tex(t.weight)}\\,\\mathbb{{E}}_{{{_tex_law(t.sampling)}}}"
                               f"\\left[{_tex(t.integrand)}\\right]" for t in r.objective.terms)
            out.append(f"{r.name.replace('_', ' ')} & ${terms}$ \\\\")
    out += [r"\hline", r"\end{tabular}", r"\end{table}", ""]
    return "\n".join(out)


def _tex_law(sampling: str) -> str:
    return (sampling.replace("x1..xK", "x_{1:K}").replace("x2..xK", "x_{2:K}")
            .replace("q1", "q_1").replace("q0", "q_0").replace("(x1)", "(x_1)"))


def to_json(tables: dict[str, tuple], M: int) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, rows in tables.items():
        entry: dict[str, object] = {"title": TITLES[key]}
        if key == "table4":
            entry["classes"] = M
        if key in ("table5", "table6", "table7"):
            entry["symbols"] = AGGREGATES
        entry["rules" if key in ("table3", "table4") else "rows"] = [r.as_json() for r in rows]
        out[key] = entry
    return out


def render(fmt: str, M: int = 2) -> dict[str, str]:
    """Every table in ``fmt`` (``markdown``, ``latex`` or ``json``): ``{table key: text}``."""
    if fmt not in FORMATS:
        raise InputError("format", f"must be one of {', '.join(FORMATS)}, got {fmt!r}")
    M = check_classes(M)
    if M > MAX_TABLE4_CLASSES:
        raise InputError("classes", f"Table 4 is derived for M <= {MAX_TABLE4_CLASSES}, got {M}")
    tables = all_tables(M)
    if fmt == "json":
        return {k: json.dumps(v, indent=2) for k, v in to_json(tables, M).items()}
    renderer = render_markdown if fmt == "markdown" else render_latex
    return {k: renderer(k, rows) for k, rows in tables.items()}
