"""cifar_svhn_pathnet.py end to end on tfds mock data, the data layout, flags, and the
offline message when a data set is not prepared.

`tfds.testing.mock_data` patches tfds in this process, so the script's `main` runs
in-process (its flags parsed by absl here). The mocked builders read a data_dir that
holds each data set's metadata (dataset_info.json, features.json), so the script's
"is it prepared?" check passes exactly as on a real prepared directory; the examples
themselves are random images and labels.
"""

import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds
from absl import flags

import cifar_svhn_pathnet as script
from pathnet_tf.experiments import cifar_svhn
from pathnet_tf.experiments.config import CifarSvhnConfig
from pathnet_tf.experiments.data import DataError

ROOT = pathlib.Path(__file__).resolve().parent.parent
FLAGS = flags.FLAGS
EXAMPLES = 12  # per split of each mocked data set
TINY = ["--num_layers=2", "--num_modules=3", "--num_active=2", "--units=4",
        "--population_size=4", "--steps_per_candidate=2", "--batch_size=4",
        "--max_generations=2", "--max_train=8", "--nojit_compile"]


@pytest.fixture
def mock_data_dir(tmp_path):
    """A tfds data_dir where both data sets look prepared, served by `mock_data`."""
    data_dir = tmp_path / "tfds"
    for name in cifar_svhn.TFDS_NAMES.values():
        builder = tfds.builder(name, data_dir=str(data_dir))
        builder.data_path.mkdir(parents=True)
        builder.info.write_to_directory(builder.data_path)
    with tfds.testing.mock_data(num_examples=EXAMPLES, data_dir=str(data_dir)):
        yield data_dir


def run_main(*argv):
    """Parses `argv` as the script's flags (from their defaults) and runs its main."""
    FLAGS.unparse_flags()
    try:
        FLAGS(["cifar_svhn_pathnet.py", *argv])
        script.main(["cifar_svhn_pathnet.py"])
    finally:
        FLAGS.unparse_flags()


@pytest.mark.parametrize("first, module_type, extra", [
    ("cifar", "dense", []), ("svhn", "dense", []), ("cifar", "conv", []),
    ("svhn", "conv", ["--parallel=2"])])  # conv modules in the parallel tournaments too
def test_script_end_to_end_on_mock_data(tmp_path, mock_data_dir, first, module_type, extra):
    workdir = tmp_path / "run"
    argv = [*TINY, f"--first={first}", f"--module_type={module_type}", "--conv_layers=2:5:4",
            f"--data_dir={mock_data_dir}", f"--workdir={workdir}", "--seed=5", *extra]
    run_main(*argv)
    results = json.loads((workdir / "results.json").read_text())
    config = json.loads((workdir / "config.json").read_text())
    assert (config["first"], config["module_type"], config["seed"]) == (first, module_type, 5)
    second = "svhn" if first == "cifar" else "cifar"
    for key, name in (("task_a", first), ("task_b", second)):
        task = results[key]
        assert task["name"] == name and task["dataset"] == cifar_svhn.TFDS_NAMES[name]
        assert (task["train_examples"], task["test_examples"]) == (8, EXAMPLES)
        assert 1 <= task["generations"] <= 2 and len(task["fitness_history"]) >= 1
        assert 0.0 <= task["best_fitness"] <= 1.0
        assert 0.0 <= task["test_accuracy"] <= 1.0
        assert np.array(task["best_path"]).shape == (2, 2)
        assert set(task["tracing_counts"].values()) == {1}
    assert 0 <= results["overlap"] <= 4
    events = list((workdir / "tb").glob("events.out.tfevents.*"))
    assert events and events[0].stat().st_size > 0
    if first == "cifar" and module_type == "dense":  # a finished run is not redone
        run_main(*argv)
        assert json.loads((workdir / "results.json").read_text()) == results


@pytest.mark.parametrize("module_type, shape", [("dense", (3072,)), ("conv", (32, 32, 3))])
def test_both_data_sets_share_one_layout(mock_data_dir, module_type, shape):
    config = CifarSvhnConfig(module_type=module_type, data_dir=str(mock_data_dir),
                             max_train=5)
    tasks = cifar_svhn.load_tasks(config)
    assert [task.name for task in tasks] == ["cifar", "svhn"]
    for task in tasks:
        assert task.num_classes == 10
        assert task.train_x.shape == (5, *shape) and task.test_x.shape == (EXAMPLES, *shape)
        for x, y in ((task.train_x, task.train_y), (task.test_x, task.test_y)):
            assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
            assert y.dtype == np.int32 and 0 <= y.min() and y.max() < 10


def config_of(*argv) -> CifarSvhnConfig:
    FLAGS.unparse_flags()
    try:
        FLAGS(["cifar_svhn_pathnet.py", *argv])
        return script.config_from_flags()
    finally:
        FLAGS.unparse_flags()


def test_flags_default_to_the_paper_settings():
    config = config_of()
    net, evo = config.pathnet, config.evolution
    assert (net.num_layers, net.num_modules, net.num_active, net.units) == (3, 20, 5, 20)
    assert (evo.population_size, evo.tournament_size, evo.steps_per_candidate,
            evo.batch_size, evo.max_generations, evo.threshold) == (64, 2, 50, 16, 500, 1.0)
    assert (evo.optimizer, evo.learning_rate, evo.jit_compile) == ("sgd", 0.003, True)
    assert (config.first, config.module_type, config.download) == ("cifar", "dense", False)
    assert config.conv_layers == ((8, 5, 2), (8, 3, 2))
    assert config == CifarSvhnConfig()


def test_flags_map_onto_the_config():
    config = config_of("--first=svhn", "--module_type=conv", "--conv_layers=4:3:1,6:3:2",
                       "--optimizer=adam", "--max_train=30", "--download", "--seed=2")
    assert (config.first, config.module_type, config.task_order) == ("svhn", "conv",
                                                                     ("svhn", "cifar"))
    assert config.conv_layers == ((4, 3, 1), (6, 3, 2))
    assert (config.evolution.learning_rate, config.evolution.jit_compile) == (0.001, False)
    assert (config.max_train, config.download, config.seed) == (30, True, 2)
    assert config_of("--module_type=conv", "--jit_compile").evolution.jit_compile
    assert config_of("--learning_rate=0.2").evolution.learning_rate == 0.2


def test_missing_data_is_not_downloaded_unless_asked(tmp_path, monkeypatch):
    calls = []

    def offline_download(self, *args, **kwargs):
        calls.append(self.name)
        raise OSError("network is unreachable")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", offline_download)
    empty = str(tmp_path / "empty")
    with pytest.raises(DataError, match=r"svhn_cropped is not prepared in .*empty.*"
                                        r"tfds build svhn_cropped --data_dir=DIR"):
        cifar_svhn.prepared_builders(CifarSvhnConfig(first="svhn", data_dir=empty))
    assert calls == []
    with pytest.raises(DataError, match="cifar10 could not be downloaded.*unreachable"):
        cifar_svhn.prepared_builder("cifar10", empty, download=True)
    assert calls == ["cifar10"]


def run_script(*argv, timeout=120):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, str(ROOT / "cifar_svhn_pathnet.py"), *argv],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)


def test_unprepared_data_stops_with_one_sentence(tmp_path):
    workdir = tmp_path / "run"
    done = run_script(f"--data_dir={tmp_path / 'empty'}", f"--workdir={workdir}")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("error: cifar10 is not prepared in "), done.stderr
    assert "`tfds build cifar10 --data_dir=DIR`" in lines[-1] and "--download" in lines[-1]
    assert "Traceback" not in done.stderr and "Variant folder" not in done.stderr
    assert not workdir.exists()


BAD_FLAGS = [
    (["--first=mnist"], "first ('mnist') must be one of cifar, svhn"),
    (["--module_type=rnn"], "module_type ('rnn') must be one of dense, conv"),
    (["--module_type=conv", "--conv_layers=8:5"], "conv_layers ('8:5')"),
    (["--module_type=conv", "--conv_layers=8:40:1"], "conv_layers[0] (8:40:1) leaves no output"),
    (["--module_type=conv", "--conv_layers=8:5:2,8:3:2,8:3:1,8:3:1"],
     "must name between 1 and num_layers (3)"),
    (["--num_active=21"], "num_active (21) must be <= num_modules (20)"),
    (["--max_train=0"], "max_train (0)"),
    (["--threads=0"], "threads (0) must be a positive integer"),
    (["--parallel=-1"], "parallel (-1)"),
]


@pytest.mark.parametrize("argv, message", BAD_FLAGS, ids=[" ".join(a) for a, _ in BAD_FLAGS])
def test_bad_flags_stop_with_one_line_before_anything_is_written(tmp_path, argv, message):
    workdir = tmp_path / "run"
    done = run_script(*argv, f"--workdir={workdir}")
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines == [lines[-1]] and lines[-1].startswith("error: ") and message in lines[-1], \
        done.stderr
    assert not workdir.exists()


@pytest.mark.parametrize("mode", ["independent", "finetune"])
def test_control_modes_on_mock_data(tmp_path, mock_data_dir, mode):
    workdir = tmp_path / mode
    run_main(*TINY, f"--mode={mode}", f"--data_dir={mock_data_dir}", f"--workdir={workdir}")
    results = json.loads((workdir / "results.json").read_text())
    assert results["mode"] == mode and results["overlap"] is None
    assert 0.0 <= results["task_b"]["test_accuracy"] <= 1.0
    assert (results["task_a"] is None) == (mode == "independent")
