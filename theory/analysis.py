"""A user's generating function in, everything the toolkit derives out.

``analyse_user_rule`` parses Psi (asymmetric, Eq. 6) or Phi (symmetric, Eq. 8), derives the rule,
certifies propriety (Thm 9, with a witness when it fails) and, for a proper rule, builds its DRE
objectives in the style of Tables 5-7: with the anchor class at ``K = M`` (``nu`` symbolic) and,
for a symmetric rule, without it at ``K = M + 1`` (``nu = 0``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from theory.dre import DREObjective, dre_objective
from theory.errors import InputError
from theory.generators import Generator, Kind, parse_generator
from theory.propriety import ProprietyCertificate, check_propriety
from theory.rules import ScoringRule, induced_rule, symmetric_rule
from theory.symbols import NU

#: Largest M the ``rule`` command derives symbolically.
MAX_CLASSES = 12


@dataclass(frozen=True)
class RuleAnalysis:
    generator: Generator
    rule: ScoringRule
    certificate: ProprietyCertificate
    objectives: tuple[DREObjective, ...]
    note: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "generator": {"kind": self.generator.kind, "symbol": self.generator.symbol,
                          "expression": str(self.generator.expr),
                          "variables": [str(v) for v in self.generator.variables],
                          "parameters": [str(p) for p in self.generator.parameters]},
            "rule": {"variables": [str(e) for e in self.rule.eta],
                     "lambda": [str(l) for l in self.rule.losses]},
            "propriety": self.certificate.as_dict(),
            "objectives": [{"K": str(o.K), "nu": str(o.nu), "reduced_by_prop20": o.reduced,
                            "terms": [{"weight": str(t.weight), "expectation": t.sampling,
                                       "integrand": str(t.integrand)} for t in o.terms]}
                           for o in self.objectives],
            "note": self.note,
            "units": "losses and objectives in nats",
        }

    def as_text(self) -> str:
        g, c = self.generator, self.certificate
        lines = [f"{g.symbol}({', '.join(map(str, g.variables))}) = {g.expr}"
                 + (f"   [parameters: {', '.join(map(str, g.parameters))}]" if g.parameters else ""),
                 "", f"induced rule ({'Eq. 6' if g.kind == 'asymmetric' else 'Eq. 8'}), "
                 "losses in nats, lower is better:"]
        lines += [f"  lambda_{z}(eta) = {l}" for z, l in enumerate(self.rule.losses)]
        verdict = ("STRICTLY PROPER" if c.proper and c.strictly_proper else
                   "PROPER" if c.proper else "NOT PROPER")
        lines += ["", f"propriety (Thm 9): {verdict}   [{c.method}]",
                  f"  g^lambda = 0: {c.stationarity.holds} ({c.stationarity.method}; "
                  f"{c.stationarity.detail})",
                  f"  Bayes risk concave: {c.concavity.holds} ({c.concavity.method}; "
                  f"{c.concavity.detail})"]
        if c.witness is not None:
            w = c.witness
            lines += [f"  witness: eta* = ({', '.join(map(str, w.eta_star))}), eta_hat = "
                      f"({', '.join(map(str, w.eta_hat))}): Reg(eta_hat||eta*) = "
                      f"{w.as_dict()['regret_nats']} nats < 0"
                      + (f" at {w.as_dict()['parameters']}" if w.parameters else ""),
                      f"  ({w.reason})"]
        if self.objectives:
            lines += ["", "DRE objectives L^lambda_{K;nu}(r) (r_i = r(x_i); nats):"]
            for o in self.objectives:
                lines.append(f"  K = {o.K}, nu = {o.nu}{' (Prop 20 reduction)' if o.reduced else ''}:")
                lines += [f"    + {t.weight} * E_{{{t.sampling}}}[ {t.integrand} ]" for t in o.terms]
        if self.note:
            lines += ["", self.note]
        return "\n".join(lines)


def analyse_user_rule(text: str, *, kind: Kind, classes: int,
                      parameters: Mapping[str, object] | None = None) -> RuleAnalysis:
    """Parse, derive, certify and (when proper) build the DRE objectives of a user's generator."""
    if isinstance(classes, int) and classes > MAX_CLASSES:
        raise InputError("classes", f"symbolic derivation is limited to M <= {MAX_CLASSES} "
                         f"(the cost grows quickly with M), got {classes}")
    params = dict(parameters) if parameters is not None else {"alpha": None}
    gen = parse_generator(text, kind=kind, classes=classes, parameters=params)
    if gen.expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        if any(v is not None for v in params.values()):
            raise InputError("--param", f"the parameter values make the generator undefined "
                             f"({gen.expr}); e.g. alpha in {{0, 1}} divides by zero in power "
                             "rules")
        raise InputError("expression", f"the generator is undefined ({gen.expr})")
    derive = induced_rule if kind == "asymmetric" else symmetric_rule
    rule = derive(gen)
    cert = check_propriety(rule)
    if not cert.proper:
        return RuleAnalysis(gen, rule, cert, (), "not proper: no DRE objective is built (its "
                            "minimiser need not be r*; Thm 6 / 19 need a convex generator)")
    M = rule.classes
    objectives = [dre_objective(rule, M, NU, require_proper=False)]
    note = "" if cert.strictly_proper else (
        "proper but NOT strictly proper (the generator has flat directions): r* minimises the "
        "objectives below but is not their unique minimiser (Thm 6's equality case needs a "
        "strictly convex generator). ")
    if kind == "symmetric":
        # without the anchor the M + 1 classes are the K = M + 1 slots (InfoNCE-type, Table 7)
        objectives.append(dre_objective(rule, M + 1, 0, require_proper=False))
    else:
        note += ("asymmetric rules need the anchor class (Eq. 6 is relative to class 0): "
                 "no nu = 0 objective")
    return RuleAnalysis(gen, rule, cert, tuple(objectives), note)

