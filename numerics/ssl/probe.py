"""Linear probe on frozen features (Sec. 4.3: "evaluate representations via linear probing").

The encoder is frozen; its features (the backbone's output, before the projection head, as in
SimCLR and solo-learn) of the training and test images are standardised with the training
set's mean and standard deviation, and a multinomial logistic regression (scikit-learn's
``LogisticRegression``, L-BFGS, L2 penalty ``1/C``) is fitted on the training features.  Top-k
accuracy: the true class is among the ``k`` classes of highest predicted probability.
"""

from __future__ import annotations

import numpy as np
import torch

from theory.errors import InputError


@torch.no_grad()
def encode(encoder: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 512,
           device: torch.device | str = "cpu") -> np.ndarray:
    """The encoder's features of ``images`` ``(N, C, H, W)`` in eval mode: ``(N, d)`` float64."""
    was_training = encoder.training
    encoder.eval()
    try:
        chunks = [encoder(images[i:i + batch_size].to(device)).double().cpu()
                  for i in range(0, len(images), batch_size)]
    finally:
        encoder.train(was_training)
    return torch.cat(chunks).numpy()


def top_k_accuracy(probabilities: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Fraction of rows whose label is among the ``k`` largest probabilities (ties: by index)."""
    if k < 1:
        raise InputError("k", f"must be >= 1, got {k}")
    k = min(k, probabilities.shape[1])
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == np.asarray(labels)[:, None], axis=1)))


def linear_probe(train_features: np.ndarray, train_labels: np.ndarray,
                 test_features: np.ndarray, test_labels: np.ndarray, *, C: float = 1.0,
                 max_iter: int = 2000, seed: int = 0) -> dict[str, float]:
    """Fit the probe on the training features; top-1 / top-5 accuracy (fractions) on the test
    features, and the training top-1 (to see over- or under-fitting)."""
    from sklearn.linear_model import LogisticRegression

    if not C > 0:
        raise InputError("C", f"the inverse penalty must be positive, got {C!r}")
    mean = train_features.mean(axis=0)
    sd = train_features.std(axis=0)
    sd[sd == 0] = 1.0
    train_x, test_x = (train_features - mean) / sd, (test_features - mean) / sd
    model = LogisticRegression(C=C, max_iter=max_iter, random_state=seed)
    model.fit(train_x, np.asarray(train_labels))
    test_p = _full_probabilities(model, test_x, test_features.shape[0])
    train_p = _full_probabilities(model, train_x, train_features.shape[0])
    classes_seen = model.classes_
    train_y = np.searchsorted(classes_seen, train_labels)
    test_y = _column_of(classes_seen, test_labels)
    return {"top1": top_k_accuracy(test_p, test_y, 1), "top5": top_k_accuracy(test_p, test_y, 5),
            "train_top1": top_k_accuracy(train_p, train_y, 1)}


def _full_probabilities(model, x: np.ndarray, n: int) -> np.ndarray:
    p = model.predict_proba(x)
    return p.reshape(n, -1)


def _column_of(classes: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The probability column of each label; ``-1`` (never predicted) for a class the probe
    never saw in training."""
    labels = np.asarray(labels)
    idx = np.searchsorted(classes, labels)
    idx = np.clip(idx, 0, len(classes) - 1)
    return np.where(classes[idx] == labels, idx, -1)
