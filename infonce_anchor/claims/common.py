"""What the topic modules of the claims share (registers no claim): catalogue rules and
generators with their Theorem-9 certificates, identity checks summed up as an
:class:`~infonce_anchor.claims.registry.Outcome` (the symbolic layer), and seeded distribution
pairs (the exact layer).

"Generic" means an undefined sympy Function (``Psi``, ``Phi`` or ``lambda_z``): an identity that
simplifies to 0 for it holds for every differentiable generator / rule with that number of
classes.  Catalogue instances are checked too; where sympy cannot simplify an instance's
residual, it is evaluated to 50 digits at random points and labelled so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

import numpy as np
import sympy as sp

from infonce_anchor.claims.registry import Outcome
from theory import catalogue
from theory import identities as ids
from theory.generators import Generator, generic_asymmetric, perspective
from theory.propriety import ProprietyCertificate, check_propriety
from theory.symbols import ALPHA, class_probabilities, numeric_zero, symbolic_zero

GENERIC_M = (1, 2, 3)


CATALOGUE_M = (1, 2)


#: catalogue sizes for the identities whose instances sympy cannot simplify (50-digit numerics)
CATALOGUE_M_NUMERIC = (1,)


# ------------------------------------------------------------------------------------- symbolic
@lru_cache(maxsize=None)
def catalogue_rule(name: str, M: int):
    return catalogue.entry(name).rule(M)


@lru_cache(maxsize=None)
def catalogue_generator(name: str, M: int) -> Generator:
    return catalogue.entry(name).generator(M)


@lru_cache(maxsize=None)
def certificate(name: str, M: int) -> ProprietyCertificate:
    e = catalogue.entry(name)
    values = [{ALPHA: v} for v in e.samples] if e.parameters else None
    return check_propriety(catalogue_rule(name, M), parameter_values=values)


def rule_names(kind: str | None = None) -> list[str]:
    return [e.name for e in catalogue.ENTRIES if kind is None or e.kind == kind]


def _summarise(checks: Sequence[ids.IdentityCheck]) -> tuple[bool, str, str]:
    """(all hold, method, evidence) for a list of identity checks."""
    failed = [c for c in checks if not c.holds]
    symbolic = [c for c in checks if c.holds and c.method == "symbolic"]
    numeric = [c for c in checks if c.holds and c.method != "symbolic"]
    method = "sympy simplification to 0"
    if numeric:
        method += " (+ 50-digit evaluation at 20 random points where sympy could not simplify)"
    parts = [f"{len(symbolic)} subjects proved symbolically"]
    if numeric:
        parts.append(f"{len(numeric)} checked numerically "
                     f"({', '.join(c.subject for c in numeric)})")
    if failed:
        parts.append(f"{len(failed)} FAIL: " + "; ".join(f"{c.subject}: {c.residual}"
                                                         for c in failed))
    return not failed, method, "; ".join(parts)


def identity_claim(checks: Sequence[ids.IdentityCheck], *, generic_note: str,
                   extra: str = "", details: dict | None = None) -> Outcome:
    holds, method, evidence = _summarise(checks)
    info = {"checks": [c.as_dict() for c in checks], **(details or {})}
    generic = [c for c in checks if c.subject.startswith("generic")]
    decisive = generic or list(checks)
    generic_ok = all(c.holds and c.method == "symbolic" for c in decisive)
    if not holds:
        return Outcome("refuted", method, evidence + (f". {extra}" if extra else ""), info)
    status = "verified-symbolic" if generic_ok else "verified-exact"
    text = f"{generic_note}; {evidence}" + (f". {extra}" if extra else "")
    return Outcome(status, method, text, info)


def catalogue_rules(Ms: Iterable[int] = CATALOGUE_M, kind: str | None = None):
    return [catalogue_rule(n, M) for n in rule_names(kind) for M in Ms]


def catalogue_generators(kind: str, Ms: Iterable[int] = CATALOGUE_M) -> list[Generator]:
    return [catalogue_generator(n, M) for n in rule_names(kind) for M in Ms]


def psi_generators(Ms: Iterable[int] = CATALOGUE_M) -> list[Generator]:
    """Asymmetric generators plus the perspectives of the symmetric ones (App. E.1)."""
    return catalogue_generators("asymmetric", Ms) + [perspective(g) for g in
                                                     catalogue_generators("symmetric", (1,))]


def psi_checks(identity: Callable[..., ids.IdentityCheck], *args: object
               ) -> list[ids.IdentityCheck]:
    """``identity(Psi, *args)`` for a generic Psi (M in :data:`GENERIC_M`) and then for every
    catalogue Psi (:func:`psi_generators`, M in :data:`CATALOGUE_M`)."""
    return [identity(generic_asymmetric(M), *args) for M in GENERIC_M] + \
        [identity(g, *args) for g in psi_generators()]


def constant_difference(a: sp.Expr, b: sp.Expr, variables: Sequence[sp.Symbol]) -> tuple[bool, str]:
    """Is ``a - b`` free of ``variables`` (zero derivative in each)? Returns (ok, method)."""
    diff = a - b
    if sp.count_ops(diff) <= 200 and all(symbolic_zero(sp.diff(diff, v), effort="cheap")
                                         for v in variables):
        return True, "symbolic"
    # numerically: diff(x) - diff(x_ref) vanishes at random x (x_ref fixed, in the simplex)
    reference = {v: sp.Rational(1, 5 * (i + 2)) for i, v in enumerate(variables)}
    ok, _ = numeric_zero(diff - diff.xreplace(reference))
    return ok, "numeric (50 digits)"


def on_simplex(expr: sp.Expr, M: int) -> sp.Expr:
    eta = class_probabilities(M)
    return expr.subs({eta[0]: 1 - sp.Add(*eta[1:])})


# ---------------------------------------------------------------------------------------- exact
SEED = 20261123


def seeded_rng(offset: int = 0) -> np.random.Generator:
    return np.random.default_rng(SEED + offset)


def distribution_pairs(count: int, sizes=(2, 3, 4, 6), offset: int = 0, zeros: bool = True):
    """Seeded ``(q1, q0)`` pairs; some with zeros in ``q1`` and/or ``q0``."""
    rng = seeded_rng(offset)
    out = []
    for i in range(count):
        n = sizes[i % len(sizes)]
        q1, q0 = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
        if zeros and i % 4 == 1 and n > 2:
            q1[0] = 0.0
        if zeros and i % 4 == 2 and n > 2:
            q0[-1] = 0.0
        out.append((q1 / q1.sum(), q0 / q0.sum()))
    return out


def format_vector(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in x) + ")"
