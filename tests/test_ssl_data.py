"""The self-supervised layer's data, augmentations and encoders (Sec. 4.3, App. G.3):
numerics.ssl.data, numerics.ssl.augment and numerics.ssl.encoders.  Expected values come from
scikit-learn's raw digits, from bytes the tests write themselves (reshaped by hand), from
counting, or from the layer shapes of ResNet-18 summed by hand."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
sklearn_datasets = pytest.importorskip("sklearn.datasets")

from numerics.ssl.augment import (
    AUGMENTS,
    CIFAR_AUGMENT,
    DIGITS_AUGMENT,
    Augment,
    augment_by_name,
)
from numerics.ssl.data import (
    ImageDataset,
    load_cifar,
    load_dataset,
    load_digits_dataset,
    split,
    write_cifar_archive,
)
from numerics.ssl.encoders import (
    ENCODERS,
    ProjectionHead,
    ResNet18,
    SmallConvEncoder,
    make_encoder,
)
from theory.errors import InputError

URL = "https://www.cs.toronto.edu/~kriz/cifar.html"


# ------------------------------------------------------------------------------------ data


def test_digits_have_sklearn_shape_range_and_classes():
    digits = load_digits_dataset()
    raw = sklearn_datasets.load_digits()
    assert len(digits) == 1797 and digits.images.shape == (1797, 1, 8, 8)
    assert digits.images.dtype == torch.float32 and digits.labels.dtype == torch.int64
    assert digits.classes == 10 and digits.name == "digits"
    assert sorted(digits.labels.unique().tolist()) == list(range(10))
    assert raw.images.max() == 16.0  # so the brightest pixel is 16 / 16
    assert digits.images.min().item() == 0.0 and digits.images.max().item() == 1.0
    np.testing.assert_array_equal(digits.images[:, 0].numpy() * 16, raw.images)
    np.testing.assert_array_equal(digits.labels.numpy(), raw.target)


def numbered_dataset(class_sizes: list[int]) -> ImageDataset:
    """Row i has every pixel equal to i and a label from ``class_sizes`` (classes interleaved
    by a fixed permutation), so a split's rows can be read back from its images."""
    labels = np.repeat(np.arange(len(class_sizes)), class_sizes)
    labels = labels[np.random.default_rng(7).permutation(labels.size)]
    images = torch.arange(labels.size, dtype=torch.float32)[:, None, None, None].expand(
        -1, 1, 2, 2).contiguous()
    return ImageDataset(images, torch.from_numpy(labels), len(class_sizes), "numbered")


def rows_of(dataset: ImageDataset) -> list[int]:
    return dataset.images[:, 0, 0, 0].long().tolist()


def test_split_is_stratified_disjoint_covering_and_reproducible():
    sizes = [40, 21, 7, 12, 1]
    data = numbered_dataset(sizes)
    train, test = split(data, test_fraction=0.25, seed=3)
    train_rows, test_rows = rows_of(train), rows_of(test)
    assert not set(train_rows) & set(test_rows)
    assert sorted(train_rows + test_rows) == list(range(sum(sizes)))
    for label, size in enumerate(sizes):
        n_test = int((test.labels == label).sum())
        assert abs(n_test - 0.25 * size) <= 0.5
        assert n_test + int((train.labels == label).sum()) == size
    np.testing.assert_array_equal(train.labels.numpy(), data.labels.numpy()[train_rows])
    again = split(data, test_fraction=0.25, seed=3)
    assert rows_of(again[1]) == test_rows
    assert rows_of(split(data, test_fraction=0.25, seed=4)[1]) != test_rows


def test_split_of_digits_keeps_each_class_share():
    train, test = load_dataset("digits", test_fraction=0.25, seed=0)
    assert len(train) + len(test) == 1797
    counts = np.bincount(sklearn_datasets.load_digits().target)
    for label, count in enumerate(counts):
        assert abs(int((test.labels == label).sum()) - 0.25 * count) <= 0.5
    assert train.images.shape[1:] == (1, 8, 8) and test.classes == 10


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_rejects_a_bad_fraction(fraction):
    with pytest.raises(InputError) as info:
        split(numbered_dataset([4, 4]), test_fraction=fraction)
    assert info.value.argument == "test_fraction"


def test_subset_takes_rows_in_order():
    data = numbered_dataset([3, 3])
    part = data.subset([4, 0, 2])
    assert len(part) == 3 and rows_of(part) == [4, 0, 2]
    assert part.labels.tolist() == [data.labels[i].item() for i in (4, 0, 2)]
    assert rows_of(data.subset(torch.tensor([1, 5]))) == [1, 5]


def unpickle(path: Path) -> dict:
    with path.open("rb") as f:
        return pickle.load(f, encoding="bytes")


def by_hand(data: np.ndarray) -> np.ndarray:
    """Image i, channel c, row r, column k = data[i, c*1024 + r*32 + k], by index arithmetic
    (not by reshape)."""
    c, r, k = np.indices((3, 32, 32))
    return data[:, c * 1024 + r * 32 + k]


def assert_pixels(dataset: ImageDataset, data: np.ndarray) -> None:
    expected = by_hand(data).astype(np.float64)
    np.testing.assert_allclose(dataset.images.numpy().astype(np.float64) * 255, expected,
                               atol=1e-4)
    assert dataset.images.dtype == torch.float32 and dataset.images.shape[1:] == (3, 32, 32)


def test_cifar10_archive_reads_back_exactly(tmp_path):
    root = write_cifar_archive(tmp_path, "cifar10", n_train=12, n_test=5, seed=3)
    assert root == tmp_path / "cifar-10-batches-py"
    names = [f"data_batch_{i}" for i in range(1, 6)]
    assert sorted(p.name for p in root.iterdir()) == sorted(names + ["test_batch",
                                                                    "batches.meta"])
    batches = [unpickle(root / n) for n in names]
    assert [len(b[b"labels"]) for b in batches] == [3, 3, 2, 2, 2]  # 12 rows over 5 batches
    assert len(unpickle(root / "batches.meta")[b"label_names"]) == 10
    train, test = load_cifar(tmp_path, "cifar10")
    assert (len(train), len(test), train.classes, train.name) == (12, 5, 10, "cifar10")
    assert_pixels(train, np.concatenate([b[b"data"] for b in batches]))
    assert_pixels(test, unpickle(root / "test_batch")[b"data"])
    assert train.labels.tolist() == [i % 10 for i in range(12)]
    assert test.labels.tolist() == [i % 10 for i in range(5)]
    direct, _ = load_cifar(root, "cifar10")  # the archive folder itself
    assert torch.equal(direct.images, train.images)


def test_cifar100_archive_reads_back_exactly(tmp_path):
    root = write_cifar_archive(tmp_path, "cifar100", n_train=7, n_test=3, seed=1)
    assert sorted(p.name for p in root.iterdir()) == ["meta", "test", "train"]
    train, test = load_cifar(tmp_path / "cifar-100-python", "cifar100")
    assert (len(train), len(test), train.classes, test.name) == (7, 3, 100, "cifar100")
    raw = unpickle(root / "train")
    assert_pixels(train, raw[b"data"])
    assert train.labels.tolist() == raw[b"fine_labels"] == list(range(7))
    assert_pixels(test, unpickle(root / "test")[b"data"])


def hand_batch(n: int, label_key: bytes, labels: list[int]) -> dict:
    """A batch in the CIFAR format, written here without write_cifar_archive: image i is zero
    but for channel i % 3, row i, column 31 - i, which holds 10 + i."""
    data = np.zeros((n, 3072), dtype=np.uint8)
    for i in range(n):
        data[i, (i % 3) * 1024 + i * 32 + (31 - i)] = 10 + i
    return {b"batch_label": b"hand", b"data": data, label_key: labels,
            b"filenames": [b"x.png"] * n}


def assert_hand_pixels(images: torch.Tensor) -> None:
    for i in range(images.shape[0]):
        lit = (images[i] != 0).nonzero().tolist()
        assert lit == [[i % 3, i, 31 - i]]
        assert images[i, i % 3, i, 31 - i].item() == pytest.approx((10 + i) / 255)


def test_reader_follows_the_format_not_only_our_writer(tmp_path):
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    for b in range(1, 6):
        with (root / f"data_batch_{b}").open("wb") as f:
            pickle.dump(hand_batch(1 if b > 1 else 4, b"labels", [9, 0, 3, 1][: 1 if b > 1
                                                                             else 4]), f)
    with (root / "test_batch").open("wb") as f:
        pickle.dump(hand_batch(3, b"labels", [2, 2, 7]), f, protocol=2)
    train, test = load_cifar(tmp_path, "cifar10")
    assert len(train) == 8 and test.labels.tolist() == [2, 2, 7]
    assert train.labels.tolist()[:4] == [9, 0, 3, 1]
    assert_hand_pixels(train.images[:4])
    assert_hand_pixels(test.images)

    root = tmp_path / "cifar-100-python"
    root.mkdir()
    for name, labels in (("train", [99, 5]), ("test", [42])):
        with (root / name).open("wb") as f:
            pickle.dump(hand_batch(len(labels), b"fine_labels", labels), f)
    train, test = load_cifar(root, "cifar100")
    assert train.labels.tolist() == [99, 5] and test.labels.tolist() == [42]
    assert_hand_pixels(train.images)


def error_of(call, *args, **kwargs) -> InputError:
    with pytest.raises(InputError) as info:
        call(*args, **kwargs)
    return info.value


def test_missing_or_broken_archives_name_the_argument(tmp_path):
    err = error_of(load_cifar, tmp_path / "absent", "cifar10")
    assert err.argument == "data_dir" and URL in str(err)
    err = error_of(load_cifar, tmp_path, "cifar100")  # the folder exists, the archive not
    assert err.argument == "data_dir" and "cifar-100-python" in str(err) and URL in str(err)
    root = write_cifar_archive(tmp_path, "cifar10", n_train=5, n_test=2)
    (root / "data_batch_3").unlink()
    err = error_of(load_cifar, tmp_path, "cifar10")
    assert err.argument == "data_dir" and "data_batch_3" in str(err) and URL in str(err)
    (root / "data_batch_3").write_bytes(b"not a pickle")
    assert error_of(load_cifar, root, "cifar10").argument == "data_dir"
    with (root / "data_batch_3").open("wb") as f:
        pickle.dump({b"data": np.zeros((1, 1024), dtype=np.uint8), b"labels": [0]}, f)
    err = error_of(load_cifar, root, "cifar10")
    assert err.argument == "data_dir" and "3072" in str(err)
    with (root / "data_batch_3").open("wb") as f:
        pickle.dump({b"data": np.zeros((1, 3072), dtype=np.uint8), b"labels": [10]}, f)
    assert error_of(load_cifar, root, "cifar10").argument == "data_dir"


def test_unknown_names_and_missing_data_dir_are_input_errors(tmp_path):
    assert error_of(load_cifar, tmp_path, "cifar20").argument == "dataset"
    assert error_of(load_dataset, "mnist").argument == "dataset"
    assert error_of(write_cifar_archive, tmp_path, "svhn", 1, 1).argument == "dataset"
    err = error_of(load_dataset, "cifar10")
    assert err.argument == "data_dir" and URL in str(err)
    write_cifar_archive(tmp_path, "cifar100", n_train=3, n_test=2)
    train, test = load_dataset("cifar100", data_dir=tmp_path)
    assert (len(train), len(test)) == (3, 2)


# ------------------------------------------------------------------------------- augment


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("augment, shape", [(DIGITS_AUGMENT, (16, 1, 8, 8)),
                                            (CIFAR_AUGMENT, (6, 3, 32, 32))])
def test_augment_is_seeded_shaped_and_in_range(augment, shape):
    images = torch.rand(shape, generator=generator(0))
    first = augment(images, generator(1))
    assert first.shape == images.shape and first.dtype == images.dtype
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, augment(images, generator(1)))
    assert not torch.equal(first, augment(images, generator(2)))
    assert not torch.equal(first, images)


def test_everything_off_is_the_identity_and_draws_nothing():
    images = torch.rand(5, 3, 6, 6, generator=generator(0))
    rng = generator(4)
    state = rng.get_state()
    assert torch.equal(AUGMENTS["none"](images, rng), images)
    assert torch.equal(Augment()(images, rng), images)
    assert torch.equal(rng.get_state(), state)


def test_pad_shifts_by_whole_pixels_within_pad():
    images = torch.zeros(64, 1, 8, 8)
    images[:, 0, 4, 3] = 1.0
    out = Augment(pad=2)(images, generator(0))
    shifts = set()
    for view in out[:, 0]:
        lit = (view != 0).nonzero().tolist()
        assert len(lit) == 1 and view[lit[0][0], lit[0][1]].item() == 1.0
        dy, dx = lit[0][0] - 4, lit[0][1] - 3
        assert abs(dy) <= 2 and abs(dx) <= 2
        shifts.add((dy, dx))
    assert {dy for dy, _ in shifts} == set(range(-2, 3)) == {dx for _, dx in shifts}


@pytest.mark.parametrize("side", [2, 3])
def test_cutout_zeroes_a_side_by_side_square(side):
    images = torch.ones(200, 3, 10, 10)
    out = Augment(cutout=side)(images, generator(5))
    full = 0
    for view in out:
        zero = view[0] == 0
        assert torch.equal(view == 0, zero.expand(3, -1, -1))  # the same square on each channel
        assert torch.all(view[~zero.expand(3, -1, -1)] == 1)
        rows, cols = zero.nonzero().T.tolist()
        top, bottom, left, right = min(rows), max(rows), min(cols), max(cols)
        assert zero.sum().item() == (bottom - top + 1) * (right - left + 1)  # a filled box
        height, width = bottom - top + 1, right - left + 1
        assert height <= side and width <= side
        assert height == side or top == 0 or bottom == 9  # smaller only where clipped
        assert width == side or left == 0 or right == 9
        full += height == side and width == side
    assert full > 100


def test_flip_mirrors_some_images_and_keeps_the_others():
    images = torch.rand(40, 2, 5, 7, generator=generator(0))
    out = Augment(flip=True)(images, generator(3))
    flipped = [torch.equal(o, i.flip(-1)) for o, i in zip(out, images)]
    kept = [torch.equal(o, i) for o, i in zip(out, images)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_zoom_out_by_two_keeps_the_central_half():
    # with align_corners=False, output pixel centres (2j+1)/8 - 1 sample the input at twice
    # that: columns 2..5 land inside the image (value 1), the others outside (value 0)
    out = Augment(scale=(0.5, 0.5))(torch.ones(3, 1, 8, 8), generator(0))
    expected = torch.zeros(3, 1, 8, 8)
    expected[:, :, 2:6, 2:6] = 1
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=0)


def test_rotation_keeps_the_centre_pixel():
    out = Augment(rotate_degrees=180.0, scale=(0.9, 1.1))(torch.ones(8, 1, 9, 9), generator(0))
    torch.testing.assert_close(out[:, 0, 4, 4], torch.ones(8), atol=1e-5, rtol=0)
    assert (out[:, 0, 0, 0] < 1).any()


@pytest.mark.parametrize("field, value", [
    ("pad", -1), ("pad", 1.5), ("rotate_degrees", -1.0), ("rotate_degrees", 181.0),
    ("rotate_degrees", float("nan")), ("scale", (0.0, 1.0)), ("scale", (1.2, 1.1)),
    ("scale", (1.0,)), ("noise_std", -0.1), ("noise_std", float("inf")), ("cutout", -1),
    ("cutout", 2.0), ("flip", "yes"),
])
def test_bad_augment_fields_name_the_field(field, value):
    assert error_of(Augment, **{field: value}).argument == field


def test_presets_and_names():
    assert augment_by_name("digits") == Augment(1, 10.0, (0.9, 1.1), 0.05, 2, False)
    assert augment_by_name("cifar") == Augment(4, 0.0, (1.0, 1.0), 0.0, 8, True)
    assert augment_by_name("none") == Augment()
    assert error_of(augment_by_name, "imagenet").argument == "augment"
    assert error_of(DIGITS_AUGMENT, torch.zeros(8, 8), generator(0)).argument == "images"


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("augment", [DIGITS_AUGMENT, CIFAR_AUGMENT])
def test_cuda_images_with_a_cpu_generator_match_the_cpu(augment):
    images = torch.rand(8, 3, 32, 32, generator=generator(0))
    on_cpu = augment(images, generator(9))
    on_gpu = augment(images.cuda(), generator(9))
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, atol=1e-5, rtol=0)


# ------------------------------------------------------------------------------ encoders


def parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def resnet18_cifar_parameters_by_hand() -> int:
    """Conv weights (no biases) plus BatchNorm's weight and bias per channel."""
    def conv(cin, cout, k):
        return cin * cout * k * k

    def bn(c):
        return 2 * c

    total = conv(3, 64, 3) + bn(64)  # stem
    cin = 64
    for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for block in range(2):
            total += conv(cin, width, 3) + bn(width) + conv(width, width, 3) + bn(width)
            if block == 0 and (stride != 1 or cin != width):
                total += conv(cin, width, 1) + bn(width)  # 1x1 stride-2 downsample
            cin = width
    return total


def test_small_conv_encoder_shape():
    encoder = SmallConvEncoder(in_channels=1, width=32)
    assert encoder.feature_dim == 128
    assert encoder(torch.rand(5, 1, 8, 8)).shape == (5, 128)
    assert SmallConvEncoder(3, width=8)(torch.rand(2, 3, 8, 8)).shape == (2, 32)
    # 3 convs (weights + biases): 1*32*9+32, 32*64*9+64, 64*128*9+128
    assert parameters(encoder) == (9 * 32 + 32) + (32 * 64 * 9 + 64) + (64 * 128 * 9 + 128)


def test_resnet18_cifar_shape_and_parameter_count():
    torch.manual_seed(0)
    model = ResNet18(in_channels=3)
    assert model.feature_dim == 512
    assert parameters(model) == resnet18_cifar_parameters_by_hand()
    # with a 10-way classifier (512*10 + 10) it would be the familiar 11,173,962
    assert resnet18_cifar_parameters_by_hand() + 512 * 10 + 10 == 11_173_962
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    maps = []
    model.blocks.register_forward_hook(lambda module, args, out: maps.append(out.shape))
    with torch.no_grad():
        assert model(torch.rand(2, 3, 32, 32)).shape == (2, 512)
    assert maps == [(2, 512, 4, 4)]  # stride 1 stem, three stride-2 stages: 32 / 8


def test_projection_head_and_make_encoder():
    head = ProjectionHead(512)
    assert head(torch.rand(6, 512)).shape == (6, 64)
    assert parameters(head) == (512 * 128 + 128) + 2 * 128 + (128 * 64 + 64)
    assert ENCODERS == ("small_conv", "resnet18")
    small = make_encoder("small_conv", 1)
    assert isinstance(small, SmallConvEncoder) and small.feature_dim == 128
    assert isinstance(make_encoder("resnet18", 3), ResNet18)
    assert error_of(make_encoder, "vit", 3).argument == "encoder"
    torch.manual_seed(11)
    first = [p.clone() for p in make_encoder("small_conv", 1).parameters()]
    torch.manual_seed(11)
    again = list(make_encoder("small_conv", 1).parameters())
    assert all(torch.equal(a, b) for a, b in zip(first, again))
