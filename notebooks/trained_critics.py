# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # Trained critics against the exact answer
#
# The other notebooks evaluate objectives *exactly* at chosen critics. Here we **train** critics
# with the minibatch losses of `numerics.neural.losses` (Adam, `numerics.neural.train.train`) and hold
# what they learned against exact numbers:
#
# 1. a 4 x 4 discrete joint: its exact MI, and the exact averaged K-way Jensen-Shannon divergence
#    `E D_KJS` at `K = B - 1`, which is what InfoNCE with a batch of `B` estimates (Thm 2);
# 2. tabular critics (one parameter per cell) trained with InfoNCE, InfoNCE-anchor (`nu = 1`),
#    JS, DV, NWJ and SMILE (`tau = 5`) at `B = 4`: each estimator's held-out minibatch estimate
#    next to its **exact population value at the learned critic**, the MI and `D_KJS`;
# 3. a correlated Gaussian (Sec. 4.1, `d = 2`, `I = 1` nat) with a small MLP critic: InfoNCE at a
#    small batch is capped by `log K` (and by `D_KJS`), the InfoNCE-anchor plug-in is not.
#
# **Transposition.** The slot losses contrast, in row `i` of the score matrix, the `y`'s for a fixed
# `x_i` (Appendix B: `logsumexp` over `dim=1`): their population objective has `q1 = p(y|x)`,
# `q0 = p(y)`, averaged over `x`. `numerics.exact.mi` uses `q1 = p(x|y)`, so the exact targets of the slot
# losses are computed on the **transposed** joint `J.T` with the transposed critic table.
#
# Everything is in **nats**. The notebook is seeded (CPU), runs in well under a minute on two
# cores, asserts its own numbers and writes its figures (PNG) to the current directory.

# %%
import math
import os
import time

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"))
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from infonce_anchor.claims.sampling import trained_critic_joint  # noqa: E402
from numerics.exact import mi  # noqa: E402
from numerics.neural.samplers import DiscreteJointSampler, GaussianSampler  # noqa: E402
from numerics.neural.train import train  # noqa: E402

T0 = time.perf_counter()
torch.manual_seed(0)
RNG = np.random.default_rng(20240607)
np.set_printoptions(precision=4, suppress=True)


def save(fig, name):
    path = os.path.join(os.getcwd(), name)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    print("figure written to", path)


# %% [markdown]
# ## 1. The discrete joint and its exact targets
#
# The joint of the report's trained-critic claims
# (`infonce_anchor.claims.sampling.trained_critic_joint`): mass `0.22` on the diagonal, `0.02` off
# it, a little seeded noise, normalised. Its MI is well above `D_KJS` at `K = 3`, so "converges to
# the MI" and "converges to `D_KJS`" are easy to tell apart. `D_KJS` grows towards the MI with `K`
# (here `B = 4` and `B = 16`, `K = B - 1`).

# %%
J = trained_critic_joint()
MI = mi.mutual_information(J)
PMI = mi.pmi(J)
KJS = {B: mi.mi_kway_jsd(J.T, B - 1) for B in (4, 16)}  # rows contrast y's: transposed joint
KJS_UNTRANSPOSED = {B: mi.mi_kway_jsd(J, B - 1) for B in (4, 16)}
print("joint p(x, y) (rows x, columns y):")
print(J)
print(f"MI = {MI:.6f} nats")
for B, v in KJS.items():
    print(f"B = {B:>2} (K = {B - 1:>2}): E_x D_KJS(p(y|x), p(y)) = {v:.6f} nats "
          f"(log K = {math.log(B - 1):.4f}; the untransposed E_y D_KJS(p(x|y), p(x)) = "
          f"{KJS_UNTRANSPOSED[B]:.6f})")
assert 0.5 < MI < 0.6
assert KJS[4] < KJS[16] < MI  # D_KJS grows with K, below the MI
assert KJS[4] <= min(math.log(3), MI) and KJS[16] <= min(math.log(15), MI)  # Prop 1
assert MI - KJS[4] > 0.2  # the two targets are far apart at B = 4

# %% [markdown]
# ## 2. Tabular critics trained at `B = 4`
#
# Four critics per estimator, trained at once (`runs = 4`, seeds 0..3), Adam with `lr = 0.05`
# decayed to 0 by a cosine schedule (so each run settles on its population optimum instead of
# jittering around it), then evaluated on 100 held-out batches of `B = 4` pairs.
#
# For each learned table `c(x, y) = log r(x, y)` we compute, exactly with `numerics.exact.mi`:
#
# * the **population value of the reported estimate** at that critic: the bound for InfoNCE, JS
#   (whose bound is NWJ's), DV, NWJ and SMILE, the plug-in `E_p[c]` for InfoNCE-anchor. For the
#   slot losses (InfoNCE, InfoNCE-anchor) this is `mi.mi_estimator(name, r.T, J.T, K=3)`;
# * the plug-in `E_p[c] = sum p(x, y) c(x, y)`.
#
# The held-out numbers are minibatch estimates (mean over runs, with the Monte Carlo standard
# error of that mean); the minibatch DV and SMILE take a log of a batch mean, so they are biased
# with respect to their population values, the others are unbiased. Run `r` draws its held-out
# batches from the same seeded stream whatever the estimator, so the six held-out columns share
# their sampling noise (here the held-out batches hold slightly fewer diagonal pairs than
# `p(x, y)` has on average, which pulls every held-out number a little below its exact value).

# %%
TRAINING = {"batch_size": 4, "steps": 2500, "lr": 0.05, "lr_schedule": "cosine", "seed": 0,
            "runs": 4, "eval_batches": 100, "progress": False}
ESTIMATORS = {"infonce": {}, "infonce_anchor": {"nu": 1.0}, "js": {}, "dv": {}, "nwj": {},
              "smile": {"tau": 5.0}}
SLOT = ("infonce", "infonce_anchor")
K4 = TRAINING["batch_size"] - 1
sampler = DiscreteJointSampler(J)


def exact_value(name: str, table: np.ndarray, params: dict) -> float:
    """The population value of ``name``'s reported estimate at the critic ``log r = table``."""
    r = np.exp(table)
    if name in SLOT:
        return mi.mi_estimator(name, r.T, J.T, K=K4, **params).estimate
    return mi.mi_estimator(name, r, J, **params).estimate


rows = {}
t_train = time.perf_counter()
for name, params in ESTIMATORS.items():
    res = train(name, "tabular", sampler, **TRAINING, **params)
    tables = res.critic.table.detach().double().numpy()
    held = np.array(res.per_run("estimate_nats"))
    held_se = np.array(res.per_run("estimate_se_nats"))
    held_plugin = np.array(res.per_run("plugin_nats"))
    held_plugin_se = np.array(res.per_run("plugin_se_nats"))
    rows[name] = {
        "kind": res.kind,
        "held": held, "held_mean": held.mean(), "held_se": math.sqrt((held_se ** 2).sum()) / 4,
        "held_plugin_mean": held_plugin.mean(),
        "held_plugin_se": math.sqrt((held_plugin_se ** 2).sum()) / 4,
        "exact": np.array([exact_value(name, t, params) for t in tables]),
        "plugin": np.array([float((J * t).sum()) for t in tables]),
        "pmi_err": np.array([float(np.max(np.abs(t - PMI))) for t in tables]),
        "max_abs_c": float(np.abs(tables).max()),
    }
print(f"trained 6 x 4 tabular critics ({TRAINING['steps']} steps each) in "
      f"{time.perf_counter() - t_train:.1f} s")

print(f"\nMI = {MI:.4f} nats, E D_KJS at K = {K4}: {KJS[4]:.4f} nats   [all values in nats]")
print(f"{'estimator':>15} {'reports':>8} {'held-out':>16} {'exact at critic':>16} "
      f"{'exact E_p[c]':>13} {'MI':>7} {'D_KJS':>7}")
for name, row in rows.items():
    print(f"{name:>15} {row['kind']:>8} {row['held_mean']:9.4f} ± {row['held_se']:.3f} "
          f"{row['exact'].mean():16.4f} {row['plugin'].mean():13.4f} {MI:7.4f} {KJS[4]:7.4f}")
print("(mean over 4 runs; ± the Monte Carlo standard error of the held-out mean; "
      "'exact at critic' is the population value of the reported estimate)")
for name in ("infonce_anchor", "js"):
    print(f"{name}: max |log r - PMI| per run = {rows[name]['pmi_err']}")

# %% [markdown]
# What the table says:
#
# * **InfoNCE** lands on `D_KJS`, not the MI: its exact `D_InfoNCE` at every learned critic is at
#   most `D_KJS` (Thm 2: `D_KJS` is the supremum over critics) and close to it.
# * **InfoNCE-anchor** and **JS** learn `log r*` = the PMI, so their plug-ins `E_p[c]` sit on the
#   MI (within 0.05 nats) although the batch has only four pairs.
# * DV and NWJ are lower bounds on the MI at any critic; trained, they come close to it. SMILE is
#   trained with the JS loss and reports `E_p[c] - log E_{p(x)p(y)}[e^{clip(c, -tau, tau)}]`;
#   with `tau = 5` the clip never acts on these tables, so it is DV's bound at the JS critic.
# * The held-out minibatch estimates agree with the exact population values for the unbiased
#   estimators (InfoNCE, InfoNCE-anchor, JS, NWJ) within their standard errors.

# %%
inf, anc, js = rows["infonce"], rows["infonce_anchor"], rows["js"]
assert np.all(inf["exact"] <= KJS[4] + 1e-9), inf["exact"]  # Thm 2: D_InfoNCE <= D_KJS
assert np.all(KJS[4] - inf["exact"] < 0.02) and MI - inf["exact"].max() > 0.2
for row in (anc, js):
    assert np.all(np.abs(row["plugin"] - MI) < 0.05), row["plugin"]  # exact plug-ins
    assert abs(row["held_plugin_mean"] - MI) < 0.05 + 3 * row["held_plugin_se"]
assert abs(anc["exact"].mean() - anc["plugin"].mean()) < 1e-12  # anchor reports the plug-in
assert rows["smile"]["max_abs_c"] < ESTIMATORS["smile"]["tau"]  # the clip never acts
for name in ("dv", "nwj", "smile", "js"):
    assert np.all(rows[name]["exact"] <= MI + 1e-9)  # population bounds never exceed the MI
    assert MI - rows[name]["exact"].mean() < 0.05
for name in ("infonce", "infonce_anchor", "js", "nwj"):  # unbiased minibatch estimates
    row = rows[name]
    assert abs(row["held_mean"] - row["exact"].mean()) < 3 * row["held_se"], name

fig, ax = plt.subplots(figsize=(7, 3.8))
names = list(rows)
xs = np.arange(len(names))
for i, name in enumerate(names):
    row = rows[name]
    ax.plot(np.full(4, i - 0.12), row["held"], "o", color="C0", alpha=0.6,
            label="held-out estimate (per run)" if i == 0 else None)
    ax.plot(np.full(4, i + 0.12), row["exact"], "x", color="C3",
            label="exact value at the learned critic" if i == 0 else None)
ax.axhline(MI, color="k", ls=":", label=f"MI = {MI:.3f}")
ax.axhline(KJS[4], color="C2", ls="--", label=f"E D_KJS, K = 3: {KJS[4]:.3f}")
ax.set_xticks(xs, names, rotation=20)
ax.set_ylabel("nats")
ax.set_title("Tabular critics trained at B = 4 (4 runs each)")
ax.legend(fontsize=7, loc="lower right")
save(fig, "trained_critics_1_tabular.png")

# %% [markdown]
# ## 3. A Gaussian with a neural critic: InfoNCE is capped near `log K`
#
# `x, eps ~ N(0, I_2)`, `y = rho x + sqrt(1 - rho^2) eps` with `I(X; Y) = 1` nat (Sec. 4.1 with
# `d = 2`). A small joint critic (MLP on `[x, y]`, 2 hidden layers of 64 units), four runs at once,
# trained for a few hundred steps at `B = 3` (`K = 2`, `log K = 0.69 < I`) and `B = 8`
# (`K = 7`, `log K = 1.95 > I`).
#
# There is no closed form for `D_KJS` here, but it is InfoNCE's population objective at the true
# critic `log r*(x, y) = -(d/2) log(1 - rho^2) - |y - rho x|^2 / (2 (1 - rho^2)) + |y|^2 / 2`,
# so a Monte Carlo average over many batches gives it (with its standard error).
#
# The minibatch InfoNCE bound is `log K - (-log softmax)`, so it can never exceed `log K`; at
# `B = 3` it is capped below the MI whatever the critic. The anchored loss with the same batches
# is consistent (Thm 3): its plug-in `E_p[c]` estimates the MI itself.

# %%
gauss = GaussianSampler(dim=2, mi_nats=1.0)
G_MI = gauss.true_mi_nats
GAUSS_TRAINING = {"steps": 600, "lr": 3e-3, "lr_schedule": "cosine", "seed": 0, "runs": 4,
                  "eval_batches": 200, "progress": False, "hidden": 64, "layers": 2}
BATCHES = (3, 8)


def log_r_star(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``log p(y|x) / p(y)`` for broadcastable ``x, y`` (last axis = dimension)."""
    rho2 = gauss.rho ** 2
    d = gauss.dim
    return (-0.5 * d * math.log1p(-rho2) - ((y - gauss.rho * x) ** 2).sum(-1) / (2 * (1 - rho2))
            + (y ** 2).sum(-1) / 2)


def kjs_monte_carlo(K: int, n: int = 100_000) -> tuple[float, float]:
    """InfoNCE's population objective at ``r*`` = ``E_x D_KJS(p(y|x), p(y))``, with its SE."""
    x = RNG.standard_normal((n, 1, gauss.dim))
    y = RNG.standard_normal((n, K, gauss.dim))  # slots 2..K: y ~ p(y)
    y[:, 0] = gauss.rho * x[:, 0] + math.sqrt(1 - gauss.rho ** 2) * y[:, 0]  # slot 1: p(y|x)
    s = log_r_star(x, y)
    vals = math.log(K) + s[:, 0] - np.logaddexp.reduce(s, axis=1)
    return float(vals.mean()), float(vals.std(ddof=1) / math.sqrt(n))


gauss_rows = {}
t_train = time.perf_counter()
for B in BATCHES:
    K = B - 1
    kjs_mc, kjs_se = kjs_monte_carlo(K)
    res_nce = train("infonce", "joint", gauss, batch_size=B, **GAUSS_TRAINING)
    res_anc = train("infonce_anchor", "joint", gauss, batch_size=B, nu=1.0, **GAUSS_TRAINING)
    nce, nce_se = np.array(res_nce.per_run("estimate_nats")), np.array(
        res_nce.per_run("estimate_se_nats"))
    anc_, anc_se = np.array(res_anc.per_run("estimate_nats")), np.array(
        res_anc.per_run("estimate_se_nats"))
    gauss_rows[B] = {"K": K, "log_K": math.log(K), "kjs": kjs_mc, "kjs_se": kjs_se,
                     "nce": nce, "nce_se": nce_se, "anc": anc_, "anc_se": anc_se}
print(f"trained 2 x {len(BATCHES)} x 4 joint critics ({GAUSS_TRAINING['steps']} steps each) in "
      f"{time.perf_counter() - t_train:.1f} s")

print(f"\nGaussian d = {gauss.dim}, rho = {gauss.rho:.4f}, MI = {G_MI:.4f} nats   [nats]")
print(f"{'B':>3} {'K':>3} {'log K':>7} {'D_KJS (MC)':>15} {'InfoNCE':>16} "
      f"{'anchor plug-in':>16}")
for B, g in gauss_rows.items():
    print(f"{B:>3} {g['K']:>3} {g['log_K']:7.4f} {g['kjs']:9.4f} ± {g['kjs_se']:.3f} "
          f"{g['nce'].mean():9.4f} ± {np.sqrt((g['nce_se'] ** 2).sum()) / 4:.3f} "
          f"{g['anc'].mean():9.4f} ± {np.sqrt((g['anc_se'] ** 2).sum()) / 4:.3f}")
print("(held-out estimates, mean over 4 runs ± Monte Carlo SE of the mean; D_KJS by Monte Carlo "
      "at the true critic)")

# %% [markdown]
# InfoNCE stays below `log K` and below `D_KJS` (up to noise) at both batch sizes: at `B = 3` the
# cap is `log 2`, and even at `B = 8`, where `log 7` is far above the MI, `D_KJS` holds it
# well below 1 nat. The anchored plug-in with the same batches and the same critic lands near
# the MI at both sizes (a few hundred steps of a small network: not exactly on it).

# %%
for B, g in gauss_rows.items():
    # every run's held-out InfoNCE within 3 SE of log K, and its mean below D_KJS (+ 3 SE)
    assert np.all(g["nce"] <= g["log_K"] + 3 * g["nce_se"]), (B, g["nce"])
    mean_se = math.sqrt((g["nce_se"] ** 2).sum() / 16 + g["kjs_se"] ** 2)
    assert g["nce"].mean() <= g["kjs"] + 3 * mean_se, (B, g["nce"].mean(), g["kjs"])
    assert g["kjs"] < min(g["log_K"], G_MI)
    # the anchor's plug-in is well above InfoNCE and near the MI
    assert g["anc"].mean() > g["nce"].mean() + 0.15
    assert abs(g["anc"].mean() - G_MI) < 0.15, (B, g["anc"])
assert gauss_rows[3]["nce"].max() < math.log(2) < G_MI  # the log K cap binds at B = 3

fig, ax = plt.subplots(figsize=(6, 3.8))
for j, (B, g) in enumerate(gauss_rows.items()):
    ax.plot(np.full(4, j - 0.1), g["nce"], "o", color="C0", label="InfoNCE" if j == 0 else None)
    ax.plot(np.full(4, j + 0.1), g["anc"], "s", color="C1",
            label="InfoNCE-anchor plug-in" if j == 0 else None)
    ax.plot([j - 0.3, j + 0.3], [g["log_K"]] * 2, "--", color="C2",
            label="log K" if j == 0 else None)
    ax.plot([j - 0.3, j + 0.3], [g["kjs"]] * 2, "-", color="C4",
            label="D_KJS (MC, true critic)" if j == 0 else None)
ax.axhline(G_MI, color="k", ls=":", label=f"MI = {G_MI:.2f}")
ax.set_xticks(range(len(gauss_rows)), [f"B = {B} (K = {B - 1})" for B in gauss_rows])
ax.set_ylabel("nats")
ax.set_ylim(0, 2.1)
ax.set_title("Gaussian d = 2, joint critic 2 x 64: held-out estimates (4 runs)")
ax.legend(fontsize=7, loc="upper left")
save(fig, "trained_critics_2_gaussian.png")

# %%
print(f"notebook ran in {time.perf_counter() - T0:.1f} s")
