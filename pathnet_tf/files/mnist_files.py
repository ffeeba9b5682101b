"""Reading MNIST from its four standard IDX files (gzipped, or uncompressed with the
same names minus ".gz"), validated: a missing or malformed file raises `DataError`
with one sentence naming the path and what was expected. NumPy only.

`pathnet_tf.experiments.data` builds the tasks on top of this and re-exports its public names.
"""

from __future__ import annotations

import dataclasses
import gzip
import math
import os
import pathlib
import zlib

import numpy as np

IMAGES_MAGIC = 0x00000803  # 2051: unsigned bytes, 3 dimensions [count, rows, cols].
LABELS_MAGIC = 0x00000801  # 2049: unsigned bytes, 1 dimension [count].
IMAGE_ROWS = 28
IMAGE_COLS = 28
IMAGE_SIZE = IMAGE_ROWS * IMAGE_COLS  # 784
NUM_CLASSES = 10

# The bundled MNIST of the source checkout. It is not in the wheel (11 MB, its own
# licence): an installed package is given a directory (`--data_dir`, `data_dir`).
DEFAULT_MNIST_DIR = pathlib.Path(__file__).resolve().parents[2] / "data" / "mnist"

# (field of Mnist, standard file name, expected magic number, kind for messages).
_MNIST_FILES = (
    ("train_images", "train-images-idx3-ubyte.gz", IMAGES_MAGIC, "train images"),
    ("train_labels", "train-labels-idx1-ubyte.gz", LABELS_MAGIC, "train labels"),
    ("test_images", "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC, "test images"),
    ("test_labels", "t10k-labels-idx1-ubyte.gz", LABELS_MAGIC, "test labels"),
)


class DataError(ValueError):
    """A data directory or file is missing or malformed, or a data argument is bad."""


@dataclasses.dataclass(frozen=True, eq=False)
class Mnist:
    """The MNIST train and test splits as read from the IDX files.

    Arrays are read-only views of the decompressed files (`np.frombuffer`).
    Equality is identity (`eq=False`): comparing arrays field by field is ambiguous.

    Attributes:
      train_images: [num_train, 28, 28] uint8 (60000 in the standard files).
      train_labels: [num_train] uint8 in 0-9.
      test_images: [num_test, 28, 28] uint8 (10000 in the standard files).
      test_labels: [num_test] uint8 in 0-9.
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray

    def __repr__(self) -> str:
        return (
            f"Mnist(train_images={list(self.train_images.shape)}, "
            f"test_images={list(self.test_images.shape)})"
        )




def load_mnist(data_dir: str | os.PathLike | None = None) -> Mnist:
    """Reads and validates the four standard MNIST IDX files in `data_dir`.

    Args:
      data_dir: directory holding train-images-idx3-ubyte.gz,
        train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and
        t10k-labels-idx1-ubyte.gz (each may instead be present uncompressed, under
        the same name minus ".gz"). None means `DEFAULT_MNIST_DIR`, the checkout's
        data/mnist (an installed package has none: `DataError` naming --data_dir).

    Returns:
      An `Mnist` whose arrays hold however many examples the files hold.

    Raises:
      DataError: the directory or a file is missing, a file is not valid gzip or is
        truncated, has the wrong magic number, holds more or fewer bytes than its
        header says, images and labels counts differ, or a label is outside 0-9.
    """
    directory = pathlib.Path(DEFAULT_MNIST_DIR if data_dir is None else data_dir)
    if data_dir is None and not directory.exists():
        raise DataError(
            f"no MNIST directory given, and the bundled one ({directory}) is not there: it "
            "ships with the source checkout, not with the installed package. Pass "
            "--data_dir=DIR (a config's data_dir), a directory holding "
            f"{', '.join(name for _, name, _, _ in _MNIST_FILES)}."
        )
    if not directory.exists():
        raise DataError(
            f"MNIST directory {directory} does not exist; expected a directory "
            f"holding {', '.join(name for _, name, _, _ in _MNIST_FILES)}."
        )
    if not directory.is_dir():
        raise DataError(
            f"MNIST directory {directory} is not a directory; expected a directory "
            "holding the four MNIST IDX files."
        )

    arrays = {}
    paths = {}
    for field, name, magic, kind in _MNIST_FILES:
        raw, path = _read_file_bytes(directory, name, kind)
        arrays[field] = _parse_idx(raw, path, magic, kind)
        paths[field] = path

    for split in ("train", "test"):
        images = arrays[f"{split}_images"]
        labels = arrays[f"{split}_labels"]
        if images.shape[1:] != (IMAGE_ROWS, IMAGE_COLS):
            raise DataError(
                f"MNIST {split} images file {paths[f'{split}_images']} holds "
                f"{images.shape[1]} x {images.shape[2]} images; expected "
                f"{IMAGE_ROWS} x {IMAGE_COLS}."
            )
        if images.shape[0] != labels.shape[0]:
            raise DataError(
                f"MNIST {split} images file {paths[f'{split}_images']} holds "
                f"{images.shape[0]} images but labels file "
                f"{paths[f'{split}_labels']} holds {labels.shape[0]} labels; "
                "the counts must match."
            )
        bad = np.flatnonzero(labels >= NUM_CLASSES)
        if bad.size:
            raise DataError(
                f"MNIST {split} labels file {paths[f'{split}_labels']} holds label "
                f"{int(labels[bad[0]])} at index {int(bad[0])}; labels must be in "
                f"0-{NUM_CLASSES - 1}."
            )
    return Mnist(**arrays)


def _read_file_bytes(
    directory: pathlib.Path, name: str, kind: str
) -> tuple[bytes, pathlib.Path]:
    """Returns the decompressed bytes of `directory/name` and the path read.

    Falls back to the uncompressed file (`name` minus ".gz") if the .gz is absent.
    """
    gz_path = directory / name
    raw_path = directory / name.removesuffix(".gz")
    if gz_path.is_file():
        path, compressed = gz_path, True
    elif raw_path.is_file():
        path, compressed = raw_path, False
    else:
        raise DataError(
            f"MNIST {kind} file {gz_path} is missing (an uncompressed "
            f"{raw_path.name} beside it would also do)."
        )
    try:
        content = path.read_bytes()
    except OSError as error:
        raise DataError(
            f"MNIST {kind} file {path} cannot be read ({error})."
        ) from error
    if not compressed:
        return content, path
    try:
        return gzip.decompress(content), path
    except (OSError, EOFError, zlib.error) as error:
        # gzip.BadGzipFile is an OSError; a cut file raises EOFError; corrupt
        # deflate data raises zlib.error.
        raise DataError(
            f"MNIST {kind} file {path} is not a valid gzip file or is truncated "
            f"({error})."
        ) from error


def _parse_idx(
    raw: bytes, path: pathlib.Path, expected_magic: int, kind: str
) -> np.ndarray:
    """Checks an IDX header against `expected_magic` and the data length.

    Returns:
      A read-only uint8 view of the data, shaped by the header's dimensions
      ([count, rows, cols] for images, [count] for labels).
    """
    if len(raw) < 4:
        raise DataError(
            f"MNIST {kind} file {path} holds {len(raw)} bytes, too few for an IDX "
            "magic number."
        )
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise DataError(
            f"MNIST {kind} file {path} starts with magic number 0x{magic:08x} "
            f"({magic}); expected 0x{expected_magic:08x} ({expected_magic})."
        )
    num_dims = expected_magic & 0xFF
    header_size = 4 + 4 * num_dims
    if len(raw) < header_size:
        raise DataError(
            f"MNIST {kind} file {path} holds {len(raw)} bytes, too few for its "
            f"{header_size}-byte IDX header."
        )
    dims = tuple(
        int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(num_dims)
    )
    expected_bytes = math.prod(dims)
    data_bytes = len(raw) - header_size
    if data_bytes != expected_bytes:
        raise DataError(
            f"MNIST {kind} file {path} holds {data_bytes} bytes of data but its "
            f"header's dimensions {' x '.join(map(str, dims))} need "
            f"{expected_bytes}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)
