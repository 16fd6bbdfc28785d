"""Self-supervised representation learning with contrastive objectives (Sec. 4.3, Table 2,
App. G.3): SimCLR-style pretraining where two augmented views of each image are the positive
pair, evaluated by a linear probe on the frozen features.

Modules: :mod:`~numerics.ssl.data` (image datasets: scikit-learn's 8x8 digits, CIFAR-10/100
read from the extracted python archive, a fixed stratified split),
:mod:`~numerics.ssl.augment` (batched, seeded image augmentations),
:mod:`~numerics.ssl.encoders` (a small conv net, the CIFAR ResNet-18, the projection head),
:mod:`~numerics.ssl.objectives`, :mod:`~numerics.ssl.train` and :mod:`~numerics.ssl.probe`
(the contrastive losses, the pretraining loop and the linear probe).
"""
