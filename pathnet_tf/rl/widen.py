"""A finished game A moved into a PathNet with more modules per layer (`--widen_game_a`).

A network trained as one fixed path of M_s modules per layer (M_s = 1: a plain
network, as `--mode=finetune --num_modules=1` learns it) is, in PathNet's terms, a
game A whose best path uses only the first M_s modules of each layer. `widen_game_a`
builds that PathNet at the run's M: the source's modules become modules 0..M_s-1 of
each layer (its heads and frozen flags move along), and then the run's mode does what
it does when game A ends (`modes.Mode.between`): PathNet freezes game A's best path
and re-initialises every other module. Game B then evolves its population on top, as
it would after a game A learned by PathNet itself.

This is how the Atari experiments give PathNet's game B a Pong path worth reusing when
PathNet's own narrow modules do not learn Pong (results/atari/README.md, part 10).
"""

from __future__ import annotations

import copy
import dataclasses

import numpy as np

from pathnet_tf.files import checkpoint
from pathnet_tf.rl.config import GAME_B_FIELDS

# what a widened run may set differently from its source, beyond game B's settings
WIDEN_FIELDS = ("num_modules", "mode", "compute")


def check_widening(header: dict, config, source) -> None:
    """ValueError (one sentence) unless `config` may widen the game A saved with
    `header`: fewer or as many modules in the source, every other setting but
    `WIDEN_FIELDS` and `GAME_B_FIELDS` the source's."""
    saved = header.get("config") or {}
    differing = checkpoint.config_differences(saved, config, GAME_B_FIELDS + WIDEN_FIELDS)
    if differing:
        raise ValueError(f"game_a_from ({str(source)!r}) learned game A with other settings "
                         f"(differing: {', '.join(differing)}); widened, only "
                         f"{', '.join(WIDEN_FIELDS)} and game B's may differ")
    if saved.get("num_modules", 0) > config.num_modules:
        raise ValueError(f"num_modules ({config.num_modules}) must be at least the "
                         f"{saved['num_modules']} modules per layer of game_a_from "
                         f"({str(source)!r}) to widen it")


def _grow(small: np.ndarray, fresh: np.ndarray) -> np.ndarray:
    """`fresh` with `small` in its first rows along the one axis where they differ."""
    if small.shape == fresh.shape:
        return small
    axes = [i for i, (a, b) in enumerate(zip(small.shape, fresh.shape)) if a != b]
    if len(small.shape) != len(fresh.shape) or len(axes) != 1:
        raise ValueError(f"cannot widen an array of shape {small.shape} to {fresh.shape}")
    grown = np.array(fresh)
    index = [slice(None)] * fresh.ndim
    index[axes[0]] = slice(0, small.shape[axes[0]])
    grown[tuple(index)] = small
    return grown


def widen_game_a(arrays: dict, header: dict, source, config) -> tuple[dict, dict]:
    """The snapshot `(arrays, header)` of a finished game A (from `source`, for
    messages) as a finished game A of `config`'s wider PathNet (module docstring):
    `(arrays, header)` as `runner.Transfer.load_state` takes them, with
    `header["widened_from"]` naming the source and its modules per layer, mode and
    compute (the run's results.json carries it on)."""
    from pathnet_tf.rl import envs as environments
    from pathnet_tf.rl.runner import Transfer
    from pathnet_tf.runs import modes

    check_widening(header, config, source)
    saved = header["config"]
    narrow = dataclasses.replace(config, **{name: saved.get(name, getattr(config, name))
                                            for name in WIDEN_FIELDS})
    small = Transfer(narrow)
    small.load_state(arrays, header, source)
    wide = Transfer(config)
    wide.model.add_task(environments.num_actions(config.game_a))
    wide.model.add_task(1)  # game A's heads, as the source's (assigned below)
    for little, big in zip(small.model.variables, wide.model.variables):
        big.assign(_grow(little.numpy(), big.numpy()))
    best_path = np.asarray(small.finished[0]["best_path"], np.int32)
    modes.get(config.mode).between(wide.model, best_path)
    wide.phase, wide.finished = 1, copy.deepcopy(small.finished)
    wide.elapsed = small.elapsed
    wide.widened_from = {"snapshot": str(source), **{name: getattr(narrow, name)
                                                     for name in WIDEN_FIELDS}}
    return wide.state()
