"""Tests for pathnet_tf.experiments.data: MNIST loading and validation, binary tasks, noise.

The bundled MNIST is loaded once per module; malformed files are small synthetic
IDX files written into tmp_path.
"""

import gzip
import pathlib

import numpy as np
import pytest

from pathnet_tf.experiments import data

TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]

STANDARD_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


@pytest.fixture(scope="module")
def mnist():
    return data.load_mnist()


def _idx_bytes(magic, dims, payload):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + bytes(payload)


def _write_mnist_dir(
    directory,
    num_train=6,
    num_test=4,
    compress=True,
    overrides=None,
):
    """Writes a tiny valid MNIST directory; `overrides` maps field -> raw IDX bytes.

    Labels cycle 0-9; image i is filled with the value i.
    """
    directory = pathlib.Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    contents = {}
    for split, count in (("train", num_train), ("test", num_test)):
        images = np.repeat(np.arange(count, dtype=np.uint8), 28 * 28)
        labels = np.arange(count, dtype=np.uint8) % 10
        contents[f"{split}_images"] = _idx_bytes(
            data.IMAGES_MAGIC, (count, 28, 28), images.tobytes()
        )
        contents[f"{split}_labels"] = _idx_bytes(
            data.LABELS_MAGIC, (count,), labels.tobytes()
        )
    contents.update(overrides or {})
    paths = {}
    for field, raw in contents.items():
        name = STANDARD_NAMES[field]
        if compress:
            path = directory / name
            path.write_bytes(gzip.compress(raw))
        else:
            path = directory / name.removesuffix(".gz")
            path.write_bytes(raw)
        paths[field] = path
    return paths


def _tiny_mnist(num_train=40, num_test=20):
    rng = np.random.default_rng(0)
    return data.Mnist(
        train_images=rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        train_labels=(np.arange(num_train) % 10).astype(np.uint8),
        test_images=rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        test_labels=(np.arange(num_test) % 10).astype(np.uint8),
    )


# Bundled MNIST.


def test_bundled_mnist_shapes_dtypes_and_class_counts(mnist):
    assert mnist.train_images.shape == (60000, 28, 28)
    assert mnist.train_labels.shape == (60000,)
    assert mnist.test_images.shape == (10000, 28, 28)
    assert mnist.test_labels.shape == (10000,)
    for array in (
        mnist.train_images,
        mnist.train_labels,
        mnist.test_images,
        mnist.test_labels,
    ):
        assert array.dtype == np.uint8
    assert np.bincount(mnist.train_labels, minlength=10).tolist() == TRAIN_COUNTS
    assert np.bincount(mnist.test_labels, minlength=10).tolist() == TEST_COUNTS
    assert mnist.train_images.max() == 255
    assert mnist.train_images.min() == 0


def test_default_dir_is_repo_data_mnist():
    repo = pathlib.Path(__file__).resolve().parent.parent
    assert data.DEFAULT_MNIST_DIR == repo / "data" / "mnist"


def test_load_mnist_accepts_a_string_directory(tmp_path):
    _write_mnist_dir(tmp_path)
    loaded = data.load_mnist(str(tmp_path))
    assert loaded.train_images.shape == (6, 28, 28)
    assert loaded.test_images.shape == (4, 28, 28)
    assert loaded.train_labels.tolist() == [0, 1, 2, 3, 4, 5]
    assert loaded.train_images[3].min() == loaded.train_images[3].max() == 3


def test_load_mnist_reads_uncompressed_files(tmp_path):
    _write_mnist_dir(tmp_path, compress=False)
    loaded = data.load_mnist(tmp_path)
    assert loaded.test_labels.tolist() == [0, 1, 2, 3]
    assert loaded.test_images[2].min() == loaded.test_images[2].max() == 2


# Bad directories and files.


def test_missing_directory_raises(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(data.DataError, match="does not exist") as info:
        data.load_mnist(missing)
    assert str(missing) in str(info.value)


def test_directory_that_is_a_file_raises(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("not a directory")
    with pytest.raises(data.DataError, match="not a directory") as info:
        data.load_mnist(path)
    assert str(path) in str(info.value)


def test_missing_file_raises(tmp_path):
    paths = _write_mnist_dir(tmp_path)
    paths["test_labels"].unlink()
    with pytest.raises(data.DataError, match="is missing") as info:
        data.load_mnist(tmp_path)
    assert str(paths["test_labels"]) in str(info.value)


def test_truncated_gzip_raises(tmp_path):
    paths = _write_mnist_dir(tmp_path)
    path = paths["train_images"]
    content = path.read_bytes()
    path.write_bytes(content[: len(content) // 2])
    with pytest.raises(data.DataError, match="not a valid gzip") as info:
        data.load_mnist(tmp_path)
    assert str(path) in str(info.value)


def test_cut_copy_of_bundled_labels_file_raises(tmp_path):
    _write_mnist_dir(tmp_path)
    content = (data.DEFAULT_MNIST_DIR / STANDARD_NAMES["test_labels"]).read_bytes()
    path = tmp_path / STANDARD_NAMES["test_labels"]
    path.write_bytes(content[:-100])
    with pytest.raises(data.DataError, match="truncated") as info:
        data.load_mnist(tmp_path)
    assert str(path) in str(info.value)


def test_file_that_is_not_gzip_raises(tmp_path):
    paths = _write_mnist_dir(tmp_path)
    path = paths["train_labels"]
    path.write_bytes(b"plain bytes, not gzip")
    with pytest.raises(data.DataError, match="not a valid gzip") as info:
        data.load_mnist(tmp_path)
    assert str(path) in str(info.value)


def test_corrupt_gzip_data_raises(tmp_path):
    paths = _write_mnist_dir(tmp_path)
    path = paths["train_images"]
    content = bytearray(path.read_bytes())
    for i in range(12, len(content) - 8):
        content[i] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(data.DataError, match="not a valid gzip") as info:
        data.load_mnist(tmp_path)
    assert str(path) in str(info.value)


def test_wrong_magic_raises(tmp_path):
    # A labels file where the train images should be.
    raw = _idx_bytes(data.LABELS_MAGIC, (6,), bytes(6))
    paths = _write_mnist_dir(tmp_path, overrides={"train_images": raw})
    with pytest.raises(data.DataError, match="magic number") as info:
        data.load_mnist(tmp_path)
    message = str(info.value)
    assert str(paths["train_images"]) in message
    assert "0x00000801" in message and "0x00000803" in message


def test_header_length_mismatch_raises(tmp_path):
    # Header says 6 images of 28 x 28, but one is missing.
    raw = _idx_bytes(data.IMAGES_MAGIC, (6, 28, 28), bytes(5 * 28 * 28))
    paths = _write_mnist_dir(tmp_path, overrides={"train_images": raw})
    with pytest.raises(data.DataError, match="6 x 28 x 28") as info:
        data.load_mnist(tmp_path)
    message = str(info.value)
    assert str(paths["train_images"]) in message
    assert str(5 * 28 * 28) in message and str(6 * 28 * 28) in message


def test_header_too_short_raises(tmp_path):
    raw = data.IMAGES_MAGIC.to_bytes(4, "big") + bytes(3)
    paths = _write_mnist_dir(tmp_path, overrides={"test_images": raw})
    with pytest.raises(data.DataError, match="header") as info:
        data.load_mnist(tmp_path)
    assert str(paths["test_images"]) in str(info.value)


def test_images_labels_count_mismatch_raises(tmp_path):
    raw = _idx_bytes(data.LABELS_MAGIC, (3,), bytes([0, 1, 2]))
    paths = _write_mnist_dir(tmp_path, num_test=4, overrides={"test_labels": raw})
    with pytest.raises(data.DataError, match="counts must match") as info:
        data.load_mnist(tmp_path)
    message = str(info.value)
    assert "4 images" in message and "3 labels" in message
    assert str(paths["test_labels"]) in message


def test_label_out_of_range_raises(tmp_path):
    raw = _idx_bytes(data.LABELS_MAGIC, (6,), bytes([0, 1, 2, 12, 4, 5]))
    paths = _write_mnist_dir(tmp_path, overrides={"train_labels": raw})
    with pytest.raises(data.DataError, match="label 12 at index 3") as info:
        data.load_mnist(tmp_path)
    assert str(paths["train_labels"]) in str(info.value)


def test_wrong_image_size_raises(tmp_path):
    raw = _idx_bytes(data.IMAGES_MAGIC, (6, 8, 8), bytes(6 * 8 * 8))
    _write_mnist_dir(tmp_path, overrides={"train_images": raw})
    with pytest.raises(data.DataError, match="8 x 8"):
        data.load_mnist(tmp_path)


# Digit pairs.


@pytest.mark.parametrize(
    "digits, expected",
    [((1, 3), (1, 3)), ([7, 2], (7, 2)), ("1,3", (1, 3)), (" 4 , 9 ", (4, 9))],
)
def test_validate_digits_accepts(digits, expected):
    result = data.validate_digits(digits)
    assert result == expected
    assert all(type(d) is int for d in result)


def test_validate_digits_accepts_numpy_ints():
    assert data.validate_digits(np.array([0, 9])) == (0, 9)


@pytest.mark.parametrize(
    "digits, fragment",
    [
        ((1, 10), "digit 10 in digit pair (1, 10) must be in 0-9"),
        ((-1, 3), "digit -1"),
        ("1,12", "digit 12"),
        ((1, 1), "digit pair (1, 1) must name two different digits in 0-9"),
        ("5,5", "'5,5' must name two different digits"),
        ((1, 2, 3), "(1, 2, 3) must name exactly two digits"),
        ((4,), "(4,) must name exactly two digits"),
        ("7", "'7' must name exactly two digits"),
        ("1,x", "'1,x'"),
        ((1, 2.5), "digit 2.5"),
        (3, "digit pair 3"),
    ],
)
def test_validate_digits_rejects(digits, fragment):
    with pytest.raises(data.DataError) as info:
        data.validate_digits(digits)
    assert fragment in str(info.value)


# Salt-and-pepper noise.


def test_salt_and_pepper_statistics():
    images = np.full((200, 784), 0.5, dtype=np.float32)
    original = images.copy()
    noisy = data.salt_and_pepper(images, 0.3, np.random.default_rng(1))
    assert noisy.dtype == np.float32 and noisy.shape == images.shape
    np.testing.assert_array_equal(images, original)  # Input not modified.
    changed = noisy != 0.5
    assert set(np.unique(noisy[changed]).tolist()) <= {0.0, 1.0}
    assert abs(changed.mean() - 0.3) < 0.01
    assert abs((noisy == 1.0).mean() - 0.15) < 0.01
    assert abs((noisy == 0.0).mean() - 0.15) < 0.01


def test_salt_and_pepper_probability_zero_is_an_equal_copy():
    images = np.random.default_rng(2).random((5, 7, 3)).astype(np.float32)
    noisy = data.salt_and_pepper(images, 0.0, np.random.default_rng(3))
    np.testing.assert_array_equal(noisy, images)
    assert noisy is not images
    assert not np.shares_memory(noisy, images)


def test_salt_and_pepper_probability_one_replaces_every_pixel():
    images = np.full((100, 100), 0.5)  # float64 in, float32 out.
    noisy = data.salt_and_pepper(images, 1.0, np.random.default_rng(4))
    assert noisy.dtype == np.float32
    assert np.all((noisy == 0.0) | (noisy == 1.0))
    assert abs(noisy.mean() - 0.5) < 0.02


def test_salt_and_pepper_same_seed_same_noise():
    images = np.full((30, 784), 0.5, dtype=np.float32)
    first = data.salt_and_pepper(images, 0.5, np.random.default_rng(5))
    second = data.salt_and_pepper(images, 0.5, np.random.default_rng(5))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("probability", [-0.1, 1.5, float("nan"), "half"])
def test_salt_and_pepper_rejects_bad_probability(probability):
    with pytest.raises(data.DataError, match="must be a number in") as info:
        data.salt_and_pepper(np.zeros((2, 2)), probability, np.random.default_rng())
    assert repr(probability) in str(info.value)


# Binary tasks.


def test_binary_task_on_bundled_mnist(mnist):
    task = data.binary_task(mnist, (1, 3), noise=0.5, rng=np.random.default_rng(0))
    assert task.name == "1v3"
    assert task.digits == (1, 3)
    assert task.train_x.shape == (6742 + 6131, 784)
    assert task.test_x.shape == (1135 + 1010, 784)
    for x in (task.train_x, task.test_x):
        assert x.dtype == np.float32
        assert x.min() >= 0.0 and x.max() <= 1.0
    for y in (task.train_y, task.test_y):
        assert y.dtype == np.int32
        assert set(np.unique(y).tolist()) == {0, 1}
    assert np.bincount(task.train_y).tolist() == [6742, 6131]
    assert np.bincount(task.test_y).tolist() == [1135, 1010]
    # Shuffled: neither split is sorted by label, and both classes appear early.
    for y in (task.train_y, task.test_y):
        assert np.any(np.diff(y) < 0) and np.any(np.diff(y) > 0)
        assert 0.3 < y[:200].mean() < 0.7


def test_binary_task_noise_matches_clean_images(mnist):
    # One seed gives the same order whatever the noise, so the noisy copy can be
    # compared pixel by pixel with the clean one.
    clean = data.binary_task(mnist, "2,7", noise=0.0, rng=np.random.default_rng(9))
    noisy = data.binary_task(mnist, "2,7", noise=0.5, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(clean.train_y, noisy.train_y)
    # Clean pixels are exactly the scaled uint8 values.
    np.testing.assert_array_equal(
        np.round(clean.train_x * 255) / np.float32(255), clean.train_x
    )
    for clean_x, noisy_x in (
        (clean.train_x, noisy.train_x),
        (clean.test_x, noisy.test_x),
    ):
        changed = clean_x != noisy_x
        assert np.all((noisy_x[changed] == 0.0) | (noisy_x[changed] == 1.0))
        # A replaced pixel changes unless it already held the drawn value.
        extreme = ((clean_x == 0.0) | (clean_x == 1.0)).mean()
        expected = 0.5 * ((1 - extreme) + 0.5 * extreme)
        assert abs(changed.mean() - expected) < 0.01


def test_binary_task_clean_images_are_the_selected_digits(mnist):
    task = data.binary_task(mnist, (0, 6), noise=0.0, rng=np.random.default_rng(3))
    clean = mnist.test_images.reshape(-1, 784).astype(np.float32) / np.float32(255)
    for digit, label in ((0, 0), (6, 1)):
        expected_sums = np.sort(clean[mnist.test_labels == digit].sum(axis=1))
        actual_sums = np.sort(task.test_x[task.test_y == label].sum(axis=1))
        np.testing.assert_allclose(actual_sums, expected_sums, rtol=1e-5)


def test_binary_task_same_seed_identical_different_seed_different():
    mnist = _tiny_mnist()
    first = data.binary_task(mnist, (1, 3), rng=np.random.default_rng(7))
    second = data.binary_task(mnist, (1, 3), rng=np.random.default_rng(7))
    other = data.binary_task(mnist, (1, 3), rng=np.random.default_rng(8))
    for field in ("train_x", "train_y", "test_x", "test_y"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    assert not np.array_equal(first.train_x, other.train_x)
    assert not np.array_equal(first.test_x, other.test_x)


def test_binary_task_max_train_and_max_test():
    mnist = _tiny_mnist(num_train=100, num_test=50)
    task = data.binary_task(
        mnist, (4, 5), rng=np.random.default_rng(0), max_train=7, max_test=3
    )
    assert task.train_x.shape == (7, 784) and task.train_y.shape == (7,)
    assert task.test_x.shape == (3, 784) and task.test_y.shape == (3,)
    bigger = data.binary_task(
        mnist, (4, 5), rng=np.random.default_rng(0), max_train=999
    )
    assert bigger.train_x.shape == (20, 784)


def test_binary_task_does_not_modify_mnist():
    mnist = _tiny_mnist()
    before = mnist.train_images.copy()
    data.binary_task(mnist, (1, 2), noise=1.0, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(mnist.train_images, before)


@pytest.mark.parametrize("noise", [-0.5, 1.5])
def test_binary_task_rejects_bad_noise(noise):
    with pytest.raises(data.DataError, match=f"noise {noise} must be a number in"):
        data.binary_task(
            _tiny_mnist(), (1, 3), noise=noise, rng=np.random.default_rng()
        )


@pytest.mark.parametrize(
    "digits, fragment",
    [((1, 1), "(1, 1)"), ((3, 10), "digit 10"), ("1,2,3", "'1,2,3'")],
)
def test_binary_task_rejects_bad_digits(digits, fragment):
    with pytest.raises(data.DataError) as info:
        data.binary_task(_tiny_mnist(), digits, rng=np.random.default_rng())
    assert fragment in str(info.value)


@pytest.mark.parametrize("max_train", [0, -3, 2.5, True])
def test_binary_task_rejects_bad_max_train(max_train):
    with pytest.raises(data.DataError, match="max_train") as info:
        data.binary_task(
            _tiny_mnist(), (1, 3), rng=np.random.default_rng(), max_train=max_train
        )
    assert repr(max_train) in str(info.value)


def test_binary_task_rejects_missing_digit():
    mnist = _tiny_mnist()
    mnist = data.Mnist(
        train_images=mnist.train_images,
        train_labels=np.where(mnist.train_labels == 3, 2, mnist.train_labels).astype(
            np.uint8
        ),
        test_images=mnist.test_images,
        test_labels=mnist.test_labels,
    )
    with pytest.raises(
        data.DataError, match="digit 3 has no examples in the MNIST train"
    ):
        data.binary_task(mnist, (1, 3), rng=np.random.default_rng())


def test_binary_task_requires_a_generator():
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        data.binary_task(_tiny_mnist(), (1, 3))
