"""What importing costs and where imports lead: config modules and the packages' public
APIs start no TensorFlow (each checked in a fresh interpreter), every lazy public name
resolves, and the import graph (tools/import_graph.py) has no circle and no module
named by a string."""

import subprocess
import sys

import pytest

from tools.import_graph import summary, upward_imports

# Modules that hold settings and their checks, and the packages' public faces: importing
# any of them must not start TensorFlow (a bad setting fails in a blink).
NO_TENSORFLOW = [
    "pathnet_tf",
    "pathnet_tf.core.checks",
    "pathnet_tf.core.config",
    "pathnet_tf.evolution.config",
    "pathnet_tf.experiments.config",
    "pathnet_tf.experiments.protocol",
    "pathnet_tf.runs.modes",
    "pathnet_tf.experiments.cli",
    "pathnet_tf.pbt",
    "pathnet_tf.pbt.config",
    "pathnet_tf.pbt.decisions",
    "pathnet_tf.pbt.pathnet_config",
    "pathnet_tf.rl.config",
]


@pytest.mark.parametrize("module", NO_TENSORFLOW)
def test_importing_a_config_module_starts_no_tensorflow(module):
    code = (f"import sys, {module}\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
            "assert 'keras' not in sys.modules, 'keras imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_the_pbt_pathnet_config_is_a_public_name_without_tensorflow():
    code = ("import sys\nfrom pathnet_tf.pbt import PathNetPBTConfig\n"
            "PathNetPBTConfig()\nassert 'tensorflow' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr


def test_every_lazy_public_name_resolves_to_where_it_is_defined():
    import pathnet_tf
    import pathnet_tf.pbt

    for package in (pathnet_tf, pathnet_tf.pbt):
        for name in package.__all__:
            value = getattr(package, name)
            assert value is not None, name
            home = getattr(value, "__module__", package.__name__)
            assert home.startswith("pathnet_tf"), (name, home)
        with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
            package.not_a_name  # noqa: B018


def test_imports_point_down_the_folders():
    graph = summary()
    assert graph["upward_imports"] == [], (
        "imports into a folder above (or beside) the importer's; tools/import_graph.py "
        f"FOLDERS gives the order: {graph['upward_imports']}")


def test_an_upward_import_is_caught():
    edges = {"pathnet_tf.core.model": {"pathnet_tf.runs.modes", "pathnet_tf.files.checkpoint"},
             "pathnet_tf.pbt.runner": {"pathnet_tf.rl.envs"},
             "pathnet_tf.runs.modes": set(), "pathnet_tf.files.checkpoint": set(),
             "pathnet_tf.rl.envs": set()}
    assert upward_imports(edges) == ["pathnet_tf.core.model -> pathnet_tf.runs.modes",
                                     "pathnet_tf.pbt.runner -> pathnet_tf.rl.envs"]


def test_import_graph_has_no_circle_and_no_module_named_by_a_string():
    graph = summary()
    assert graph["circles"] == [], f"import circles: {graph['circles']}"
    assert graph["named_by_strings"] == [], (
        "modules named by strings (write the import out, e.g. a function holding an "
        f"explicit `from pathnet_tf import x`): {graph['named_by_strings']}")
    assert "pathnet_tf.files.figures" in graph["imports"]["pathnet_tf.runs.run_figures"]
    assert "pathnet_tf.reports.plotting" not in graph["imports"]["pathnet_tf.runs.run_figures"]
