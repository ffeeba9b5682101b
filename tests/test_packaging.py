"""The package as pip installs it: every subpackage found, every third-party import a
declared dependency, the scripts' `python -m` entry points, and the MNIST an installed
package does not carry. (tools/check_wheel.sh, `make wheel-check`, installs the built
wheel for real; these are the cheap checks of the same promises.)"""

import ast
import importlib.metadata
import os
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest
import setuptools

from pathnet_tf.experiments.data import DataError
from pathnet_tf.files import mnist_files

ROOT = pathlib.Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SCRIPTS = ["binary_mnist_pathnet", "split_mnist_pathnet", "continual_mnist_pathnet",
           "cifar_svhn_pathnet", "minatar_pathnet", "atari_pathnet", "pathnet_pbt", "pbt_mnist"]


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement ("ale-py>=0.10" -> "ale-py")."""
    return re.sub(r"[-_.]+", "-", re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0]).lower()


def test_package_discovery_finds_every_subpackage():
    found = setuptools.find_packages(
        where=ROOT, **PYPROJECT["tool"]["setuptools"]["packages"]["find"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts)
               for init in (ROOT / "pathnet_tf").rglob("__init__.py")}
    assert {"pathnet_tf.pbt", "pathnet_tf.rl", "pathnet_tf.scripts"} <= on_disk
    assert set(found) == on_disk


def test_every_third_party_import_is_a_declared_dependency():
    declared = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    optional = {_name(r) for extra in PYPROJECT["project"]["optional-dependencies"].values()
                for r in extra}
    distributions = importlib.metadata.packages_distributions()
    undeclared = {}
    for path in (ROOT / "pathnet_tf").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                tops = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                tops = [node.module.split(".")[0]]
            else:
                continue
            for top in tops:
                if top in sys.stdlib_module_names or top == "pathnet_tf":
                    continue
                names = {_name(d) for d in distributions.get(top, [top])}
                if not names & (declared | optional):
                    undeclared.setdefault(top, []).append(str(path.relative_to(ROOT)))
    assert not undeclared, f"imported but not in pyproject.toml's dependencies: {undeclared}"
    assert {"minatar", "gymnasium", "ale-py"} <= declared


def test_requirements_txt_and_pyproject_agree():
    """Every runtime dependency of the package is in requirements.txt, with the same
    lower bound."""
    lines = [line.split("#")[0].strip()
             for line in (ROOT / "requirements.txt").read_text().splitlines()]
    required = {_name(line): line.replace(" ", "") for line in lines if line}
    for dependency in PYPROJECT["project"]["dependencies"]:
        name = _name(dependency)
        assert name in required, f"{dependency} (pyproject.toml) is not in requirements.txt"
        lower = re.search(r">=([\w.]+)", dependency)
        if lower:
            assert f">={lower.group(1)}" in required[name], (dependency, required[name])


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_starts_as_a_module_of_the_package(script, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=str(ROOT))
    help_flag = "--help" if script == "pbt_mnist" else "--helpfull"  # argparse / absl
    done = subprocess.run([sys.executable, "-m", f"pathnet_tf.scripts.{script}", help_flag],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr  # absl's help exits with 1
    assert "--workdir" in done.stdout + done.stderr
    entry = PYPROJECT["project"]["scripts"][script.replace("_", "-")]
    assert entry == f"pathnet_tf.scripts.{script}:entry"


def test_every_top_level_script_is_a_thin_wrapper_of_a_package_module():
    top_level = {path.stem for path in ROOT.glob("*.py")}
    modules = {path.stem for path in (ROOT / "pathnet_tf" / "scripts").glob("*.py")} - {
        "__init__", "rl_script"}  # rl_script: what the RL scripts share, not a script
    assert top_level == modules
    assert set(SCRIPTS) == modules
    for name in modules:
        text = (ROOT / f"{name}.py").read_text()
        assert f"from pathnet_tf.scripts.{name} import" in text and len(text) < 1000, name


def test_without_the_bundled_mnist_the_error_names_data_dir(tmp_path, monkeypatch):
    """An installed package has no data/mnist: a run given no --data_dir says so."""
    monkeypatch.setattr(mnist_files, "DEFAULT_MNIST_DIR", tmp_path / "no_mnist_here")
    with pytest.raises(DataError, match="--data_dir=DIR.*train-images-idx3-ubyte.gz"):
        mnist_files.load_mnist()
    with pytest.raises(DataError, match="does not exist"):  # a given directory: as before
        mnist_files.load_mnist(tmp_path / "given")
