"""Image datasets for the self-supervised experiments (Sec. 4.3, Table 2, App. G.3).

Three datasets: scikit-learn's bundled 8x8 digits (offline, split here by a fixed stratified
split) and CIFAR-10 / CIFAR-100, read from the standard *python* archive that the user has
downloaded from https://www.cs.toronto.edu/~kriz/cifar.html and extracted (nothing is
downloaded here).  :func:`write_cifar_archive` writes a tiny archive in the same format, for
tests and demos.  Images are float32 in [0, 1], shape (N, C, H, W); labels int64.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from theory.errors import InputError, require_int

#: the dataset names of :func:`load_dataset`
DATASETS = ("digits", "cifar10", "cifar100")
#: where the CIFAR archives come from (the user downloads and extracts them)
CIFAR_URL = "https://www.cs.toronto.edu/~kriz/cifar.html"
#: CIFAR images: 3 channel planes of 32 x 32, stored row-major as 3072 bytes per image
CIFAR_SHAPE = (3, 32, 32)
CIFAR_PIXELS = 3 * 32 * 32


@dataclass(frozen=True)
class CifarLayout:
    """Where one CIFAR archive keeps its data: folder name, file names and label key."""

    folder: str
    train_files: tuple[str, ...]
    test_file: str
    meta_file: str
    label_key: bytes
    classes: int
    tarball: str


CIFAR_LAYOUTS = {
    "cifar10": CifarLayout("cifar-10-batches-py", tuple(f"data_batch_{i}" for i in range(1, 6)),
                           "test_batch", "batches.meta", b"labels", 10,
                           "cifar-10-python.tar.gz"),
    "cifar100": CifarLayout("cifar-100-python", ("train",), "test", "meta", b"fine_labels", 100,
                            "cifar-100-python.tar.gz"),
}


@dataclass(frozen=True, eq=False)
class ImageDataset:
    """Labelled images: ``images`` (N, C, H, W) float32 in [0, 1], ``labels`` (N,) int64 in
    ``0 .. classes - 1``, and the dataset's ``name``.  Compared by identity (tensor fields)."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: int
    name: str

    def __post_init__(self) -> None:
        if self.images.ndim != 4:
            raise InputError("images", f"must have shape (N, C, H, W), got "
                             f"{tuple(self.images.shape)}")
        if self.labels.ndim != 1 or self.labels.shape[0] != self.images.shape[0]:
            raise InputError("labels", f"must have shape ({self.images.shape[0]},), got "
                             f"{tuple(self.labels.shape)}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, index: Sequence[int] | np.ndarray | torch.Tensor) -> ImageDataset:
        """The rows ``index`` (integer positions, in that order) as a new dataset."""
        if isinstance(index, torch.Tensor):
            rows = index.to(device=self.labels.device, dtype=torch.long)
        else:
            rows = torch.as_tensor(np.asarray(index, dtype=np.int64), device=self.labels.device)
        return ImageDataset(self.images[rows], self.labels[rows], self.classes, self.name)


def load_digits_dataset() -> ImageDataset:
    """scikit-learn's bundled 8x8 digits (offline): 1797 images (1, 8, 8), pixel counts 0..16
    divided by 16, 10 classes, name ``"digits"``."""
    from sklearn.datasets import load_digits

    raw = load_digits()
    images = torch.from_numpy(np.asarray(raw.images, dtype=np.float32) / 16.0).unsqueeze(1)
    labels = torch.from_numpy(np.asarray(raw.target, dtype=np.int64))
    return ImageDataset(images.contiguous(), labels, 10, "digits")


def split_indices(labels: np.ndarray, test_fraction: float, seed: int
                  ) -> tuple[np.ndarray, np.ndarray]:
    """A stratified split of row positions: within each class a random ``round(test_fraction *
    n_class)`` rows go to the test side (numpy ``Generator`` from ``seed``); both sides are
    returned sorted."""
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        rows = np.flatnonzero(labels == label)
        n_test = round(test_fraction * rows.size)
        test.append(rng.permutation(rows)[:n_test])
    test_rows = np.sort(np.concatenate(test)) if test else np.zeros(0, dtype=np.int64)
    train_rows = np.setdiff1d(np.arange(labels.size), test_rows)
    return train_rows, test_rows


def split(dataset: ImageDataset, test_fraction: float = 0.25, seed: int = 0
          ) -> tuple[ImageDataset, ImageDataset]:
    """A fixed stratified (train, test) split of ``dataset``: each class keeps its share on
    both sides; the same ``seed`` gives the same split."""
    if not 0.0 < float(test_fraction) < 1.0:
        raise InputError("test_fraction", f"must lie strictly between 0 and 1, got "
                         f"{test_fraction!r}")
    seed = require_int(seed, "seed", minimum=0)
    train_rows, test_rows = split_indices(dataset.labels.numpy(), float(test_fraction), seed)
    return dataset.subset(train_rows), dataset.subset(test_rows)


def cifar_layout(name: str) -> CifarLayout:
    """The archive layout of ``name`` ("cifar10" or "cifar100"); else an InputError."""
    if name not in CIFAR_LAYOUTS:
        raise InputError("dataset", f"must be one of {sorted(CIFAR_LAYOUTS)}, got {name!r}")
    return CIFAR_LAYOUTS[name]


def how_to_get(layout: CifarLayout) -> str:
    """The hint appended to every missing-archive message."""
    return (f"download {layout.tarball} (python version) from {CIFAR_URL} and extract it, "
            f"e.g. tar xzf {layout.tarball} -C <data_dir>")


def archive_folder(folder: str | Path, layout: CifarLayout) -> Path:
    """The archive folder: ``folder`` itself if it is named like the archive, else the
    archive's folder inside it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("data_dir", f"folder {folder} does not exist; {how_to_get(layout)}")
    if folder.name == layout.folder:
        return folder
    inner = folder / layout.folder
    if not inner.is_dir():
        raise InputError("data_dir", f"{folder} holds no {layout.folder}/ folder; "
                         f"{how_to_get(layout)}")
    return inner


def read_batch(path: Path, layout: CifarLayout) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch: its ``b"data"`` (n, 3072) uint8 and its labels (n,) int64, checked.
    Unpickling runs code from the file: read only archives you trust (the official ones)."""
    if not path.is_file():
        raise InputError("data_dir", f"file {path} is missing; {how_to_get(layout)}")
    try:
        with path.open("rb") as f:
            batch = pickle.load(f, encoding="bytes")
    except Exception as exc:  # any unpickling failure means "not a CIFAR batch"
        raise InputError("data_dir", f"{path} is not a CIFAR python pickle ({exc})") from exc
    if not isinstance(batch, dict) or b"data" not in batch or layout.label_key not in batch:
        raise InputError("data_dir", f"{path} must hold a dict with keys b'data' and "
                         f"{layout.label_key!r}")
    data = np.asarray(batch[b"data"])
    labels = np.asarray(batch[layout.label_key])
    check_batch(path, data, labels, layout.classes)
    return data, labels.astype(np.int64)


def check_batch(path: Path, data: np.ndarray, labels: np.ndarray, classes: int) -> None:
    """An InputError unless ``data`` is uint8 (n, 3072) and ``labels`` are n integers in
    ``0 .. classes - 1``."""
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != CIFAR_PIXELS:
        raise InputError("data_dir", f"{path}: b'data' must be uint8 of shape (n, "
                         f"{CIFAR_PIXELS}), got {data.dtype} {data.shape}")
    if labels.shape != (data.shape[0],) or labels.dtype.kind not in "iu":
        raise InputError("data_dir", f"{path}: labels must be {data.shape[0]} integers, got "
                         f"{labels.dtype} {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise InputError("data_dir", f"{path}: labels must lie in 0..{classes - 1}, got "
                         f"{labels.min()}..{labels.max()}")


def to_dataset(batches: list[tuple[np.ndarray, np.ndarray]], layout: CifarLayout,
               name: str) -> ImageDataset:
    """Batches of raw rows concatenated into one dataset: row i, byte c*1024 + r*32 + k is
    channel c, row r, column k of image i, scaled by 1/255."""
    data = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    images = torch.from_numpy(data.reshape(-1, *CIFAR_SHAPE)).to(torch.float32).div_(255.0)
    return ImageDataset(images, torch.from_numpy(labels), layout.classes, name)


def load_cifar(folder: str | Path, name: str) -> tuple[ImageDataset, ImageDataset]:
    """(train, test) of ``name`` ("cifar10" or "cifar100") from the extracted python archive
    in ``folder`` (its parent, or the ``cifar-10-batches-py`` / ``cifar-100-python`` folder
    itself); nothing is downloaded.  The ``meta`` files are not needed."""
    layout = cifar_layout(name)
    root = archive_folder(folder, layout)
    train = to_dataset([read_batch(root / f, layout) for f in layout.train_files], layout, name)
    test = to_dataset([read_batch(root / layout.test_file, layout)], layout, name)
    return train, test


def write_pickle(path: Path, content: dict) -> None:
    """``content`` pickled to ``path``."""
    with path.open("wb") as f:
        pickle.dump(content, f)


def fake_batch(rng: np.random.Generator, n: int, start: int, layout: CifarLayout,
               batch_label: str) -> dict:
    """A batch dict in the archive's format: random uint8 images, labels ``(start + i) mod
    classes``."""
    labels = [(start + i) % layout.classes for i in range(n)]
    batch = {b"batch_label": batch_label.encode(),
             b"data": rng.integers(0, 256, size=(n, CIFAR_PIXELS), dtype=np.uint8),
             b"filenames": [f"fake_{start + i:06d}.png".encode() for i in range(n)],
             layout.label_key: labels}
    if layout.label_key == b"fine_labels":
        batch[b"coarse_labels"] = [label // 5 for label in labels]
    return batch


def fake_meta(layout: CifarLayout, n_per_batch: int) -> dict:
    """The archive's meta dict (class names are placeholders)."""
    names = [f"class_{i}".encode() for i in range(layout.classes)]
    if layout.label_key == b"labels":
        return {b"label_names": names, b"num_cases_per_batch": n_per_batch,
                b"num_vis": CIFAR_PIXELS}
    return {b"fine_label_names": names,
            b"coarse_label_names": [f"superclass_{i}".encode() for i in range(20)]}


def write_cifar_archive(folder: str | Path, name: str, n_train: int, n_test: int,
                        seed: int = 0) -> Path:
    """A tiny archive of ``name`` in exactly the CIFAR python format, under ``folder``:
    random uint8 images (numpy ``Generator`` from ``seed``), labels cycling over all classes,
    CIFAR-10's ``n_train`` rows spread over its 5 data batches.  Returns the archive folder."""
    layout = cifar_layout(name)
    n_train = require_int(n_train, "n_train", minimum=1)
    n_test = require_int(n_test, "n_test", minimum=1)
    rng = np.random.default_rng(require_int(seed, "seed", minimum=0))
    root = Path(folder) / layout.folder
    root.mkdir(parents=True, exist_ok=True)
    sizes = [part.size for part in np.array_split(np.arange(n_train), len(layout.train_files))]
    start = 0
    for file, size in zip(layout.train_files, sizes):
        write_pickle(root / file, fake_batch(rng, size, start, layout, f"training {file}"))
        start += size
    write_pickle(root / layout.test_file, fake_batch(rng, n_test, 0, layout, "testing batch"))
    write_pickle(root / layout.meta_file, fake_meta(layout, max(sizes)))
    return root


def load_dataset(name: str, data_dir: str | Path | None = None, test_fraction: float = 0.25,
                 seed: int = 0) -> tuple[ImageDataset, ImageDataset]:
    """(train, test) of ``name``: "digits" split by :func:`split` (``test_fraction``,
    ``seed``); "cifar10" / "cifar100" read by :func:`load_cifar` from ``data_dir`` with their
    own fixed train/test split."""
    if name == "digits":
        return split(load_digits_dataset(), test_fraction, seed)
    if name not in DATASETS:
        raise InputError("dataset", f"must be one of {list(DATASETS)}, got {name!r}")
    if data_dir is None:
        raise InputError("data_dir", f"{name} needs the folder of its extracted archive; "
                         f"{how_to_get(cifar_layout(name))}")
    return load_cifar(data_dir, name)
