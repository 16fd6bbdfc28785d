"""Claims whose checks belong to layers still to be built (status ``open`` with the reason).

Trained torch critics: issue #4.  The
MI-estimation benchmark: issue #5.  Experiments whose data or compute is outside this toolkit are
open for that reason.
"""

from __future__ import annotations

from infonce_anchor.claims.registry import pending

BENCH = "needs the MI-estimation benchmark sweeps (issue #5)"

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
