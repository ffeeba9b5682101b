"""A run's working directory: checks before anything is written."""

from __future__ import annotations

import os
import pathlib
import tempfile


class WorkdirError(ValueError):
    """The working directory cannot be used."""


def prepare_workdir(path: str | os.PathLike) -> pathlib.Path:
    """Creates `path` if needed and checks it is a writable directory.

    Raises WorkdirError (one sentence naming the path) if it is a file, or cannot be
    created or written.
    """
    workdir = pathlib.Path(path)
    if workdir.exists() and not workdir.is_dir():
        raise WorkdirError(f"workdir {str(workdir)!r} is a file, not a directory")
    try:
        workdir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WorkdirError(f"workdir {str(workdir)!r} cannot be created: "
                           f"{error.strerror or error}") from error
    try:  # a real write: os.access says yes to root even on a read-only mount
        with tempfile.TemporaryFile(dir=workdir):
            pass
    except OSError as error:
        raise WorkdirError(f"workdir {str(workdir)!r} is not writable: "
                           f"{error.strerror or error}") from error
    return workdir
