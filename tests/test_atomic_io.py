"""Atomic writes: unique temporary names, the usual file mode, nothing half-written."""

import os
import stat

import pytest

from pathnet_tf.files import atomic_io


def test_two_writers_of_one_target_get_different_temporary_files(tmp_path):
    target = tmp_path / "results.json"
    first, second = atomic_io.temporary_path(target), atomic_io.temporary_path(target)
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith(".results.") and first.name.endswith(".tmp.json")


def test_written_file_has_the_usual_mode_and_no_temporary_is_left(tmp_path):
    atomic_io.write_json(tmp_path / "a" / "results.json", {"x": 1})
    mode = stat.S_IMODE(os.stat(tmp_path / "a" / "results.json").st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["results.json"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "summary.md"
    atomic_io.write_text(target, "old")

    def fail(temporary):
        temporary.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_io.write_atomic(target, fail)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["summary.md"]
