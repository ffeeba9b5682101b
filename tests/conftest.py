"""Shared test setup: quiet TensorFlow, tiny shapes (L, M, N = 2, 4, 2), and a
temporary cache directory, so that no test (nor a script it starts) reads or writes
the user's real caches (the scripts keep XLA's compiled tournaments in
$XDG_CACHE_HOME/pathnet_tf/xla)."""

import os
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
_CACHE = tempfile.mkdtemp(prefix="pathnet_tf_test_cache_")
os.environ["XDG_CACHE_HOME"] = _CACHE


def pytest_unconfigure(config):
    shutil.rmtree(_CACHE, ignore_errors=True)
