"""Claims whose checks belong to layers still to be built (status ``open`` with the reason).

Exact numerics on discrete distributions: issue #3.  Trained torch critics: issue #4.  The
MI-estimation benchmark: issue #5.  Experiments whose data or compute is outside this toolkit are
open for that reason.
"""

from __future__ import annotations

from infonce_anchor.claims.registry import pending

EXACT = ("needs the exact-numerics layer (numerics/, issue #3): a population quantity over "
         "distributions, not an algebraic identity")
SAMPLED = "needs trained torch critics (numerics/ torch layer, issue #4)"
BENCH = "needs the MI-estimation benchmark sweeps (issue #5)"

pending("thm2.a", "D_InfoNCE(r) <= D_KJS(q1, q0) for every critic r.", "Thm 2", "exact", EXACT)
pending("thm2.b", "D_InfoNCE(r) = D_KJS(q1, q0) iff r is proportional to q1/q0.", "Thm 2",
        "exact", EXACT + "; the 'if' direction's scale invariance is checked in thm3.b")
pending("thm2.c", "D_KJS(q1, q0) <= min{log K, D - log((e^D - 1)/K + 1)}.", "Thm 2", "exact",
        EXACT + "; the algebra of the bound itself is checked in thm2.d")
pending("thm2.worst-case", "With D = 2 bits the bound 1.19... (K = 4) and 1.93... (K = 64) is "
        "compared with the worst case of D_KJS over distributions with that KL.", "Sec. 2.2",
        "exact", EXACT)
pending("thm3.minimise", "Minimising Eq. 4 over r in R_+^n returns r* (nu > 0) or C r* (nu = 0).",
        "Thm 3", "exact", EXACT)
pending("thm6.exact", "Thm 6's identity holds for random critics on discrete distributions.",
        "Thm 6", "exact", EXACT)
pending("thm19.exact", "Thm 19's identity holds for random critics on discrete distributions.",
        "Thm 19", "exact", EXACT)
pending("thm7.a", "With nu/K -> beta, -L_{K;nu}(r) + log(K)/(beta+1) -> beta/(beta+1) log beta "
        "+ E_q1[log r]/(beta+1) - log(beta + E_q0[r]).", "Thm 7", "exact",
        EXACT + "; the law-of-large-numbers heuristic is reproduced symbolically in thm7.b's "
        "evidence")
pending("thm7.c", "Equality in Thm 7 iff r = r* (beta > 0) or r = C r* (beta = 0).", "Thm 7",
        "exact", EXACT)
pending("sec3.3.lee-shin", "Lee & Shin (2022): alpha-InfoNCE is a tight lower bound of "
        "D(q1 || alpha q1 + (1 - alpha) q0).", "Sec. 3.3", "exact",
        EXACT + " (counterexample search over critics and distributions)")
pending("sec3.3.alpha-not-bound", "For alpha < 1/K, alpha-InfoNCE is not a lower bound of "
        "D(q1 || q0).", "Sec. 3.3", "exact", EXACT)
pending("sec3.3.mlinfonce", "MLInfoNCE <= D(q1 || q0) (Song & Ermon 2020, Thm 2).", "Sec. 3.3",
        "exact", EXACT)
pending("appendix-a", "With q1 = p(x, y), q0 = p(x)p(y) and nu = 0 the minimiser is "
        "C p(x,y)/(p(x)p(y)); with nu > 0 it is p(x,y)/(p(x)p(y)).", "App. A", "exact", EXACT)
pending("sampled.infonce-kjs", "Critics trained with InfoNCE converge to the averaged D_KJS, "
        "not the MI.", "Sec. 2.2 / Thm 2", "sampled", SAMPLED)
pending("sampled.anchor-mi", "With InfoNCE-anchor the plug-in E_p[c] converges to the MI and "
        "log r to log r*.", "Thm 3 / Sec. 3.1", "sampled", SAMPLED)
pending("sampled.js", "JS (K = 1, nu = 1) is likewise consistent.", "Sec. 3", "sampled", SAMPLED)
pending("fig1", "InfoNCE-anchor tracks the true MI (2-10 bits) with low bias and variance; "
        "InfoNCE saturates near log K; variational bounds are biased or unstable.",
        "Sec. 4.1, Fig. 1", "benchmark", BENCH)
pending("fig3", "On the cubic Gaussian task with batch sizes 16, 64, 256, InfoNCE-anchor is "
        "consistent; JS-plugin also performs well.", "App. G, Fig. 3", "benchmark", BENCH)
pending("sec4.1.spherical", "The spherical-score variant estimates MI worse than the log score.",
        "Sec. 4.1", "benchmark", BENCH)
pending("fig2", "InfoNCE-anchor gives the best AUROC for kinase-target and ligand-receptor "
        "interaction prediction.", "Sec. 4.2, Fig. 2", "external",
        "needs ProtTrans protein embeddings and OmniPath labels, which do not ship offline")
pending("table2", "In SSL on CIFAR-100 (ResNet-18) the anchor does not improve linear-probe "
        "accuracy over InfoNCE.", "Sec. 4.3, Table 2", "external",
        "needs CIFAR-100 and GPU pretraining of ResNet-18 (solo-learn); outside this toolkit")
pending("table1.estimators", "Every Table 1 estimator (DV, NWJ, InfoNCE, MINE, JS, SMILE, "
        "PCC/D-RFC, f-DIME, InfoNCE-anchor) as a minibatch loss agrees with its population "
        "objective.", "Table 1", "sampled", SAMPLED)
