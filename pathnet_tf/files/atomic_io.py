"""Atomic result files: JSON, CSV, and any file written by a callback.

No TensorFlow. Every write goes to a temporary file in the same directory, then
`os.replace` renames it over the target, so a reader (or a crash) never sees a
half-written file and an earlier complete version survives a failed write.
"""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: the mode new files get


def temporary_path(path: str | os.PathLike) -> pathlib.Path:
    """A new, unique hidden sibling of `path` with the same suffix, e.g. "a/b.png" ->
    "a/.b.k3j2x8.tmp.png" (created empty), so two writers of one target never share a
    temporary file.

    Keeping the suffix matters for writers that pick a format from it (matplotlib,
    Keras `.keras` files).
    """
    path = pathlib.Path(path)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.",
                                    suffix=f".tmp{path.suffix}")
    os.close(handle)
    os.chmod(name, 0o666 & ~_UMASK)  # mkstemp makes it 0600; the target gets the usual mode
    return pathlib.Path(name)


def write_atomic(path: str | os.PathLike, write: Callable[[pathlib.Path], None]) -> pathlib.Path:
    """Calls `write(temporary_path)`, then renames the result onto `path`.

    Creates the parent directory. If `write` raises, the temporary file is removed
    and `path` is left as it was.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_path(path)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def write_text(path: str | os.PathLike, text: str) -> pathlib.Path:
    """Writes `text` to `path` atomically."""
    return write_atomic(path, lambda temporary: temporary.write_text(text))


def write_json(path: str | os.PathLike, value: Any) -> pathlib.Path:
    """Writes `value` as indented JSON to `path` atomically."""
    return write_text(path, json.dumps(value, indent=2, sort_keys=False) + "\n")


def write_csv(
    path: str | os.PathLike,
    rows: Sequence[Mapping[str, Any]],
    fieldnames: Sequence[str],
) -> pathlib.Path:
    """Writes `rows` (dicts keyed by `fieldnames`; None as "") to `path` atomically."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fieldnames), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in fieldnames})
    return write_text(path, buffer.getvalue())


def read_csv(path: str | os.PathLike) -> list[dict[str, str]]:
    """The rows of a CSV file with a header, as dicts of strings."""
    with open(path, newline="") as file:
        return list(csv.DictReader(file))
