"""The settings the report compares across runs, read from each run's config.json.

Runs differing in any of them are pooled with a warning (`compare_settings`). The
protocol switches (`protocol.py`) are among them; a config.json written before they
existed counts as the paper's protocol, which is what those runs ran. Pure Python.
"""

from __future__ import annotations

from collections.abc import Sequence

from pathnet_tf.experiments import protocol

# Name -> its keys in config.json.
SETTINGS = {
    "num_layers": ("pathnet", "num_layers"), "num_modules": ("pathnet", "num_modules"),
    "num_active": ("pathnet", "num_active"), "units": ("pathnet", "units"),
    "population_size": ("evolution", "population_size"),
    "tournament_size": ("evolution", "tournament_size"),
    "steps_per_candidate": ("evolution", "steps_per_candidate"),
    "batch_size": ("evolution", "batch_size"), "threshold": ("evolution", "threshold"),
    "max_generations": ("evolution", "max_generations"),
    "optimizer": ("evolution", "optimizer"), "learning_rate": ("evolution", "learning_rate"),
    "noise": ("noise",), "max_train": ("max_train",),
}
# The protocol switches not above: name -> (keys, the value when config.json lacks it).
PROTOCOL_SETTINGS = {
    name: ((section, name) if section else (name,), protocol.PAPER[name])
    for name, section in protocol.SWITCHES.items() if name not in SETTINGS
}

_ABSENT = object()


def _get(mapping, keys):
    for key in keys:
        if not isinstance(mapping, dict) or key not in mapping:
            return _ABSENT
        mapping = mapping[key]
    return mapping


def run_settings(config: dict) -> dict:
    """One run's settings from its config.json (`{}`: none known)."""
    settings = {name: value for name, keys in SETTINGS.items()
                if (value := _get(config, keys)) is not _ABSENT}
    if config:
        settings.update({name: default if (value := _get(config, keys)) is _ABSENT else value
                         for name, (keys, default) in PROTOCOL_SETTINGS.items()})
    return settings


def compare_settings(runs: Sequence[dict]) -> tuple[dict, list[str]]:
    """The runs' settings -> (name -> its value, or the list of values seen; the names
    with more than one value)."""
    values: dict[str, list] = {}
    for run in runs:
        for name, value in run["settings"].items():
            if value not in values.setdefault(name, []):
                values[name].append(value)
    settings, mixed = {}, []
    for name, seen in values.items():
        settings[name] = seen[0] if len(seen) == 1 else seen
        if len(seen) > 1:
            mixed.append(name)
    return settings, mixed
