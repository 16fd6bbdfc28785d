"""Generating functions: Psi on ``{1} x R_+^M`` (Eq. 6) and Phi on the simplex (Eq. 8).

A generating function is a sympy expression in declared variables with declared parameters.
``AsymmetricGenerator`` holds Psi in the odds ``rho1..rhoM`` (``rho_0 = 1`` is fixed);
``SymmetricGenerator`` holds Phi in the class probabilities ``eta0..etaM``.  The perspective
transform (App. E.1) turns a Phi into the Psi that induces the same rule (Thm 18).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from theory.errors import InputError
from theory.symbols import ALPHA, check_classes, class_probabilities, odds_symbols

Kind = Literal["asymmetric", "symmetric"]


@dataclass(frozen=True)
class Generator:
    """A generating function: ``expr`` in ``variables`` with free ``parameters``.

    ``kind == "asymmetric"``: Psi(rho_1..rho_M) on ``{1} x R_+^M``;
    ``kind == "symmetric"``: Phi(eta_0..eta_M) on the simplex ``Delta({0..M})``.
    """

    expr: sp.Expr
    classes: int
    kind: Kind
    parameters: tuple[sp.Symbol, ...] = ()
    name: str = "custom"
    assumptions: tuple[str, ...] = field(default=())

    @property
    def variables(self) -> tuple[sp.Symbol, ...]:
        if self.kind == "asymmetric":
            return odds_symbols(self.classes)
        return class_probabilities(self.classes)

    @property
    def symbol(self) -> str:
        return "Psi" if self.kind == "asymmetric" else "Phi"

    def substitute(self, values: Mapping[sp.Symbol, object]) -> "Generator":
        """The generator with some parameters fixed to values."""
        fixed = {p: sp.sympify(v) for p, v in values.items()}
        remaining = tuple(p for p in self.parameters if p not in fixed)
        return Generator(self.expr.subs(fixed), self.classes, self.kind, remaining,
                         self.name, self.assumptions)


def AsymmetricGenerator(expr: sp.Expr, classes: int, parameters: Iterable[sp.Symbol] = (),
                        name: str = "custom") -> Generator:
    """Psi on ``{1} x R_+^M`` as a :class:`Generator` (Eq. 6)."""
    return _validated(Generator(sp.sympify(expr), check_classes(classes), "asymmetric",
                                tuple(parameters), name))


def SymmetricGenerator(expr: sp.Expr, classes: int, parameters: Iterable[sp.Symbol] = (),
                       name: str = "custom") -> Generator:
    """Phi on the simplex ``Delta({0..M})`` as a :class:`Generator` (Eq. 8)."""
    return _validated(Generator(sp.sympify(expr), check_classes(classes), "symmetric",
                                tuple(parameters), name))


def _validated(gen: Generator) -> Generator:
    allowed = set(gen.variables) | set(gen.parameters)
    stray = gen.expr.free_symbols - allowed
    if stray:
        names = ", ".join(sorted(str(s) for s in stray))
        raise InputError("expression", _undeclared_message(names, gen.kind, gen.classes,
                                                           gen.parameters))
    undefined = gen.expr.atoms(AppliedUndef)
    if undefined and not all(u.args == gen.variables for u in undefined):
        names = ", ".join(sorted(str(u.func) for u in undefined))
        raise InputError("expression", f"unknown function(s) {names}: use sympy functions "
                         "(log, exp, sqrt, ...) of the declared variables")
    return gen


def _undeclared_message(names: str, kind: Kind, M: int, parameters: Iterable[sp.Symbol]) -> str:
    if kind == "asymmetric":
        variables = "rho" if M == 1 else f"rho1..rho{M}"
        variables += " (rho1..rhoM; rho for M = 1)"
    else:
        variables = f"eta0..eta{M}"
    params = ", ".join(str(p) for p in parameters) or "none"
    return (f"undeclared symbol(s) {names}; an {kind} generator with M = {M} may use "
            f"{variables} and the declared parameters ({params})")


def parse_generator(text: str, *, kind: Kind, classes: int,
                    parameters: Mapping[str, object] | Iterable[str] = ("alpha",),
                    name: str = "custom") -> Generator:
    """Parse a user's generating function.

    ``parameters`` names the free parameters (kept symbolic) or maps names to values.
    Variables: ``rho1..rhoM`` (``rho`` when M = 1) for an asymmetric Psi, ``eta0..etaM`` for a
    symmetric Phi.  Any other name is an error that names it.

    >>> parse_generator("rho*log(rho)", kind="asymmetric", classes=1).expr
    rho1*log(rho1)
    """
    if kind not in ("asymmetric", "symmetric"):
        raise InputError("kind", f"must be 'asymmetric' or 'symmetric', got {kind!r}")
    M = check_classes(classes)
    values = dict(parameters) if isinstance(parameters, Mapping) else {p: None for p in parameters}
    params = {n: (ALPHA if n == "alpha" else sp.Symbol(n, positive=True)) for n in values}
    local: dict[str, object] = dict(params)
    if kind == "asymmetric":
        local.update({str(s): s for s in odds_symbols(M)})
        if M == 1:
            local["rho"] = odds_symbols(1)[0]
    else:
        local.update({str(s): s for s in class_probabilities(M)})
    try:
        expr = parse_expr(text, local_dict=local, transformations=standard_transformations)
    except Exception as exc:  # noqa: BLE001 - tokenize, syntax, attribute errors alike
        raise InputError("expression", f"cannot parse {text!r} as a sympy expression "
                         f"({type(exc).__name__}: {exc})") from None
    if not isinstance(expr, sp.Expr) or expr.has(sp.Lambda):
        raise InputError("expression", f"{text!r} is not a scalar expression in the variables")
    unknown = expr.atoms(AppliedUndef)
    if unknown:
        names = ", ".join(sorted(str(u.func) for u in unknown))
        raise InputError("expression", f"unknown function(s) {names}: use sympy functions "
                         "(log, exp, sqrt, ...) of the declared variables")
    used = tuple(p for p in params.values() if p in expr.free_symbols)
    gen = (AsymmetricGenerator if kind == "asymmetric" else SymmetricGenerator)(
        expr, M, used, name)
    fixed = {params[n]: v for n, v in values.items() if v is not None and params[n] in used}
    return gen.substitute(fixed) if fixed else gen


def perspective(phi: Generator) -> Generator:
    """App. E.1: ``Psi_Phi(rho) = ||rho||_1 Phi(rho / ||rho||_1)`` with ``rho = (1, rho_1..rho_M)``."""
    if phi.kind != "symmetric":
        raise InputError("phi", "the perspective transform takes a symmetric generator Phi")
    rho = odds_symbols(phi.classes)
    norm = 1 + sp.Add(*rho)
    point = (1 / norm,) + tuple(r / norm for r in rho)
    expr = norm * evaluate_generator(phi, point)
    return Generator(expr, phi.classes, "asymmetric", phi.parameters,
                     f"perspective({phi.name})")


def evaluate_generator(gen: Generator, point: tuple[sp.Expr, ...]) -> sp.Expr:
    """``gen`` at ``point`` (works for generic sympy Functions too)."""
    mapping = dict(zip(gen.variables, point))
    if gen.expr.atoms(AppliedUndef):
        return gen.expr.subs(mapping, simultaneous=True)
    return gen.expr.xreplace(mapping)


def generic_asymmetric(M: int) -> Generator:
    """An arbitrary (undefined) ``Psi(rho_1, ..., rho_M)``: identities proved for it hold for all."""
    rho = odds_symbols(check_classes(M))
    return Generator(sp.Function("Psi")(*rho), M, "asymmetric", (), "generic Psi")


def generic_symmetric(M: int) -> Generator:
    """An arbitrary (undefined) ``Phi(eta_0, ..., eta_M)``."""
    eta = class_probabilities(check_classes(M))
    return Generator(sp.Function("Phi")(*eta), M, "symmetric", (), "generic Phi")
