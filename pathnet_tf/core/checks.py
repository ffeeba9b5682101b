"""Argument checks shared by the configs and the layers: one sentence naming the value
and what is allowed. Standard library only, so a config module that uses them imports
no TensorFlow."""

from __future__ import annotations


def check_positive_int(name: str, value) -> None:
    """ValueError naming `name` unless `value` is an int > 0 (a bool is not)."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} ({value!r}) must be a positive integer")


def check_positive_ints(owner, *names: str) -> None:
    """`check_positive_int` of each named attribute of `owner` (a config dataclass)."""
    for name in names:
        check_positive_int(name, getattr(owner, name))


def check_choice(owner, name: str, choices) -> None:
    """ValueError unless attribute `name` of `owner` is one of `choices`."""
    value = getattr(owner, name)
    if value not in choices:
        raise ValueError(f"{name} ({value!r}) must be one of {', '.join(choices)}")
