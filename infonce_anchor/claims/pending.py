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
        "needs CIFAR-100 (the python-pickle archive, read offline from a local folder) and GPU "
        "time: the code path is built and tested on a tiny archive (infonce-anchor ssl "
        "benchmarks/configs/ssl-cifar100.toml: ResNet-18, B = 256, the five objectives of App. "
        "G.3, 5 seeds, 20000 steps each, about 100 epochs); not run here (no GPU, no CIFAR "
        "offline). The small offline version is sec4.3.small.*, which does not decide this")
