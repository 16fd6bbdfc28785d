"""Errors raised for bad input, each naming the offending argument and the rule it broke."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input to a public function.

    The message always has the form ``"<argument>: <rule that was broken>"`` so that the
    command line can print it as one clear line.

    >>> str(InputError("classes", "M must be an integer >= 1, got 0"))
    'classes: M must be an integer >= 1, got 0'
    """

    def __init__(self, argument: str, rule: str) -> None:
        self.argument = argument
        self.rule = rule
        super().__init__(f"{argument}: {rule}")


class ImproperRuleError(InputError):
    """A scoring rule that is not proper was used where propriety is required (Thm 9)."""


def require_int(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as an ``int`` if it is an integer (Python or numpy, not bool) ``>= minimum``;
    else an :class:`InputError` naming ``name``.  The one integer check of every layer."""
    is_int = isinstance(value, int) or type(value).__module__ == "numpy" and \
        hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"
    if isinstance(value, bool) or not is_int or value < minimum:
        raise InputError(name, f"must be an integer >= {minimum}, got {value!r}")
    return int(value)
