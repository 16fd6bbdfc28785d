"""``infonce-anchor train``: train a torch critic on a discrete joint ``p(x, y)`` and compare its
MI estimate with the exact values (issue #4).

Needs torch (imported only when the command runs).  Values are in nats; text output also shows
bits.  Issue #11: without ``--lr`` the learning rate is the critic kind's default
(:data:`numerics.neural.architecture.DEFAULT_LR`, measured at this command's scale), ``--seed``
defaults to 0, and the output says whether training had converged
(:func:`numerics.neural.train.convergence_trend`), with a one-line warning on stderr when not.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from infonce_anchor.exact_cli import command_line_words, parse_option_int, parse_option_number
from numerics.exact.mi import as_joint, mi_kway_jsd, mutual_information
from numerics.exact.units import LN2
from numerics.neural.architecture import (
    CRITICS,
    DEFAULT_EMBED,
    DEFAULT_HIDDEN,
    DEFAULT_LAYERS,
    DEFAULT_LR,
    default_lr,
)
from theory.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser("train", help="train a torch critic on a discrete joint p(x, y) (.npy) "
                       "and compare its estimate with the exact MI and K-way JSD")
    t.add_argument("--joint", required=True, metavar="FILE.npy",
                   help="a 2-D array p(x, y) (rows x, columns y) saved with numpy.save")
    t.add_argument("--normalize", action="store_true", help="rescale the table to sum to 1")
    t.add_argument("--estimator", required=True, metavar="NAME",
                   help="dv, nwj, infonce, mine, js, smile, drf, fdime_kl, fdime_gan, "
                   "fdime_hellinger, infonce_anchor, power, pseudo_spherical, sym_inverse_log, "
                   "alpha_infonce, mlinfonce")
    t.add_argument("--critic", required=True, metavar="KIND",
                   help=" | ".join(CRITICS) + " (separable: log r = <g(x), h(y)>; "
                   "separable_pd: r = <softplus(g(x)), softplus(h(y))>)")
    t.add_argument("--batch-size", required=True, metavar="B", help="pairs per batch (>= 2)")
    t.add_argument("--steps", required=True, metavar="N", help="Adam steps")
    t.add_argument("--seed", default="0", metavar="S", help="seed (integer >= 0, default 0); "
                   "run r of --runs uses S + r")
    t.add_argument("--device", metavar="DEV", help="cpu | cuda (default: cuda if available)")
    t.add_argument("--lr", metavar="LR", help="Adam learning rate (default by critic kind: "
                   + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items())
                   + "; the paper's 1e-4 is for its 2 x 512 MLPs over 20k steps)")
    t.add_argument("--lr-schedule", default="constant", choices=("constant", "cosine"),
                   help="constant (the paper's) or cosine decay to 0")
    t.add_argument("--nu", metavar="NU", help="anchor weight (default 1 for the anchored losses)")
    t.add_argument("--K", metavar="K", help="slots per row (default B - 1)")
    t.add_argument("--tau", metavar="TAU", help="SMILE's clipping threshold")
    t.add_argument("--alpha", metavar="ALPHA", help="the scoring rule's parameter (power, "
                   "pseudo_spherical) or alpha-InfoNCE's alpha in (0, 1]")
    t.add_argument("--runs", default="1", metavar="R", help="independent runs trained at once "
                   "(default 1)")
    t.add_argument("--eval-batches", default="20", metavar="N",
                   help="held-out batches for the estimate and its standard error (default 20)")
    t.add_argument("--hidden", default=str(DEFAULT_HIDDEN), metavar="H",
                   help=f"MLP width (default {DEFAULT_HIDDEN})")
    t.add_argument("--layers", default=str(DEFAULT_LAYERS), metavar="L",
                   help=f"hidden layers (default {DEFAULT_LAYERS})")
    t.add_argument("--embed", default=str(DEFAULT_EMBED), metavar="E",
                   help=f"separable embedding (default {DEFAULT_EMBED})")
    t.add_argument("--out", metavar="FILE", help="also write one row per run (.csv, or "
                   ".parquet with pyarrow)")
    t.add_argument("--quiet", action="store_true", help="no progress bar")
    t.add_argument("--json", action="store_true", help="print JSON")


def load_joint(path_text: str, normalize: bool = False):
    """The ``.npy`` file as a validated joint table (InputErrors name ``--joint``)."""
    path = Path(path_text)
    if not path.is_file():
        raise InputError("--joint", f"no such file: {path_text}")
    try:
        arr = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise InputError("--joint", f"cannot read {path_text}: not a NumPy .npy file of "
                         f"numbers ({type(exc).__name__})") from None
    if not isinstance(arr, np.ndarray):
        raise InputError("--joint", f"{path_text} holds several arrays (.npz); save one 2-D "
                         "array with numpy.save")
    if arr.dtype.kind not in "biuf":
        raise InputError("--joint", f"must hold real numbers, got dtype {arr.dtype}")
    try:
        return as_joint(arr, "--joint", normalize=normalize)
    except InputError as exc:
        raise command_line_words(exc) from None


def train(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        raise InputError("train", "needs torch (pip install 'infonce-anchor[torch]')") from None
    from numerics.neural import losses as torch_losses
    from numerics.neural.device import resolve_device
    from numerics.neural.loop import TrainingDiverged
    from numerics.neural.results import write_results
    from numerics.neural.samplers import DiscreteJointSampler
    from numerics.neural.train import train as run_training

    if args.estimator not in torch_losses.LOSSES:
        raise InputError("--estimator", f"unknown estimator {args.estimator!r}; expected one "
                         f"of {', '.join(torch_losses.LOSSES)}")
    if args.critic not in CRITICS:
        raise InputError("--critic", f"unknown critic {args.critic!r}; expected one of "
                         f"{', '.join(CRITICS)}")
    B = parse_option_int(args.batch_size, "--batch-size", 1)
    if B < 2:
        raise InputError("--batch-size", f"must be >= 2 for {args.estimator} (the negatives "
                         f"are the batch's off-diagonal pairs; InfoNCE-type losses have K = B - 1 "
                         f"slots), got {B}")
    steps = parse_option_int(args.steps, "--steps", 0)
    seed = parse_option_int(args.seed, "--seed", 0)
    runs = parse_option_int(args.runs, "--runs", 1)
    eval_batches = parse_option_int(args.eval_batches, "--eval-batches", 2)
    K = parse_option_int(args.K, "--K", 1)
    hidden, layers, embed = (parse_option_int(args.hidden, "--hidden", 1),
                             parse_option_int(args.layers, "--layers", 1),
                             parse_option_int(args.embed, "--embed", 1))
    if args.lr is None:
        lr = default_lr(args.critic)
        lr_source = f"default for the {args.critic} critic"
    else:
        lr = parse_option_number(args.lr, "--lr")
        if not lr > 0:
            raise InputError("--lr", f"must be > 0, got {args.lr!r}")
        lr_source = "given"
    nu, tau, alpha = (parse_option_number(args.nu, "--nu"), parse_option_number(args.tau, "--tau"),
                      parse_option_number(args.alpha, "--alpha"))
    if args.out is not None and Path(args.out).suffix.lower() not in (".csv", ".parquet"):
        raise InputError("--out", f"results go to a .csv or .parquet file, got {args.out!r}")
    if args.out is not None and Path(args.out).suffix.lower() == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise InputError("--out", "writing Parquet needs pyarrow (pip install pyarrow); "
                             "use a .csv path") from None
    try:
        device = resolve_device(args.device)
    except InputError as exc:
        raise InputError("--device", exc.rule) from None
    joint = load_joint(args.joint, args.normalize)

    try:
        result = run_training(
            args.estimator, args.critic, DiscreteJointSampler(joint), batch_size=B, steps=steps,
            lr=lr, lr_schedule=args.lr_schedule, seed=seed, device=device, runs=runs, K=K,
            nu=nu, tau=tau, alpha=alpha,
            eval_batches=eval_batches, progress=not args.quiet, hidden=hidden, layers=layers,
            embed=embed)
    except InputError as exc:
        arg = exc.argument if exc.argument.startswith("--") else \
            "--" + exc.argument.replace("_", "-")
        raise InputError(arg, exc.rule) from None
    except TrainingDiverged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    K_slots = result.K if result.K is not None else B - 1
    # the slot losses contrast the y's of a row x_i (App. B): their population form is
    # E_x D_KJS(p(y|x), p(y)), i.e. numerics.exact.mi's convention on the transposed joint
    out = {"estimator": result.estimator, "critic": result.critic_kind, "kind": result.kind,
           "estimate_nats": result.estimate_nats, "estimate_se_nats": result.estimate_se_nats,
           "bound_nats": result.bound_nats, "bound_se_nats": result.bound_se_nats,
           "plugin_nats": result.plugin_nats, "plugin_se_nats": result.plugin_se_nats,
           "true_mi_nats": mutual_information(joint),
           "kjs_target_nats": mi_kway_jsd(joint.T, K_slots), "kjs_K": K_slots,
           "K": result.K, "nu": result.nu, "tau": tau, "alpha": alpha,
           "device": result.device, "seed": seed, "runs": runs, "steps": steps,
           "batch_size": B, "lr": lr, "lr_source": lr_source,
           "lr_schedule": args.lr_schedule, "eval_batches": eval_batches,
           "converged": result.converged,
           "convergence": [c.as_dict() for c in result.per_run("convergence")] if runs > 1
           else result.convergence.as_dict(),
           "seconds": result.seconds, "out": args.out}
    if args.out is not None:
        write_results(result, args.out, extra={"kjs_target_nats": out["kjs_target_nats"]})
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        _print_text(out)
    warning = convergence_warning(result.per_run("convergence"), seed, out["kind"],
                                  args.lr_schedule)
    if warning:
        print(warning, file=sys.stderr)
    return 0


def convergence_warning(convergence: list, seed: int, kind: str, lr_schedule: str) -> str | None:
    """One stderr line when a run has not converged (or could not be judged), else None."""
    bad = [(r, c) for r, c in enumerate(convergence) if c.converged is not True]
    if not bad:
        return None
    r, c = bad[0]
    which = "" if len(convergence) == 1 else \
        f"{len(bad)} of {len(convergence)} runs, e.g. run {r} (seed {seed + r}): "
    if c.converged is None:
        return f"warning: {which}convergence not judged: {c.reason}"
    if c.change_nats is None or not math.isfinite(c.change_nats):
        return f"warning: {which}not converged: {c.reason}"
    advice = "train longer or raise --lr" if c.change_nats > 0 else "train longer"
    if lr_schedule == "cosine":
        advice = "train longer"
    return (f"warning: {which}not converged: the training {kind} is {c.reason}; "
            f"{advice}")


def _fmt(value, se=None) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v) for v in value) + "] nats"
    text = f"{value:.6g} nats ({value / LN2:.6g} bits)"
    return text if se is None else f"{text} +- {se:.2g} nats (MC s.e.)"


def _print_text(out: dict) -> None:
    single = out["runs"] == 1
    print(f"{out['estimator']} with a {out['critic']} critic: {out['steps']} steps, batch "
          f"{out['batch_size']}, lr {out['lr']:g} ({out['lr_source']}), seed {out['seed']}, "
          f"{out['runs']} run(s) on {out['device']} ({out['seconds']:.1f} s)")
    print(f"  estimate ({out['kind']}): "
          f"{_fmt(out['estimate_nats'], out['estimate_se_nats'] if single else None)}")
    print(f"  bound:    {_fmt(out['bound_nats'], out['bound_se_nats'] if single else None)}")
    print(f"  plug-in:  {_fmt(out['plugin_nats'], out['plugin_se_nats'] if single else None)}")
    print(f"  true MI:  {_fmt(out['true_mi_nats'])}")
    print(f"  D_KJS target (K = {out['kjs_K']}): {_fmt(out['kjs_target_nats'])}")
    convs = out["convergence"] if isinstance(out["convergence"], list) else [out["convergence"]]
    for r, c in enumerate(convs):
        verdict = {True: "converged", False: "NOT converged", None: "not judged"}[c["converged"]]
        label = "" if single else f" (run {r})"
        print(f"  convergence{label}: {verdict}, training {out['kind']} {c['reason']}")
    if out["out"]:
        print(f"  results written to {out['out']}")
