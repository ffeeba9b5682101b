"""The version of results.json, so readers (the report, the figures) know what they
hold. No TensorFlow.

1: the two-task files written before `schema_version` existed (`task_a`, `task_b`,
   `overlap`, ...).
2: adds `schema_version`, `tasks` (any number), `final_test_accuracy`,
   `reused_frozen_modules`, `frozen_modules`, `frozen_by` ([L, M]: the task that
   froze each module, -1 for none), `num_modules`, `threshold`, and per task
   `module_usage` (the population's use of each module over the generations).
"""

from __future__ import annotations

SCHEMA_VERSION = 2


def version_of(results: dict, where: str = "results.json") -> int:
    """The schema version of a results dict (1 if it says none); ValueError, naming
    `where`, for a version this code cannot read."""
    version = results.get("schema_version", 1)
    if not isinstance(version, int) or not 1 <= version <= SCHEMA_VERSION:
        raise ValueError(f"{where} has schema version {version!r}; this code reads "
                         f"versions 1 to {SCHEMA_VERSION}: update pathnet_tf to read it")
    return version
