# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # The MI-estimation benchmark: a sweep from a config, and what the shipped runs show
#
# Sec. 4.1 of the paper trains critics through an MI **staircase** (2, 4, 6, 8, 10 bits, 4000
# steps a level, without resetting the critic) and plots each estimator against the truth
# (Fig. 1, Fig. 3). This notebook
#
# 1. builds a small sweep from a Python dict (the same keys as a TOML config), runs it on the
#    CPU in seconds, stops it half-way and resumes it;
# 2. reads its per-level statistics (bias, sd, MSE in bits) and draws the Fig. 1-style panel;
# 3. reads the reduced CPU runs shipped in `infonce_anchor/shipped_results/` (20k steps at the paper's lr,
#    separable 2 x 128 critics) and checks two facts the theory predicts: InfoNCE stays below
#    `log2 K` (Prop 1), and alpha-InfoNCE below `log2(1/alpha)` (its ratio is at most
#    `1/alpha`).
#
# Seeded, CPU only; values in bits, as the paper's figures are.

# %%
import json
import math
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from infonce_anchor.bench_plots import staircase_figure  # noqa: E402
from numerics.bench.config import SweepConfig  # noqa: E402,E501
from numerics.bench.runner import load_units, run_sweep  # noqa: E402,E501
from numerics.bench.summary import overview_rows, summary_rows  # noqa: E402,E501
from numerics.exact.units import LN2  # noqa: E402
from infonce_anchor.claims.benchmark import SHIPPED  # noqa: E402

RESULTS = SHIPPED   # the shipped reduced runs (package data)

# %% [markdown]
# ## 1. A sweep, stopped and resumed
# Four estimators read three trainings (NWJ and NWJ-plugin share one critic); two seeds are
# trained together by the batched trainer.

# %%
config = SweepConfig.from_dict({
    "name": "notebook",
    "task": {"kind": "gaussian", "levels_bits": [2, 4, 6], "steps_per_level": 60},
    "train": {"estimators": ["nwj", "nwj_plugin", "infonce", "infonce_anchor"],
              "critics": ["separable"], "batch_sizes": [16], "seeds": 2, "runs_per_unit": 2,
              "lr": 1e-3, "hidden": 32, "eval_batches": 4},
    "report": {"smooth_span": 10}})
out = Path(tempfile.mkdtemp())
first = run_sweep(config, out, progress=False, max_units=2)
second = run_sweep(config, out, progress=False)
print(first, second, sep="\n")
assert (first["ran"], second["already_done"], second["ran"]) == (2, 2, 1)

# %% [markdown]
# ## 2. Per-level statistics and the staircase panel

# %%
rows = summary_rows(config, out)
for r in rows:
    if r["source"] == "heldout":
        print(f"{r['label']:<16} true {r['true_bits']:5.2f}  mean {r['mean_bits']:6.3f}  "
              f"bias {r['bias_bits']:+6.3f}  sd {r['sd_bits']:.3f} bits")
done, missing = load_units(config, out)
assert not missing
png = staircase_figure(config, done, 16, "mi_benchmark_staircase.png")
print("wrote", png)
# InfoNCE's bound never exceeds log K (K = B - 1 = 15), on any batch
for unit, run in done:
    if unit.train_key == "infonce":
        assert np.nanmax(run.train_bound) <= math.log(15) + 1e-6

# %% [markdown]
# ## 3. The shipped reduced CPU runs
# `fig1-gaussian-cpu` (eight Fig. 1 estimators, 4 seeds) and `reviewers-alpha-ml-cpu`
# (InfoNCE-anchor against alpha-InfoNCE and MLInfoNCE, 2 seeds). The overview averages the
# held-out |bias| and MSE over the five levels.

# %%
def overview(name):
    levels = json.loads((RESULTS / name / "levels.json").read_text())
    table = []
    for e in levels["entries"]:
        held = np.array([[np.nan if v is None else v for v in row] for row in e["heldout_nats"]])
        truth = np.array(e["true_nats"])
        bias = (np.nanmean(held, axis=1) - truth) / LN2
        table.append((e["label"], e["batch_size"], float(np.mean(np.abs(bias))),
                      float(np.nanmean(held[-1]) / LN2)))
    return table


for name in ("fig1-gaussian-cpu", "reviewers-alpha-ml-cpu"):
    if not (RESULTS / name / "levels.json").exists():
        print(f"{name}: not shipped")
        continue
    print(name)
    for label, B, mab, top in overview(name):
        print(f"  {label:<28} B={B:<4} mean |bias| {mab:6.3f} bits; at 10 bits: {top:6.3f} bits")
        if label == "InfoNCE":
            assert top <= math.log2(B - 1) + 0.05
        if label.startswith("alpha-InfoNCE"):
            alpha = float(label.split("alpha=")[1].rstrip(")"))
            assert top <= math.log2(1 / alpha) + 0.05

# %% [markdown]
# The same numbers come from `infonce-anchor bench CONFIG --report-only` (text, `--json`,
# `tables.md`); `overview_rows` gives the averaged view used above for a sweep's own rows:

# %%
for r in overview_rows(rows):
    print(f"{r['label']:<16} mean |bias| {r['mean_abs_bias_bits']:.3f} bits, "
          f"mean MSE {r['mean_mse_bits2']:.3f} bits^2")
