"""The paper's MI experiments on one GPU, in one short device run (issue #12).

    python3 benchmarks/gpu_session.py --out DIR [--budget-s 540] [--device cuda]
    python3 benchmarks/gpu_session.py --out DIR --smoke          # tiny sizes, on the CPU

Everything lands in ``DIR``: ``session.json`` (every measurement), ``session.log``,
``profile.txt``, ``pytest_gpu.log`` and ``results.tar`` (per sweep: ``config.json``,
``levels.json``, ``summary.csv`` / ``.json``, ``tables.md``, the staircase PNGs; what ships
under ``infonce_anchor/shipped_results/``).  The sweeps' unit files stay in ``DIR/work`` (too large to
bring back; every unit is reproducible from its config).

Parts, in order; each has a deadline (a share of ``--budget-s``) and a failure in one is logged
and the next starts, so a slow or broken part cannot eat the rest:

A. **Correctness on the device.**  The ``gpu``-marked tests (a subprocess with a timeout);
   every loss value and gradient on the device (float32) against the CPU in float64; a batched
   group against the same runs one by one on the device; the CUDA-graph step against the eager
   loop (fp32 and bf16); no host synchronisation inside the training loop
   (``torch.cuda.set_sync_debug_mode("error")`` over the steady-state steps and a held-out
   evaluation).  CUDA graphs are used afterwards only if they passed here.
B. **Speed and precision.**  The Fig. 1 panel's six trainings x 20 seeds as one group per
   critic (unit sampling), on a shortened staircase, in fp32, TF32 and bf16 autocast: the time
   per step, and the held-out estimates of each precision against fp32's.  A precision is
   *validated* when at every estimator, critic and level ``|mean_p - mean_fp32| <= sd_fp32``
   (the fp32 seed-to-seed standard deviation) and no seed diverges that fp32 kept; the panel
   then uses the fastest validated one.  Also timed on the same card: one run at a time (fp32,
   the plain loop, a few hundred steps per training and critic, extrapolated to 20 seeds x
   20k steps), per-unit batching (20 seeds), the grouped eager loop, and a profile.
C. **The panel** (``benchmarks/configs/fig1_gaussian.toml``) at the chosen setting, then an
   fp32 check of three of its trainings at full length on the joint critic (4 seeds).
D. **With the time left**, group by group in this order, each only when its predicted time
   fits: Fig. 3 (``fig3_cubic.toml``: B = 16, 64, 256; the joint critic at 256 is cut by the
   config), the Gaussian panel at App. G's B = 16 (``fig1_gaussian_b16.toml``), and the digits
   task (``digits.toml``).  A sweep left incomplete says so in its ``levels.json``.
E. **Reports**: each sweep's tables and plots are written and appended to ``results.tar`` as
   soon as its part ends, so a session stopped later keeps them.

``--smoke`` runs every part at tiny sizes (2 seeds, 4 steps a level, 16-unit MLPs) on the CPU,
where the graph step runs its static-input loop without capture; the test suite runs it.
"""

from __future__ import annotations

import time

START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tarfile  # noqa: E402
import traceback  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from infonce_anchor.bench_cli import write_report  # noqa: E402
from numerics.bench.config import SweepConfig
from numerics.bench.estimators import ESTIMATORS, FIGURE1, distinct_trainings
from numerics.bench.runner import (
    load_units,
    run_unit_group,
    unit_groups,
    unit_path,
    write_config_record,
)
from numerics.bench.staircase import run_staircase, run_staircase_group
from numerics.bench.statistics import level_estimates
from numerics.bench.tasks import GaussianStaircase  # noqa: E402
from numerics.exact.units import LN2
from numerics.neural.critics import make_critic  # noqa: E402
from numerics.neural.device import resolve_device
from numerics.neural.loop import LossBlock, evaluate, optimise
from numerics.neural.losses import LOSSES, minibatch_loss  # noqa: E402
from numerics.neural.samplers import GaussianSampler
from numerics.neural.streams import stream_generators

CONFIGS = ROOT / "benchmarks" / "configs"
PANEL = "fig1_gaussian.toml"
EXTRAS = ("fig3_cubic.toml", "fig1_gaussian_b16.toml", "digits.toml")
PRECISION_ORDER = ("bf16", "tf32", "fp32")
#: options of the losses that need one (the benchmark's values)
LOSS_OPTIONS = {"smile": {"tau": 5.0}, "power": {"alpha": 2.0},
                "pseudo_spherical": {"alpha": 2.0}, "alpha_infonce": {"alpha": 0.5}}
GPU_TEST_FILES = ("tests/test_training.py", "tests/test_benchmark.py",
                  "tests/test_train_cli.py", "tests/test_grouped_training.py")



# ------------------------------------------------------------------------------ session
class Session:
    """The clock, the log and the record (``session.json``) of one device run."""

    def __init__(self, out: Path, budget_s: float, smoke: bool, device: torch.device) -> None:
        self.out, self.budget, self.smoke, self.device = out, budget_s, smoke, device
        self.work = out / "work"
        self.work.mkdir(parents=True, exist_ok=True)
        self.log_file = (out / "session.log").open("a")
        self.cuda = device.type == "cuda"
        self.record: dict = {
            "device": torch.cuda.get_device_name(device) if self.cuda else
            (platform.processor() or "cpu"),
            "torch": torch.__version__, "cuda": torch.version.cuda, "python":
            platform.python_version(), "budget_s": budget_s, "smoke": smoke, "parts": {}}

    def elapsed(self) -> float:
        return time.perf_counter() - START

    def left(self) -> float:
        return self.budget - self.elapsed()

    def log(self, line: str) -> None:
        text = f"[{self.elapsed():7.1f} s] {line}"
        print(text, flush=True)
        self.log_file.write(text + "\n")
        self.log_file.flush()

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    @contextmanager
    def part(self, name: str, deadline_s: float):
        """A part: its status, seconds and error go to the record; an exception is logged
        and swallowed (the next part starts); ``deadline_s`` is when it must end."""
        entry = {"status": "ok", "deadline_s": round(deadline_s, 1)}
        self.record["parts"][name] = entry
        start = self.elapsed()
        self.log(f"== {name} (until {deadline_s:.0f} s)")
        try:
            yield entry
        except Exception as exc:   # a failed part is a finding, not the end of the session
            entry["status"] = "failed"
            entry["error"] = f"{type(exc).__name__}: {exc}"
            self.log(f"{name} FAILED: {entry['error']}\n{traceback.format_exc()}")
        finally:
            entry["seconds"] = round(self.elapsed() - start, 1)
            self.save()

    def save(self) -> None:
        (self.out / "session.json").write_text(json.dumps(_strict(self.record), indent=1))


def _strict(obj):
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_strict(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer, np.bool_)):
        return _strict(obj.item())
    return obj


# ------------------------------------------------------------------------------ sizes
class Sizes:
    """The session's sizes: the paper's, or tiny ones for ``--smoke``."""

    def __init__(self, smoke: bool) -> None:
        self.smoke = smoke
        self.seeds = 2 if smoke else 20
        self.hidden = 16 if smoke else 512
        self.steps_per_level = 4 if smoke else 4000
        self.validation_steps = 4 if smoke else 300     # per level, 5 levels
        self.sequential_steps = 3 if smoke else 200
        self.per_unit_steps = 3 if smoke else 100
        self.check_seeds = 2 if smoke else 4
        self.batch = 16 if smoke else 64               # part B's groups (the panel's B)
        self.small = dict(batch_size=16, hidden=16) if smoke else dict(batch_size=32,
                                                                         hidden=64)

    def config(self, name: str) -> SweepConfig:
        cfg = SweepConfig.from_file(CONFIGS / name)
        if self.smoke:
            cfg.task["steps_per_level"] = self.steps_per_level
            cfg.train.update(seeds=self.seeds, runs_per_unit=self.seeds, hidden=self.hidden,
                             eval_batches=2)
            cfg.name += "-smoke"
        return cfg


# ------------------------------------------------------------------------------ A. correctness
def gpu_tests(sess: Session, timeout: float) -> dict:
    """``pytest -m gpu`` on the files with gpu-marked tests, in a subprocess."""
    if sess.smoke or not sess.cuda:
        return {"status": "skipped", "why": "no CUDA (smoke run)"}
    cmd = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider",
           *GPU_TEST_FILES]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                              timeout=max(5.0, timeout))
    except subprocess.TimeoutExpired as exc:
        (sess.out / "pytest_gpu.log").write_text(str(exc.stdout or ""))
        return {"status": "timeout", "timeout_s": timeout}
    (sess.out / "pytest_gpu.log").write_text(proc.stdout + proc.stderr)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    return {"status": "passed" if proc.returncode == 0 else "failed",
            "returncode": proc.returncode, "summary": lines[-1] if lines else ""}


def loss_parity(sess: Session) -> dict:
    """Every loss's value, bound, plug-in and gradient with respect to the scores on the
    device in float32, against the CPU in float64 (scores ``2 N(0, 1)``, 3 runs, B = 16).
    Tolerance: ``|a - b| <= 1e-4 max(1, |b|)`` per entry (float32 rounding through a few
    dozen operations; float32's epsilon is 1.2e-7)."""
    g = torch.Generator().manual_seed(0)
    S = 2.0 * torch.randn(3, 16, 16, generator=g, dtype=torch.float64)
    rows, ok = {}, True
    for name in LOSSES:
        kw = LOSS_OPTIONS.get(name, {})
        ref_s = S.clone().requires_grad_(True)
        ref = minibatch_loss(name, ref_s, **kw)
        ref.loss.sum().backward()
        dev_s = S.float().to(sess.device).requires_grad_(True)
        out = minibatch_loss(name, dev_s, **kw)
        out.loss.sum().backward()
        pairs = [(out.loss, ref.loss), (out.plugin_nats, ref.plugin_nats),
                 (dev_s.grad, ref_s.grad)]
        if ref.bound_nats is not None:
            pairs.append((out.bound_nats, ref.bound_nats))
        worst = max(float(((a.detach().double().cpu() - b.detach()).abs()
                           / b.detach().abs().clamp(min=1.0)).max()) for a, b in pairs)
        rows[name] = worst
        ok &= worst <= 1e-4
    return {"passed": bool(ok), "tolerance": "1e-4 relative (floor 1)",
            "max_relative_error": rows}


def batched_vs_single(sess: Session, sizes: "Sizes") -> dict:
    """A group of two trainings x 3 seeds (joint critic, fp32, per-run streams) against each
    run trained alone on the device: the largest difference of the held-out and stepwise
    estimates (nats).  Different batched kernels round differently; passes at 2e-3 nats."""
    st = GaussianStaircase(levels_bits=(2.0, 6.0), steps_per_level=4 if sess.smoke else 25)
    kw = dict(**sizes.small, eval_batches=4, progress=False, device=sess.device)
    members = [(ESTIMATORS["infonce_anchor"], 0, 3), (ESTIMATORS["js"], 3, 3)]
    grouped = run_staircase_group(members, "joint", st, **kw)
    worst = 0.0
    for (est, seed, runs), run in zip(members, grouped):
        for r in range(runs):
            alone = run_staircase(est, "joint", st, seed=seed + r, runs=1, **kw)
            for name in ("heldout_plugin", "train_plugin"):
                d = np.nanmax(np.abs(getattr(run, name)[:, r] - getattr(alone, name)[:, 0]))
                worst = max(worst, float(d))
    return {"passed": worst <= 2e-3, "max_abs_diff_nats": worst, "tolerance_nats": 2e-3}


def graphs_vs_eager(sess: Session, sizes: "Sizes") -> dict:
    """The captured step against the eager loop: the same group (3 trainings x 2 seeds, unit
    streams), fp32 and bf16; the largest difference of the estimates (nats)."""
    st = GaussianStaircase(levels_bits=(2.0, 6.0), steps_per_level=5 if sess.smoke else 30)
    kw = dict(**sizes.small, eval_batches=4, progress=False, device=sess.device,
              sampling="unit")
    members = [(ESTIMATORS[n], 0, 2) for n in ("infonce_anchor", "nwj", "spherical")]
    out = {}
    for precision, tol in (("fp32", 1e-4), ("bf16", 1e-3)):
        eager = run_staircase_group(members, "joint", st, precision=precision, **kw)
        graphed = run_staircase_group(members, "joint", st, precision=precision, graphs=True,
                                      **kw)
        worst = max(float(np.nanmax(np.abs(getattr(a, n) - getattr(b, n))))
                    for a, b in zip(eager, graphed) for n in ("train_plugin", "heldout_plugin"))
        out[precision] = {"max_abs_diff_nats": worst, "tolerance_nats": tol,
                          "passed": worst <= tol}
    out["passed"] = all(v["passed"] for v in out.values() if isinstance(v, dict))
    return out


def no_host_sync(sess: Session, graphs: bool) -> dict:
    """Steps 6 .. n-2 of a grouped training loop, and a held-out evaluation in between, under
    ``torch.cuda.set_sync_debug_mode("error")``: any synchronising call raises."""
    if not sess.cuda:
        return {"status": "skipped", "why": "no CUDA"}
    dev, steps = sess.device, 30
    sampler = GaussianSampler(10, 2.0)
    critic = make_critic("joint", dx=10, dy=10, hidden=64, seeds=[0, 1, 2, 3]).to(dev)
    ests = [ESTIMATORS["infonce_anchor"], ESTIMATORS["nwj"]]

    def blocks(stream):
        return [LossBlock(e.loss, e.loss_kwargs(16), stream_generators(2 * i, 2, stream, dev,
                                                                        "unit"))
                for i, e in enumerate(ests)]
    train_blocks, eval_blocks = blocks(1), blocks(2)

    def hook(step: int) -> None:
        if step == 5:
            torch.cuda.set_sync_debug_mode("error")
        if step == 15:
            evaluate(critic, eval_blocks, sampler, batch_size=16, critic_kind="joint",
                     batches=4, check_finite=False)
        if step == steps - 2:
            torch.cuda.set_sync_debug_mode(0)
    try:
        optimise(critic, train_blocks, lambda t: sampler, steps=steps, batch_size=16,
                 critic_kind="joint", lr=1e-4, progress=False, record=True,
                 keep_diverged=True, on_step=hook, graphs=graphs)
    except RuntimeError as exc:
        return {"passed": False, "error": str(exc)[:500], "graphs": graphs}
    finally:
        torch.cuda.set_sync_debug_mode(0)
    return {"passed": True, "graphs": graphs, "checked_steps": f"6..{steps - 2} + evaluate"}


def part_a(sess: Session, sizes: "Sizes", deadline: float) -> bool:
    """Returns whether CUDA graphs may be used (they replayed the eager numbers)."""
    rec = sess.record.setdefault("correctness", {})
    rec["gpu_tests"] = gpu_tests(sess, min(90.0, deadline - sess.elapsed() - 30))
    sess.log(f"gpu tests: {rec['gpu_tests']}")
    rec["loss_parity"] = loss_parity(sess)
    sess.log(f"loss parity: passed={rec['loss_parity']['passed']}")
    rec["batched_vs_single"] = batched_vs_single(sess, sizes)
    sess.log(f"batched vs single: {rec['batched_vs_single']}")
    try:
        rec["graphs_vs_eager"] = graphs_vs_eager(sess, sizes)
    except Exception as exc:   # capture not possible here: the eager loop it is
        rec["graphs_vs_eager"] = {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
    graphs = bool(rec["graphs_vs_eager"]["passed"])
    sess.log(f"graphs vs eager: {rec['graphs_vs_eager']}")
    rec["no_host_sync"] = no_host_sync(sess, graphs)
    sess.log(f"no host sync: {rec['no_host_sync']}")
    return graphs


# ------------------------------------------------------------------------------ B. speed
def timed_group(sess: Session, critic: str, staircase, *, precision: str, graphs: bool,
                seeds: int, hidden: int, sampling: str = "unit", batch_size: int):
    """The six Fig. 1 trainings x ``seeds`` as one group; returns (runs, seconds per step)."""
    members = [(e, 0, seeds) for e in distinct_trainings()]
    sess.sync()
    t = time.perf_counter()
    runs = run_staircase_group(members, critic, staircase, batch_size=batch_size, lr=1e-4,
                               device=sess.device, hidden=hidden, eval_batches=16,
                               progress=False, sampling=sampling, precision=precision,
                               graphs=graphs)
    sess.sync()
    return runs, (time.perf_counter() - t) / staircase.total_steps


def agreement(reference: list, candidate: list) -> dict:
    """Per estimator view and level (bits): the candidate's mean against the reference's,
    in units of the reference's seed-to-seed sd.  Agrees when every ``|d| <= sd`` and no run
    diverged (NaN) that the reference kept."""
    worst, rows, ok = 0.0, [], True
    for ref_run, run in zip(reference, candidate):
        for name in FIGURE1:
            est = ESTIMATORS[name]
            if est.train_key != ref_run.settings["train_key"]:
                continue
            a = level_estimates(ref_run, est, "heldout") / LN2
            b = level_estimates(run, est, "heldout") / LN2
            extra_nan = int((np.isnan(b) & ~np.isnan(a)).sum())
            for level in range(a.shape[0]):
                sd = float(np.nanstd(a[level], ddof=1))
                d = float(np.nanmean(b[level]) - np.nanmean(a[level]))
                ratio = abs(d) / sd if sd > 0 else (0.0 if d == 0 else math.inf)
                rows.append({"estimator": name, "level": level, "diff_bits": d,
                             "sd_fp32_bits": sd, "ratio": ratio})
                worst = max(worst, ratio)
                ok &= ratio <= 1.0
            ok &= extra_nan == 0
    return {"agrees": bool(ok), "max_ratio": worst, "rows": rows}


def part_b(sess: Session, sizes: Sizes, graphs: bool, deadline: float,
           forced: str | None = None) -> dict:
    """Times and validates the precisions; returns the chosen setting and the step model."""
    rec = sess.record.setdefault("speed", {})
    hidden = sizes.hidden
    # warm-up (CUDA context, cuBLAS, compiled scoring rules) and a probe of each setting
    probe = GaussianStaircase(levels_bits=(2.0,), steps_per_level=4 if sizes.smoke else 40)
    step_time = {}
    for precision in PRECISION_ORDER:
        for critic in ("joint", "separable"):
            warm = GaussianStaircase(levels_bits=(2.0,), steps_per_level=6)
            timed_group(sess, critic, warm, precision=precision, graphs=graphs,
                        seeds=sizes.seeds, hidden=hidden, batch_size=sizes.batch)
            _, t = timed_group(sess, critic, probe, precision=precision, graphs=graphs,
                               seeds=sizes.seeds, hidden=hidden, batch_size=sizes.batch)
            step_time[(precision, critic)] = t
    rec["probe_step_s"] = {f"{p}/{c}": t for (p, c), t in step_time.items()}
    sess.log(f"probe, seconds a step (6 trainings x {sizes.seeds} seeds): "
             f"{rec['probe_step_s']}")
    # validation: the shortened staircase in every precision, fp32 the reference
    per_level = sizes.validation_steps
    cost = sum(step_time.values()) * 5 * 1.2
    room = deadline - sess.elapsed() - 45
    if not sizes.smoke and cost * per_level > room:
        per_level = max(50, int(room / cost))
    val = GaussianStaircase(steps_per_level=per_level)
    rec["validation_steps_per_level"] = per_level
    results, valid = {}, {"fp32": True}
    for precision in ("fp32", "tf32", "bf16"):
        for critic in ("joint", "separable"):
            runs, t = timed_group(sess, critic, val, precision=precision, graphs=graphs,
                                  seeds=sizes.seeds, hidden=hidden, batch_size=sizes.batch)
            results[(precision, critic)] = runs
            step_time[(precision, critic)] = t
        if precision != "fp32":
            verdicts = {c: agreement(results[("fp32", c)], results[(precision, c)])
                        for c in ("joint", "separable")}
            valid[precision] = all(v["agrees"] for v in verdicts.values())
            rec[f"validation_{precision}"] = {c: {"agrees": v["agrees"],
                                                  "max_ratio": v["max_ratio"],
                                                  "rows": v["rows"]}
                                              for c, v in verdicts.items()}
            sess.log(f"{precision} vs fp32: agrees={valid[precision]} (max |d|/sd "
                     + ", ".join(f"{c} {v['max_ratio']:.2f}" for c, v in verdicts.items())
                     + ")")
    rec["step_s"] = {f"{p}/{c}": t for (p, c), t in step_time.items()}
    full_steps = 5 * 4000
    predicted = {p: full_steps * (step_time[(p, "joint")] + step_time[(p, "separable")])
                 for p in ("fp32", "tf32", "bf16")}
    rec["predicted_panel_s"] = predicted
    chosen = min((p for p in predicted if valid.get(p)), key=predicted.get)
    if forced is not None:
        rec["forced_precision"] = forced
        chosen = forced
    rec["validated"] = valid
    rec["chosen"] = {"precision": chosen, "cuda_graphs": graphs,
                     "predicted_panel_s": predicted[chosen]}
    sess.log(f"predicted panel seconds {predicted}; chosen {chosen}, graphs {graphs}")
    sess.save()
    _speed_ladder(sess, sizes, chosen, graphs, rec)
    return {"precision": chosen, "graphs": graphs,
            "joint": step_time[(chosen, "joint")], "separable": step_time[(chosen, "separable")]}


def _speed_ladder(sess: Session, sizes: Sizes, chosen: str, graphs: bool, rec: dict) -> None:
    """One run at a time, per-unit batching and the grouped eager loop, on the same card,
    each extrapolated to the panel (20 seeds x 20k steps x 6 trainings x 2 critics)."""
    n_seq, n_unit = sizes.sequential_steps, sizes.per_unit_steps
    full_steps, seeds = 5 * 4000, 20
    stairs = GaussianStaircase(levels_bits=(2.0,), steps_per_level=n_seq)
    kw = dict(batch_size=sizes.batch, lr=1e-4, device=sess.device, hidden=sizes.hidden,
              eval_batches=16, progress=False)
    seq = {}
    for critic in ("joint", "separable"):
        for e in distinct_trainings():
            run_staircase(e, critic, GaussianStaircase(levels_bits=(2.0,), steps_per_level=3),
                          seed=0, runs=1, **kw)          # warm
            sess.sync()
            t = time.perf_counter()
            run_staircase(e, critic, stairs, seed=0, runs=1, **kw)
            sess.sync()
            seq[f"{e.train_key}/{critic}"] = (time.perf_counter() - t) / n_seq
    rec["sequential_fp32_step_s"] = seq
    rec["sequential_panel_s"] = sum(seq.values()) * full_steps * seeds
    unit_stairs = GaussianStaircase(levels_bits=(2.0,), steps_per_level=n_unit)
    per_unit = {}
    for critic in ("joint", "separable"):
        for e in distinct_trainings():
            sess.sync()
            t = time.perf_counter()
            run_staircase(e, critic, unit_stairs, seed=0, runs=sizes.seeds, sampling="unit",
                          precision=chosen, **kw)
            sess.sync()
            per_unit[f"{e.train_key}/{critic}"] = (time.perf_counter() - t) / n_unit
    rec["per_unit_batched_step_s"] = per_unit
    rec["per_unit_batched_panel_s"] = sum(per_unit.values()) * full_steps
    eager = {}
    for critic in ("joint", "separable"):
        _, eager[critic] = timed_group(sess, critic, unit_stairs, precision=chosen,
                                       graphs=False, seeds=sizes.seeds, hidden=sizes.hidden,
                               batch_size=sizes.batch)
    rec["grouped_eager_step_s"] = eager
    rec["grouped_eager_panel_s"] = sum(eager.values()) * full_steps
    sess.log(f"panel extrapolated: one at a time (fp32) {rec['sequential_panel_s']:.0f} s, "
             f"per-unit batched {rec['per_unit_batched_panel_s']:.0f} s, grouped eager "
             f"{rec['grouped_eager_panel_s']:.0f} s ({chosen})")
    sess.save()
    try:
        rec["profile"] = _profile(sess, sizes, chosen)
    except Exception as exc:
        rec["profile"] = {"error": f"{type(exc).__name__}: {exc}"}


def _profile(sess: Session, sizes: Sizes, precision: str) -> dict:
    """torch.profiler over 10 steps of the grouped eager loop per critic: the busiest kernels
    and the host / device time split (written to ``profile.txt``)."""
    from torch.profiler import ProfilerActivity, profile
    acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if sess.cuda else [])
    text, out = [], {}
    for critic in ("joint", "separable"):
        stairs = GaussianStaircase(levels_bits=(2.0,), steps_per_level=10)
        with profile(activities=acts) as prof:
            _, t = timed_group(sess, critic, stairs, precision=precision, graphs=False,
                               seeds=sizes.seeds, hidden=sizes.hidden,
                               batch_size=sizes.batch)
        events = prof.key_averages()
        key = "self_cuda_time_total" if sess.cuda else "self_cpu_time_total"
        try:
            table = events.table(sort_by=key, row_limit=15)
        except Exception:
            key = "self_device_time_total"
            table = events.table(sort_by=key, row_limit=15)
        device_us = sum(getattr(e, "self_device_time_total", 0) or
                        getattr(e, "self_cuda_time_total", 0) or 0 for e in events)
        launches = sum(e.count for e in events if "cudaLaunchKernel" in e.key
                       or "cuLaunchKernel" in e.key)
        out[critic] = {"wall_s_per_step": t, "device_busy_s_per_step": device_us / 1e6 / 10,
                       "kernel_launches_per_step": launches / 10}
        text += [f"## {critic} critic, grouped eager, {precision}, 10 steps", table, ""]
    (sess.out / "profile.txt").write_text("\n".join(text))
    return out


# ------------------------------------------------------------------------------ C/D. sweeps
def step_model(speed: dict, critic: str, batch_size: int, task: str) -> float:
    """Predicted seconds a step of a group of six trainings x 20 seeds: the joint critic's
    device work grows as B^2 (pairs), the rest (launches, separable critics) does not."""
    floor = speed["separable"]
    t = max(floor, speed["joint"] * (batch_size / 64) ** 2) if critic == "joint" else \
        floor * (1.3 if batch_size > 64 else 1.0)
    return t * (1.25 if task == "digits" else 1.0)


def run_config(sess: Session, config: SweepConfig, speed: dict, deadline: float,
               graphs: bool) -> dict:
    """Every pending group of ``config`` whose predicted time fits before ``deadline``."""
    out_dir = sess.work / "bench-results" / config.name
    write_config_record(config, out_dir)
    steps = config.staircase().total_steps
    seeds_scale = config.train["seeds"] / 20
    rec = {"name": config.name, "out": str(out_dir), "groups": []}
    pending = [u for u in config.units() if not unit_path(out_dir, u).exists()]
    for units in unit_groups(pending, group=True):
        u = units[0]
        predicted = steps * step_model(speed, u.critic, u.batch_size, config.task["kind"]) * \
            len(units) / 6 * max(seeds_scale, 0.05) * 1.1 + 3
        entry = {"critic": u.critic, "batch_size": u.batch_size, "units": len(units),
                 "predicted_s": round(predicted, 1)}
        rec["groups"].append(entry)
        if sess.elapsed() + predicted > deadline:
            entry["status"] = "skipped: predicted time does not fit"
            sess.log(f"{config.name} {u.critic} B={u.batch_size}: skipped (predicted "
                     f"{predicted:.0f} s, {deadline - sess.elapsed():.0f} s left)")
            continue
        entry.update(_run_group_safely(sess, config, units, out_dir, graphs))
        sess.log(f"{config.name} {u.critic} B={u.batch_size}: {entry}")
        sess.save()
    done, missing = load_units(config, out_dir)
    rec.update(finished=len(done), missing=len(missing))
    return rec


def _run_group_safely(sess, config, units, out_dir, graphs) -> dict:
    """One group; if the captured step fails at this size, the eager loop once more."""
    t = time.perf_counter()
    try:
        run_unit_group(config, units, out_dir, device=sess.device, graphs=graphs)
        return {"status": "ok", "seconds": round(time.perf_counter() - t, 1),
                "cuda_graphs": graphs}
    except Exception as exc:
        if not graphs:
            raise
        sess.log(f"graph step failed ({type(exc).__name__}: {exc}); eager loop instead")
        t = time.perf_counter()
        run_unit_group(config, units, out_dir, device=sess.device, graphs=False)
        return {"status": "ok (eager after a graph failure)", "cuda_graphs": False,
                "seconds": round(time.perf_counter() - t, 1)}


def fp32_check(sess: Session, sizes: Sizes, panel: SweepConfig, speed: dict, deadline: float,
               graphs: bool, configs: list) -> dict:
    """Three trainings of the panel again in fp32 at full length (joint critic, 4 seeds):
    per estimator and level, agreement when ``|mean_fp32 - mean_panel| <= 3 SE`` with ``SE =
    sqrt(sd_panel^2 / n_panel + sd_fp32^2 / n_fp32)`` (a two-sample check at full length)."""
    if panel.train["precision"] == "fp32":
        return {"status": "skipped", "why": "the panel ran in fp32"}
    cfg = sizes.config(PANEL)
    cfg.name = panel.name + "-fp32-check"
    cfg.train.update(precision="fp32", critics=["joint"], seeds=sizes.check_seeds,
                     runs_per_unit=sizes.check_seeds)
    cfg.estimators = [ESTIMATORS[n] for n in ("infonce", "js", "js_plugin", "infonce_anchor")]
    configs.append(cfg)
    rec = run_config(sess, cfg, {**speed, "joint": speed["joint_fp32"]}, deadline, graphs)
    done, _ = load_units(cfg, Path(rec["out"]))
    main, _ = load_units(panel, sess.work / "bench-results" / panel.name)
    rows, ok = [], bool(done)
    for unit, run in done:
        ref = next((r for u, r in main if u.critic == unit.critic and
                    u.batch_size == unit.batch_size and u.train_key == unit.train_key), None)
        if ref is None:
            continue
        for est in unit.estimators:
            a, b = level_estimates(ref, est) / LN2, level_estimates(run, est) / LN2
            for level in range(a.shape[0]):
                se = math.sqrt(np.nanvar(a[level], ddof=1) / a.shape[1] +
                               np.nanvar(b[level], ddof=1) / b.shape[1])
                d = float(np.nanmean(b[level]) - np.nanmean(a[level]))
                rows.append({"estimator": est.name, "level": level, "diff_bits": d,
                             "se_bits": se, "within_3se": abs(d) <= 3 * se})
                ok &= abs(d) <= 3 * se
    rec.update(agrees=bool(ok and rows), rows=rows)
    return rec


# ------------------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--budget-s", type=float, default=None,
                    help="wall-clock budget of the whole session, seconds (default 540; "
                    "120 with --smoke)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes on the CPU (tests)")
    ap.add_argument("--device", default=None, help="cuda (default when available) or cpu")
    ap.add_argument("--precision", choices=("fp32", "tf32", "bf16"),
                    help="use this precision for the sweeps whatever part B finds (it is "
                    "still measured and recorded)")
    ap.add_argument("--keep-work", action="store_true",
                    help="keep the unit files in OUT/work (default: removed in a full run)")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = resolve_device("cpu" if args.smoke and args.device is None else args.device)
    budget = args.budget_s if args.budget_s is not None else (120.0 if args.smoke else 540.0)
    sess = Session(out, budget, args.smoke, device)
    sizes = Sizes(args.smoke)
    B = sess.budget
    reserve = 8.0 if args.smoke else 35.0
    sess.log(f"device {sess.record['device']}, torch {torch.__version__}, budget {B:.0f} s")
    graphs, speed, configs = False, None, []
    with sess.part("A. correctness", 0.16 * B):
        graphs = part_a(sess, sizes, 0.16 * B)
    with sess.part("B. speed and precision", 0.42 * B):
        speed = part_b(sess, sizes, graphs, 0.42 * B, args.precision)
    if speed is None:   # part B failed: fp32, no graphs, a conservative step model
        speed = {"precision": "fp32", "graphs": False, "joint": 0.05, "separable": 0.01}
    speed.setdefault("joint_fp32", sess.record.get("speed", {}).get("step_s", {}).get(
        "fp32/joint", speed["joint"] * 4))
    with sess.part("C. Fig. 1 panel", B - reserve) as entry:
        panel = sizes.config(PANEL)
        panel.train["precision"] = speed["precision"]
        configs.append(panel)
        sess.record["panel"] = run_config(sess, panel, speed, B - reserve, speed["graphs"])
        entry["wall_s"] = sum(g.get("seconds", 0) for g in sess.record["panel"]["groups"])
        report(sess, panel)
    with sess.part("C2. fp32 check at full length", B - reserve):
        sess.record["fp32_check"] = fp32_check(sess, sizes, configs[0], speed, B - reserve,
                                               speed["graphs"], configs)
        if len(configs) > 1:
            report(sess, configs[1])
    with sess.part("D. Fig. 3, B = 16 panel, digits", B - reserve):
        sess.record["extras"] = []
        for name in EXTRAS:
            cfg = sizes.config(name)
            cfg.train["precision"] = speed["precision"]
            configs.append(cfg)
            sess.record["extras"].append(run_config(sess, cfg, speed, B - reserve,
                                                    speed["graphs"]))
            report(sess, cfg)
    sess.log(f"done in {sess.elapsed():.0f} s")
    sess.save()
    if not args.keep_work and not args.smoke:
        shutil.rmtree(sess.work, ignore_errors=True)
    return 0


def report(sess: Session, cfg: SweepConfig) -> None:
    """The sweep's tables, levels.json and plots, appended to ``results.tar`` at once."""
    t = time.perf_counter()
    try:
        out_dir = sess.work / "bench-results" / cfg.name
        done, _ = load_units(cfg, out_dir)
        if not done:
            return
        # the targets (CPU Monte Carlo, minutes) are added afterwards with bench
        # --summarize-only: device time is for training
        res = write_report(cfg, out_dir, plots=True, targets=False)
        with tarfile.open(sess.out / "results.tar", "a") as tar:
            for path in sorted(out_dir.iterdir()):
                if path.is_file():
                    tar.add(path, arcname=f"{cfg.name}/{path.name}")
        sess.record.setdefault("reports", []).append(
            {**{k: res[k] for k in ("config", "finished", "missing", "plots")},
             "seconds": round(time.perf_counter() - t, 1)})
        sess.log(f"report {cfg.name}: {res['finished']} units, {res['missing']} missing")
    except Exception as exc:   # a report that fails must not stop the next sweep
        sess.record.setdefault("reports", []).append(
            {"config": cfg.name, "error": f"{type(exc).__name__}: {exc}"})
        sess.log(f"report {cfg.name} FAILED: {traceback.format_exc()}")
    sess.save()


if __name__ == "__main__":
    raise SystemExit(main())
