"""Shared test setup: quiet TensorFlow, tiny shapes (L, M, N = 2, 4, 2)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
