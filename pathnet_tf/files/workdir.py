"""A run's working directory: checks before anything is written."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import signal
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator


class WorkdirError(ValueError):
    """The working directory cannot be used."""


class RunTerminated(Exception):
    """A run stopped by SIGTERM after writing its checkpoint (rerun it to resume)."""

    exit_status = 143  # 128 + SIGTERM, as a process killed by SIGTERM has


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


LOCK_NAME = ".lock"


def lock_workdir(workdir: str | os.PathLike):
    """Takes `workdir` for this run (an exclusive `fcntl.flock` on `workdir/.lock`,
    released when the returned file is closed or the process dies). Raises
    WorkdirError naming the holder if another run has it; nothing is touched then."""
    path = pathlib.Path(workdir) / LOCK_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise WorkdirError(f"workdir {str(workdir)!r} is in use by another run ({holder}); "
                           "wait for it to end, or use another workdir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} on {socket.gethostname()} since "
                 f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    handle.flush()
    return handle


@contextlib.contextmanager
def held_until_sigterm(workdir: str | os.PathLike) -> Iterator[Callable[[], bool]]:
    """Holds `workdir` for one run (`lock_workdir`) and yields `stop()`, which turns True
    once SIGTERM arrives (what Slurm and Ray send before SIGKILL), so the run can end its
    step, write a checkpoint and raise `RunTerminated`. Off the main thread (where no
    signal handler can be set) `stop()` stays False. Both are undone on exit."""
    lock = lock_workdir(workdir)
    terminated = []
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: terminated.append(1))
    try:
        yield lambda: bool(terminated)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        lock.close()
