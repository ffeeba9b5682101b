"""What a single run shows a person: workdir/figures/ drawn from results.json (and
redrawn identically from it), TensorBoard images one can read, the test accuracy as a
scalar, and results.json's schema version."""

import json
import os
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from pathnet_tf.files.results_schema import SCHEMA_VERSION
from pathnet_tf.reports import report
from pathnet_tf.runs import run_figures
from pathnet_tf.runs.summaries import BLOCK
from tests.test_script import ROOT, TINY, run_script

FIGURES = ["pathways.png", "fitness.png", "module_usage.png"]
FLAGS = [*TINY, "--max_generations=12", "--threshold=1.0"]


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", data[16:24])  # IHDR: width, height


def read_events(logdir):
    """TensorBoard events read back with TensorFlow's own reader: `{(tag, step): image
    [h, w, 3] uint8}` and `{tag: (step, value)}` of the scalars (the last of each)."""
    images, scalars = {}, {}
    for path in logdir.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tensor = tf.make_ndarray(value.tensor)
                if value.tag.endswith(("module_usage", "best_path")):
                    images[(value.tag, event.step)] = tf.io.decode_png(tensor[2]).numpy()
                elif tensor.ndim == 0:
                    scalars[value.tag] = (event.step, float(tensor))
    return images, scalars


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A tiny two-task run (read only: tests that change it copy it first)."""
    workdir = tmp_path_factory.mktemp("figures") / "run"
    done = run_script(*FLAGS, f"--workdir={workdir}")
    assert done.returncode == 0, done.stderr
    return workdir, done.stdout


def test_a_run_writes_its_figures_and_names_the_folder(finished_run):
    workdir, stdout = finished_run
    for name in FIGURES:
        width, height = png_size(workdir / "figures" / name)
        assert 400 <= width <= 2500 and 200 <= height <= 1500, (name, width, height)
    assert stdout.strip().splitlines()[-1].endswith(f"figures in {workdir / 'figures'}")
    results = json.loads((workdir / "results.json").read_text())
    assert results["schema_version"] == SCHEMA_VERSION == 2
    usage = results["task_a"]["module_usage"]
    assert usage["generations"] == [1, 10, 12]  # the first, every image_every, the last
    assert np.asarray(usage["usage"]).shape == (3, 2, 4)
    frozen_by = np.asarray(results["frozen_by"])
    assert sorted(np.unique(frozen_by)) in ([-1, 0], [0])
    assert (frozen_by == 0).sum() == results["frozen_modules"][0]


def test_figures_are_redrawn_identically_from_results_json(finished_run, tmp_path):
    workdir = tmp_path / "run"
    shutil.copytree(finished_run[0], workdir)
    before = {name: (workdir / "figures" / name).read_bytes() for name in FIGURES}
    shutil.rmtree(workdir / "figures")
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-m", "pathnet_tf.reports.plotting", str(workdir)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in FIGURES:
        assert (workdir / "figures" / name).read_bytes() == before[name], name


def test_tensorboard_images_are_legible_and_test_accuracy_is_a_scalar(finished_run):
    workdir, _ = finished_run
    results = json.loads((workdir / "results.json").read_text())
    images, scalars = read_events(workdir / "tb")
    height, width = 2 * BLOCK + 1, 4 * BLOCK + 1  # L = 2, M = 4
    assert images and all(i.shape == (height, width, 3) for i in images.values())
    # Task B's images outline the modules task A froze in blue; task A's do not.
    frozen = np.asarray(results["frozen_by"]) >= 0
    image_b = images[("B_1v2/best_path", 10)].astype(int)
    for layer in range(2):
        for module in range(4):
            pixel = image_b[layer * BLOCK + 1, module * BLOCK + BLOCK // 2]  # a border pixel
            assert (pixel[2] > pixel[0] + 100) == frozen[layer, module], (layer, module)
    assert not (images[("A_1v3/best_path", 10)][..., 2].astype(int)
                - images[("A_1v3/best_path", 10)][..., 0] > 100).any()
    for key, tag in (("task_a", "A_1v3/test_accuracy"), ("task_b", "B_1v2/test_accuracy")):
        step, value = scalars[tag]
        assert step == results[key]["generations"]
        assert value == pytest.approx(results[key]["test_accuracy"], abs=1e-6)


def test_nofigures_writes_none(tmp_path):
    done = run_script(*TINY, "--nofigures", f"--workdir={tmp_path / 'run'}")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "results.json").exists()
    assert not (tmp_path / "run" / "figures").exists()
    assert "figures in" not in done.stdout


def test_schema_versions_older_are_read_newer_are_refused(finished_run, tmp_path):
    workdir, _ = finished_run
    results = json.loads((workdir / "results.json").read_text())
    old = {key: results[key] for key in ("mode", "seed", "task_a", "task_b", "overlap",
                                          "wall_seconds")}  # what schema 1 wrote
    for task in ("task_a", "task_b"):
        old[task] = {k: v for k, v in old[task].items() if k not in ("module_usage", "reuse")}
    (tmp_path / "v1").mkdir()
    (tmp_path / "v1" / "results.json").write_text(json.dumps(old))
    run = report.read_run(tmp_path / "v1" / "results.json", tmp_path)
    assert run["task_b"]["generations"] == results["task_b"]["generations"]
    paths = run_figures.redraw(tmp_path / "v1")  # no usage nor reuse recorded: two figures
    assert [p.name for p in paths] == ["pathways.png", "fitness.png"]

    newer = dict(results, schema_version=SCHEMA_VERSION + 1)
    (tmp_path / "v3").mkdir()
    (tmp_path / "v3" / "results.json").write_text(json.dumps(newer))
    with pytest.raises(ValueError, match="schema version 3; this code reads versions 1 to 2"):
        report.read_run(tmp_path / "v3" / "results.json", tmp_path)
    _, skipped = report.load_runs(tmp_path)
    assert [s["file"] for s in skipped] == ["v3/results.json"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-m", "pathnet_tf.reports.plotting",
                           str(tmp_path / "v3")],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("error: ") and "schema version 3" in done.stderr
