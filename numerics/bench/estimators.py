"""The benchmark's estimator table (Sec. 4.1, Table 1; issue #5).

Figure 1's columns are views of six trainings: ``NWJ`` and ``NWJ-plugin`` are the same NWJ-trained
critic reported as its bound or its plug-in ``E_p[c]``, likewise ``JS`` (the NWJ value at the
JS-trained critic, Poole et al. 2019) and ``JS-plugin``.  :class:`BenchEstimator` says which loss
is trained (``loss`` and ``options``) and which value is read (``report``); a sweep trains each
distinct ``(loss, options)`` once and reads every estimator that shares it.  No torch here (the
claims report reads :data:`FIGURE1`); ``tests/test_benchmark.py`` checks that every entry trains
a loss of :data:`numerics.neural.losses.LOSSES`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from theory.dre import DEFAULT_NU
from theory.errors import InputError


# ------------------------------------------------------------------------------ estimators
@dataclass(frozen=True)
class BenchEstimator:
    """A benchmark column: train ``loss`` (a :data:`numerics.neural.losses.LOSSES` name) with
    ``options`` (``K`` / ``nu`` / ``tau`` / ``alpha``; ``nu_over_k`` sets ``nu = ratio * K``),
    report its ``bound`` or its ``plug-in`` estimate."""

    name: str
    label: str
    loss: str
    report: str
    options: tuple[tuple[str, float], ...] = ()

    def option_dict(self) -> dict[str, float]:
        return dict(self.options)

    @property
    def train_key(self) -> str:
        """The training this estimator reads: the loss and its options (shared by views)."""
        opts = "".join(f"_{k}{_fmt(v)}" for k, v in self.options)
        return f"{self.loss}{opts}"

    def loss_kwargs(self, batch_size: int) -> dict[str, Any]:
        """Keyword arguments of :func:`numerics.neural.losses.minibatch_loss` at batch size B."""
        opts = self.option_dict()
        kw: dict[str, Any] = {k: opts.get(k) for k in ("K", "nu", "tau", "alpha")}
        if kw["K"] is not None:
            kw["K"] = int(kw["K"])
        if "nu_over_k" in opts:
            K = kw["K"] if kw["K"] is not None else batch_size - 1
            kw["nu"] = opts["nu_over_k"] * K
        return kw


def _fmt(v: float) -> str:
    return f"{v:g}".replace(".", "p").replace("-", "m")


def _est(name, label, loss, report, **options) -> BenchEstimator:
    return BenchEstimator(name, label, loss, report, tuple(sorted(options.items())))


#: The estimators of Figure 1 (in its column order), then the other Table 1 baselines.
ESTIMATORS: dict[str, BenchEstimator] = {e.name: e for e in (
    _est("nwj", "NWJ", "nwj", "bound"),
    _est("js", "JS", "js", "bound"),
    _est("nwj_plugin", "NWJ-plugin", "nwj", "plug-in"),
    _est("js_plugin", "JS-plugin", "js", "plug-in"),
    _est("drf", "chi2-plugin (DRF)", "drf", "plug-in"),
    _est("infonce", "InfoNCE", "infonce", "bound"),
    _est("spherical", "Spherical", "pseudo_spherical", "plug-in", alpha=2.0, nu=DEFAULT_NU),
    _est("infonce_anchor", "InfoNCE-anchor", "infonce_anchor", "plug-in", nu=DEFAULT_NU),
    _est("dv", "DV", "dv", "bound"),
    _est("mine", "MINE", "mine", "bound"),
    _est("smile", "SMILE (tau=5)", "smile", "bound", tau=5.0),
    _est("alpha_infonce", "alpha-InfoNCE (alpha=0.5)", "alpha_infonce", "bound", alpha=0.5),
    _est("mlinfonce", "MLInfoNCE", "mlinfonce", "bound"),
)}


#: Figure 1's columns, in its order (eight estimators, six trainings)
FIGURE1 = ("nwj", "js", "nwj_plugin", "js_plugin", "drf", "infonce", "spherical",
           "infonce_anchor")
#: the estimators the paper calls existing: Fig. 1's columns less its own two (the anchor and
#: its Spherical variant)
EXISTING = ("nwj", "js", "nwj_plugin", "js_plugin", "drf", "infonce")


OPTION_NAMES = ("K", "nu", "tau", "alpha", "nu_over_k")


def make_estimator(name: str, base: str | None = None, label: str | None = None,
                   **options: float) -> BenchEstimator:
    """A catalogue estimator, or a variant of ``base`` with other options (e.g. ``nu``)."""
    if base is None:
        if name not in ESTIMATORS:
            raise InputError("estimator", f"unknown estimator {name!r}; known: "
                             f"{', '.join(ESTIMATORS)}")
        if not options:
            return ESTIMATORS[name]
        base = name
    if base not in ESTIMATORS:
        raise InputError("base", f"unknown base estimator {base!r}; known: {', '.join(ESTIMATORS)}")
    bad = set(options) - set(OPTION_NAMES)
    if bad:
        raise InputError("options", f"unknown option(s) {sorted(bad)} for {name}; expected "
                         f"{', '.join(OPTION_NAMES)}")
    b = ESTIMATORS[base]
    merged = {**b.option_dict(), **{k: float(v) for k, v in options.items()}}
    if "nu_over_k" in options:
        merged.pop("nu", None)
    return BenchEstimator(name, label or name, b.loss, b.report, tuple(sorted(merged.items())))


def distinct_trainings(names=FIGURE1) -> list[BenchEstimator]:
    """One estimator per distinct training among ``names`` (views of one training share it),
    in order: Fig. 1's eight columns are six trainings."""
    seen, out = set(), []
    for name in names:
        if ESTIMATORS[name].train_key not in seen:
            seen.add(ESTIMATORS[name].train_key)
            out.append(ESTIMATORS[name])
    return out
