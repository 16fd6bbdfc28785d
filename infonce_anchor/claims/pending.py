"""Claims this toolkit cannot check (status ``open`` with the reason).

Experiments whose data or compute is outside this toolkit are open for that reason.
"""

from __future__ import annotations

from infonce_anchor.claims.registry import pending

pending("fig2", "InfoNCE-anchor gives the best AUROC for kinase-target and ligand-receptor "
        "interaction prediction.", "Sec. 4.2, Fig. 2", "external",
        "needs ProtTrans protein embeddings and OmniPath labels, which do not ship offline")
pending("table2", "In SSL on CIFAR-100 (ResNet-18) the anchor does not improve linear-probe "
        "accuracy over InfoNCE.", "Sec. 4.3, Table 2", "external",
        "needs CIFAR-100 and GPU pretraining of ResNet-18 (solo-learn); outside this toolkit")
