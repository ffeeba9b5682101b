"""Checkpoints of a run: one `.npz` file of arrays plus a JSON header, written
atomically (a temporary file in the same directory, then a rename), so a kill during
the write leaves the previous checkpoint whole.

What goes in is decided by the caller (`run.Sequence.state()`): every model variable, the
optimizer's slots, step and learning rate, the population, the random generators'
states, the phase and the evolve loop's counters and history.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import zipfile

import numpy as np

from pathnet_tf.files.atomic_io import write_atomic

FORMAT_VERSION = 2  # 2: run.Sequence.state() (any number of tasks)
_HEADER = "__header__"


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not fit the run."""


def save(path: str | os.PathLike, arrays: dict, header: dict) -> None:
    """Writes `arrays` (name -> array) and `header` (JSON-able) to `path` atomically."""
    path = pathlib.Path(path)
    payload = {name: np.asarray(value) for name, value in arrays.items()}
    payload[_HEADER] = np.frombuffer(
        json.dumps({"format_version": FORMAT_VERSION, **header}).encode(), np.uint8)

    def write(temporary):
        with open(temporary, "wb") as file:
            np.savez(file, **payload)
            file.flush()
            os.fsync(file.fileno())

    write_atomic(path, write)


def load(path: str | os.PathLike) -> tuple[dict, dict]:
    """Reads a checkpoint: `(arrays, header)`. Raises CheckpointError (one sentence
    naming the file) if it is truncated, corrupt or of another format version."""
    path = pathlib.Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(arrays.pop(_HEADER).tobytes().decode())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"checkpoint {str(path)!r} is corrupt or truncated "
                              f"({type(error).__name__}); delete it, or its workdir, to "
                              "start the run afresh") from error
    if header.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"checkpoint {str(path)!r} has format version "
                              f"{header.get('format_version')}, this code reads "
                              f"{FORMAT_VERSION}")
    return arrays, header


def _defaults(config) -> dict:
    """`config`'s top-level fields with a default, name -> the default as JSON reads it
    back (none for a config that is not a dataclass)."""
    if not dataclasses.is_dataclass(config):
        return {}
    defaults = {}
    for field in dataclasses.fields(config):
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = json.loads(json.dumps(field.default))
    return defaults


def config_differences(saved, config, ignore=()) -> list[str]:
    """The fields, sorted, in which `saved` (a config dict read from a checkpoint; None:
    none, and then every field differs) differs from `config`, those in `ignore` aside.
    A field a saved config lacks does not differ when `config` holds it at its default:
    the checkpoint was written before that switch existed, when the run behaved as the
    default does."""
    current = json.loads(json.dumps(config.to_dict()))
    if isinstance(saved, dict):
        defaults = _defaults(config)
        saved = {**{key: value for key, value in current.items()
                    if key in defaults and value == defaults[key]}, **saved}
    else:
        saved = {}
    return sorted(key for key in set(saved) | set(current)
                  if key not in ignore and saved.get(key) != current.get(key))
