"""Batches of MinAtar games as one array interface. NumPy only (no TensorFlow).
Real Atari games ("atari:pong", `atari.py`) have the same interface; `make`,
`frame_spec` and `num_actions` take either family's names.

Every frame is `[10, 10, C]` booleans, C = 4..10 channels depending on the game; all
frames here are zero-padded to `CHANNELS` = 10 channels (float32), so one first
layer fits every game. Actions are each game's minimal action set (3 to 6 actions),
indexed 0..A-1. A "frame" is one environment step (MinAtar has no frame skip).
"""

from __future__ import annotations

import pickle

import numpy as np

GAMES = ("asterix", "breakout", "freeway", "seaquest", "space_invaders")
CHANNELS = 10  # the most any MinAtar game has (seaquest)


ATARI = "atari:"  # the prefix of real Atari games (`atari.py`): "atari:pong"


def check_game(name: str) -> str:
    """A MinAtar game, or "atari:<rom>" (an Atari ROM ale-py carries, `atari.py`)."""
    if isinstance(name, str) and name.startswith(ATARI):
        from pathnet_tf.rl.atari import check_game as check_atari

        return check_atari(name)
    if name not in GAMES:
        raise ValueError(f"game ({name!r}) must be one of {', '.join(GAMES)}, or "
                         f"{ATARI}<game> for real Atari (e.g. {ATARI}pong: docs/atari.md)")
    return name


def family(game: str) -> str:
    """"atari" or "minatar": games of one family share frame shapes (one trunk)."""
    return "atari" if game.startswith(ATARI) else "minatar"


def frame_spec(game: str) -> tuple[tuple, type, int]:
    """`(frame shape, dtype, emulator frames per agent step)` of `game`'s family."""
    if family(game) == "atari":
        from pathnet_tf.rl import atari

        return atari.AtariVectorEnv.frame_shape, np.uint8, atari.FRAME_SKIP
    return VectorEnv.frame_shape, np.float32, 1


def make(game: str, count: int, seed, sticky_action_prob: float, first: int = 0):
    """`count` copies of `game` (either family) behind the one interface, seeded as
    games `first`..`first + count - 1` of a batch."""
    if family(game) == "atari":
        from pathnet_tf.rl.atari import AtariVectorEnv

        return AtariVectorEnv(game, count, seed, sticky_action_prob, first)
    return VectorEnv(game, count, seed, sticky_action_prob, first)


def num_actions(game: str) -> int:
    """Size of `game`'s minimal action set (the policy head's outputs)."""
    if family(check_game(game)) == "atari":
        from pathnet_tf.rl.atari import num_actions as atari_actions

        return atari_actions(game)
    from minatar import Environment

    return len(Environment(game).minimal_action_set())


class VectorEnv:
    """`count` independent copies of one MinAtar game, reset automatically.

    `observe()` -> `[count, 10, 10, CHANNELS] float32`; `step(actions [count])` ->
    `(rewards [count] float32, dones [count] bool)`, a finished episode's return being
    appended to `finished` as `(env_index, return, length)`. Each copy is seeded from
    `seed` (an int or a sequence of them: sticky actions and the games' own randomness)
    and its index `first + i` (a shard of a larger batch, `ray_envs.py`, seeds its games
    as the whole batch would).
    """

    frame_shape = (10, 10, CHANNELS)
    frame_dtype = np.float32

    def __init__(self, game: str, count: int, seed, sticky_action_prob: float = 0.1,
                 first: int = 0):
        from minatar import Environment

        self.game = check_game(game)
        self.envs = []
        for index in range(count):
            env = Environment(game, sticky_action_prob=sticky_action_prob)
            sequence = np.random.SeedSequence([*np.atleast_1d(seed), first + index])
            env.seed(int(sequence.generate_state(1)[0]))
            env.reset()
            self.envs.append(env)
        self.actions = np.asarray(self.envs[0].minimal_action_set(), np.int64)
        self.channels = self.envs[0].state_shape()[2]
        self.returns = np.zeros(count, np.float64)  # of the episodes under way
        self.lengths = np.zeros(count, np.int64)
        self.finished: list[tuple[int, float, int]] = []

    @property
    def num_actions(self) -> int:
        return len(self.actions)

    def observe(self) -> np.ndarray:
        frames = np.zeros((len(self.envs), 10, 10, CHANNELS), np.float32)
        for index, env in enumerate(self.envs):
            frames[index, :, :, :self.channels] = env.state()
        return frames

    def step(self, actions) -> tuple[np.ndarray, np.ndarray]:
        rewards = np.zeros(len(self.envs), np.float32)
        dones = np.zeros(len(self.envs), bool)
        for index, (env, action) in enumerate(zip(self.envs, self.actions[actions])):
            reward, done = env.act(int(action))
            rewards[index], dones[index] = reward, done
        self.returns += rewards
        self.lengths += 1
        for index in np.flatnonzero(dones):
            self.finished.append((int(index), float(self.returns[index]),
                                  int(self.lengths[index])))
            self.returns[index], self.lengths[index] = 0.0, 0
            self.envs[index].reset()
        return rewards, dones

    def state(self) -> np.ndarray:
        """Everything needed to continue (games, their generators, episodes under way)
        as bytes in a uint8 array, for a checkpoint."""
        return np.frombuffer(pickle.dumps((self.envs, self.returns, self.lengths)), np.uint8)

    def load_state(self, blob: np.ndarray) -> None:
        saved = pickle.loads(np.asarray(blob).tobytes())
        if saved and isinstance(saved[0], str) and saved[0] == "ray":
            raise ValueError("the checkpoint was written by the Ray backend: resume it with "
                             "--backend=ray")
        self.envs, self.returns, self.lengths = saved
