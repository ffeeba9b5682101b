"""Batches of real Atari 2600 games (the Arcade Learning Environment, `ale_py`, whose
wheel carries the ROMs: offline) with the same interface as `envs.VectorEnv`.
NumPy and ale_py only (no TensorFlow, no OpenCV).

The protocol (docs/atari.md, with sources): Gymnasium's `ALE/<Game>-v5` settings,
i.e. Machado et al. (2018)'s recommendations as Gymnasium ships them: frame skip 4
(the action repeated on 4 emulator frames, their rewards summed), sticky actions
with probability 0.25 on every emulator frame, the game's minimal action set, no
no-op starts, no fire on reset, the episode ends at game over (a lost life does not
end it) or at 108,000 emulator frames. Then DQN's preprocessing (Mnih et al. 2015,
as Gymnasium's `AtariPreprocessing`): the pixel-wise max of the last two emulator
frames of a step, grayscale, resized to 84×84 by area averaging, the last 4 such
frames stacked as channels (`[84, 84, 4]` uint8; at an episode's start, the first
frame four times). Rewards: `step` returns each reward's sign (clipped to -1, 0, 1:
what the learner sees); `finished` records episodes' raw scores (what is reported).

A "frame" in the runner's counts is one agent step here, i.e. 4 emulator frames
(`FRAME_SKIP`); docs/atari.md says which figure counts what.

Every game's emulator state, its random generator (sticky actions) included, is
cloned into `state()`: a checkpoint continues exactly (tested).
"""

from __future__ import annotations

import pickle

import numpy as np

PREFIX = "atari:"
FRAME_SKIP = 4
STACK = 4
SIZE = 84
MAX_EMULATOR_FRAMES = 108_000  # 30 minutes at 60 Hz: Machado et al. 2018, Gymnasium v5
SCREEN = (210, 160)


def rom_ids() -> list[str]:
    """The games whose ROMs the installed ale_py carries (snake_case: "pong", "alien")."""
    from ale_py import roms

    return sorted(roms.get_all_rom_ids())


def check_game(name: str) -> str:
    """`name` is "atari:<rom id>" and that ROM is installed; else one ValueError line."""
    if not name.startswith(PREFIX):
        raise ValueError(f"game ({name!r}) must start with {PREFIX!r}")
    try:
        ids = rom_ids()
    except ImportError:
        raise ValueError(f"game ({name!r}) needs ale-py: pip install 'ale-py>=0.10' "
                         "'gymnasium>=1.0'") from None
    rom = name[len(PREFIX):]
    if rom not in ids:
        close = [game for game in ids if game.startswith(rom[:3])] if rom else []
        hint = f" (did you mean {', '.join(PREFIX + g for g in close[:4])}?)" if close else ""
        raise ValueError(f"game ({name!r}) is not an Atari ROM ale-py carries{hint}; "
                         f"the {len(ids)} games: python -c 'from ale_py import roms; "
                         "print(roms.get_all_rom_ids())'")
    return name


def _area_weights(source: int, target: int) -> tuple[np.ndarray, np.ndarray]:
    """Area averaging of `source` pixels into `target` (OpenCV's INTER_AREA for a
    shrink): output pixel i covers input interval [i·s, (i+1)·s), s = source/target,
    each input pixel weighted by its overlap / s. Returns `(index [target, K],
    weight [target, K])`, K the most input pixels an output touches (zero-padded)."""
    scale = source / target
    rows = []
    for i in range(target):
        lo, hi = i * scale, (i + 1) * scale
        first, last = int(np.floor(lo)), min(int(np.ceil(hi)), source)
        rows.append([(j, (min(hi, j + 1) - max(lo, j)) / scale) for j in range(first, last)])
    width = max(len(row) for row in rows)
    index = np.zeros((target, width), np.int64)
    weight = np.zeros((target, width), np.float32)
    for i, row in enumerate(rows):
        for k, (j, w) in enumerate(row):
            index[i, k], weight[i, k] = j, w
    return index, weight


def _column_matrix() -> np.ndarray:
    """160 -> 84 columns is 40 -> 21: the `[40, 21]` area matrix of one group of 40
    input columns (the same for all four groups), divided by the rows' factor 5."""
    index, weight = _area_weights(40, 21)
    matrix = np.zeros((40, 21), np.float32)
    for k in range(index.shape[1]):
        np.add.at(matrix, (index[:, k], np.arange(21)), weight[:, k])
    return matrix / 5.0


_COLUMNS = _column_matrix()


def resize(screens: np.ndarray) -> np.ndarray:
    """`[n, 210, 160]` uint8 -> `[n, 84, 84]` uint8 by area averaging (rounded). Rows:
    210 -> 84 is 5 -> 2, so each pair of output rows averages five input rows
    (weights 1, 1, ½ | ½, 1, 1), summed in integers as 2·(a + b) + c (five times the
    average); columns: 160 -> 84 is 40 -> 21, one small product per group of 40."""
    count = screens.shape[0]
    five = screens.reshape(count, SIZE // 2, 5, SCREEN[1]).astype(np.uint16)
    rows = np.empty((count, SIZE // 2, 2, SCREEN[1]), np.float32)
    rows[:, :, 0] = 2 * (five[:, :, 0] + five[:, :, 1]) + five[:, :, 2]
    rows[:, :, 1] = five[:, :, 2] + 2 * (five[:, :, 3] + five[:, :, 4])
    out = rows.reshape(count, SIZE, 4, 40) @ _COLUMNS  # [n, 84, 4, 21]
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(count, SIZE, SIZE)


def num_actions(game: str) -> int:
    """Size of `game`'s minimal action set (the policy head's outputs)."""
    from ale_py import ALEInterface, LoggerMode, roms

    ALEInterface.setLoggerMode(LoggerMode.Error)
    ale = ALEInterface()
    ale.loadROM(str(roms.get_rom_path(check_game(game)[len(PREFIX):])))
    return len(ale.getMinimalActionSet())


class AtariVectorEnv:
    """`count` copies of one Atari game (`"atari:pong"`), reset automatically.

    `observe()` -> `[count, 84, 84, 4] uint8`; `step(actions [count])` -> `(clipped
    rewards [count] float32, dones [count] bool)`, a finished episode's raw score and
    its length in agent steps appended to `finished` as `(env_index, score, length)`.
    Each copy is seeded from `seed` (an int or a sequence of them) and its index
    `first + i` (a shard of a larger batch seeds its games as the whole batch would)."""

    frame_shape = (SIZE, SIZE, STACK)
    frame_dtype = np.uint8

    def __init__(self, game: str, count: int, seed, sticky_action_prob: float = 0.25,
                 first: int = 0):
        from ale_py import ALEInterface, LoggerMode, roms

        self.game = check_game(game)
        ALEInterface.setLoggerMode(LoggerMode.Error)
        rom = roms.get_rom_path(game[len(PREFIX):])
        self.envs = []
        for index in range(count):
            ale = ALEInterface()
            sequence = np.random.SeedSequence([*np.atleast_1d(seed), first + index])
            ale.setInt("random_seed", int(sequence.generate_state(1)[0] >> 1))
            ale.setFloat("repeat_action_probability", float(sticky_action_prob))
            ale.setInt("frame_skip", 1)
            ale.setInt("max_num_frames_per_episode", MAX_EMULATOR_FRAMES)
            ale.loadROM(str(rom))
            ale.reset_game()
            self.envs.append(ale)
        self.actions = list(self.envs[0].getMinimalActionSet())
        self.stack = np.zeros((count, SIZE, SIZE, STACK), np.uint8)
        self._screens = np.zeros((2, count, *SCREEN), np.uint8)
        first = np.stack([ale.getScreenGrayscale() for ale in self.envs])
        self.stack[:] = resize(first)[..., None]
        self.returns = np.zeros(count, np.float64)  # raw scores of the episodes under way
        self.lengths = np.zeros(count, np.int64)
        self.finished: list[tuple[int, float, int]] = []

    @property
    def num_actions(self) -> int:
        return len(self.actions)

    def observe(self) -> np.ndarray:
        return self.stack.copy()

    def step(self, actions) -> tuple[np.ndarray, np.ndarray]:
        count = len(self.envs)
        raw = np.zeros(count, np.float64)
        dones = np.zeros(count, bool)
        screens = self._screens
        for index, (ale, action) in enumerate(zip(self.envs, actions)):
            action = self.actions[int(action)]
            total = 0
            for repeat in range(FRAME_SKIP):
                total += ale.act(action)
                if repeat >= FRAME_SKIP - 2:
                    ale.getScreenGrayscale(screens[repeat - FRAME_SKIP + 2, index])
                if ale.game_over():
                    if repeat < FRAME_SKIP - 1:  # ended early: its last screen twice
                        ale.getScreenGrayscale(screens[1, index])
                        screens[0, index] = screens[1, index]
                    break
            raw[index], dones[index] = total, ale.game_over()
        frames = resize(np.maximum(screens[0], screens[1]))
        self.stack[:, :, :, :-1] = self.stack[:, :, :, 1:]
        self.stack[:, :, :, -1] = frames
        self.returns += raw
        self.lengths += 1
        for index in np.flatnonzero(dones):
            self.finished.append((int(index), float(self.returns[index]),
                                  int(self.lengths[index])))
            self.returns[index], self.lengths[index] = 0.0, 0
            ale = self.envs[index]
            ale.reset_game()
            self.stack[index] = resize(ale.getScreenGrayscale()[None])[0][..., None]
        return np.sign(raw).astype(np.float32), dones

    def state(self) -> np.ndarray:
        """Every game's emulator state with its generator, the frame stacks and the
        episodes under way, as bytes in a uint8 array (for a checkpoint)."""
        games = [ale.cloneState(include_rng=True) for ale in self.envs]
        return np.frombuffer(pickle.dumps((games, self.stack, self.returns, self.lengths)),
                             np.uint8)

    def load_state(self, blob: np.ndarray) -> None:
        saved = pickle.loads(np.asarray(blob).tobytes())
        if saved and isinstance(saved[0], str) and saved[0] == "ray":
            raise ValueError("the checkpoint was written by the Ray backend: resume it with "
                             "--backend=ray")
        games, self.stack, self.returns, self.lengths = saved
        for ale, game in zip(self.envs, games):
            ale.restoreState(game)
