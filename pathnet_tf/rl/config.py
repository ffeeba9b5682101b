"""The MinAtar transfer experiment's settings: one frozen dataclass, checked whole at
construction (one `ValueError` sentence naming the value), before anything runs.
`AtariConfig`: the same fields with real Atari's defaults (docs/atari.md).

Defaults: the paper's Atari layout (L = 4: three conv layers of M = 10 modules of 8
kernels, then a dense layer; N = 4; binary tournaments) scaled to 10×10 frames (3×3
kernels, stride 1), and the A2C settings of docs/minatar.md's sweep.
"""

from __future__ import annotations

import dataclasses
import pathlib

from pathnet_tf.core.checks import check_positive_ints
from pathnet_tf.core.shapes import COMPUTE_MODES
from pathnet_tf.rl.envs import check_game, family, frame_spec, num_actions
from pathnet_tf.runs.modes import MODES

RL_OPTIMIZERS = ("adam", "rmsprop")  # a2c.A2CLearner's update rules


def runnable_modes() -> list[str]:
    """The modes of the table the RL runner can run as their entry says: those without
    a trainer or hooks of their own (EWC's and SI's penalties, separate networks' and
    joint training's bookkeeping live in the supervised sequence runner only)."""
    return [name for name, mode in MODES.items() if mode.trainer is None and not mode.hooks]


@dataclasses.dataclass(frozen=True)
class MinAtarConfig:
    """game_a, game_b: MinAtar games (game_b == game_a: self-transfer). mode: a
    `modes.MODES` name. frames: environment steps per game, all workers together.
    conv_layers: (filters, kernel, stride) per conv layer of modules; then one dense
    layer of `units`-unit modules. num_modules (M), num_active (N). compute: "mask"
    (all M modules on the whole batch) or "gather" (each worker's N; `a2c.py`). num_workers (W),
    envs_per_worker, n_steps: a worker's rollout per update is n_steps × envs_per_worker
    frames. evolve_every: updates between tournaments; tournament_size (B);
    mutation_rate: default 1/(L·N); fitness_episodes: a worker's fitness is the mean
    return of its last this many episodes on its current path.

    Transfer switches (issue 25, docs/transfer.md; the defaults are the paper as this
    project reads it and leave every committed result unchanged): seed_fraction: the
    share of game B's workers whose pathway starts on game A's best path (0: none, 1:
    all; mutation can move them off). head_learning_rate: the learning rate of game B's
    policy and value heads (None: learning_rate). frozen_output_scale: factor on a
    frozen module's output where a layer sums its active modules (1: none).
    head_init_scale: factor on game B's freshly drawn policy-head kernel (1: as drawn,
    Glorot; 0.01: a near-uniform first policy, the usual actor-critic initialisation).
    mutation_rate_b: the mutation rate of game B's tournaments (None: mutation_rate),
    so game B can keep a seeded path without changing game A.

    layer_scale (issue 27): factor on every layer's sum of its active modules' outputs,
    both games (1: the paper's sum; 1/N: their mean; 1/M: the TF1 code's `sum / M`).
    Summed, N = 4 modules per layer double the activations' size at each of the L
    layers: on Pong at initialisation the features are ≈ 14× a DQN network's and the
    first policy is nearly deterministic per pathway (docs/atari.md).
    value_warmup_b: game B's first this many updates train the value loss only (the
    policy and entropy terms weighted 0), so that a fresh value head on game A's
    frozen features has a baseline before the policy learns from its advantages (0:
    none).
    heads_from_a: game B's policy and value heads start as copies of game A's (the
    games must have the same actions; False: freshly drawn, the paper's new readout).
    num_active_b: N of game B's pathways (None: num_active). Larger than num_active, a
    pathway seeded on game A's path holds it and num_active_b − num_active trainable
    modules more per layer (population modes only).

    overlap_updates: each update runs beside the next rollout (the games step while
    the network learns, in a second thread), so every rollout is
    played on the weights from before the last update (a lag of one update; off:
    A2C as published). The loop waits for both at each progress line and checkpoint,
    so a stopped run resumes exactly.

    optimizer: the update rule of both games, "adam" (this project's default) or
    "rmsprop", A3C's and the TF1 PathNet code's (`core.optimizers.MaskedRMSProp`: decay
    0.99, no momentum, its mean square starting at 1); rmsprop_epsilon: its epsilon,
    inside the square root (0.1: the TF1 code's `RMSP_EPSILON`; OpenAI Baselines' A2C
    uses 1e-5)."""

    game_a: str = "breakout"
    game_b: str = "space_invaders"
    mode: str = "pathnet"
    frames: int = 1_000_000
    conv_layers: tuple = ((8, 3, 1), (8, 3, 1), (8, 3, 1))
    units: int = 64
    num_modules: int = 10
    num_active: int = 4
    compute: str = "mask"
    num_workers: int = 16
    envs_per_worker: int = 4
    n_steps: int = 5
    discount: float = 0.99
    learning_rate: float = 0.001
    entropy_cost: float = 0.01
    value_cost: float = 0.5
    max_grad_norm: float = 0.5
    tournament_size: int = 2
    evolve_every: int = 20
    mutation_rate: float | None = None
    fitness_episodes: int = 5
    sticky_action_prob: float = 0.1
    seed: int = 0
    log_every: int = 50
    seed_fraction: float = 0.0
    head_learning_rate: float | None = None
    frozen_output_scale: float = 1.0
    head_init_scale: float = 1.0
    mutation_rate_b: float | None = None
    layer_scale: float = 1.0
    value_warmup_b: int = 0
    heads_from_a: bool = False
    num_active_b: int | None = None
    overlap_updates: bool = False
    optimizer: str = "adam"
    rmsprop_epsilon: float = 0.1

    def __post_init__(self):
        check_game(self.game_a)
        check_game(self.game_b)
        if family(self.game_a) != family(self.game_b):
            raise ValueError(f"game_a ({self.game_a!r}) and game_b ({self.game_b!r}) must "
                             "both be MinAtar games or both Atari games (one trunk, one "
                             "frame shape)")
        if self.mode not in runnable_modes():
            raise ValueError(f"mode ({self.mode!r}) must be one of {', '.join(runnable_modes())}"
                             " (the RL runner runs a mode's population or fixed path and its "
                             "step between games, not a mode's own trainer or hooks)")
        object.__setattr__(self, "conv_layers",
                           tuple(tuple(int(v) for v in layer) for layer in self.conv_layers))
        check_positive_ints(self, "frames", "units", "num_modules", "num_active",
                            "num_workers", "envs_per_worker", "n_steps", "tournament_size",
                            "evolve_every", "fitness_episodes", "log_every")
        for index, layer in enumerate(self.conv_layers):
            if len(layer) != 3 or min(layer) <= 0:
                raise ValueError(f"conv_layers[{index}] ({layer}) must be three positive "
                                 "integers (filters, kernel, stride)")
        if self.compute not in COMPUTE_MODES:
            raise ValueError(f"compute ({self.compute!r}) must be one of "
                             f"{', '.join(COMPUTE_MODES)}")
        if self.num_active > self.num_modules:
            raise ValueError(f"num_active ({self.num_active}) must be <= num_modules "
                             f"({self.num_modules})")
        if self.tournament_size < 2 or self.tournament_size > self.num_workers:
            raise ValueError(f"tournament_size ({self.tournament_size}) must be between 2 "
                             f"and num_workers ({self.num_workers})")
        if not 0.0 <= self.discount <= 1.0:
            raise ValueError(f"discount ({self.discount}) must be in [0, 1]")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate ({self.learning_rate}) must be > 0")
        for name in ("entropy_cost", "value_cost", "max_grad_norm"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} ({getattr(self, name)}) must be >= 0")
        if self.mutation_rate is not None and not 0.0 <= self.mutation_rate <= 1.0:
            raise ValueError(f"mutation_rate ({self.mutation_rate}) must be in [0, 1]")
        if not 0.0 <= self.sticky_action_prob <= 1.0:
            raise ValueError(f"sticky_action_prob ({self.sticky_action_prob}) must be in "
                             "[0, 1]")
        if not 0.0 <= self.seed_fraction <= 1.0:
            raise ValueError(f"seed_fraction ({self.seed_fraction}) must be in [0, 1]")
        if self.head_learning_rate is not None and not self.head_learning_rate > 0:
            raise ValueError(f"head_learning_rate ({self.head_learning_rate}) must be > 0")
        if not self.frozen_output_scale > 0:
            raise ValueError(f"frozen_output_scale ({self.frozen_output_scale}) must be > 0")
        if not self.head_init_scale > 0:
            raise ValueError(f"head_init_scale ({self.head_init_scale}) must be > 0")
        if self.value_warmup_b < 0:
            raise ValueError(f"value_warmup_b ({self.value_warmup_b}) must be >= 0")
        if not self.layer_scale > 0:
            raise ValueError(f"layer_scale ({self.layer_scale}) must be > 0")
        if self.optimizer not in RL_OPTIMIZERS:
            raise ValueError(f"optimizer ({self.optimizer!r}) must be one of "
                             f"{', '.join(RL_OPTIMIZERS)}")
        if not self.rmsprop_epsilon > 0:
            raise ValueError(f"rmsprop_epsilon ({self.rmsprop_epsilon}) must be > 0")
        mode = MODES[self.mode]
        if self.heads_from_a and not mode.train_earlier:
            raise ValueError(f"heads_from_a needs a mode that learns game A (mode "
                             f"{self.mode!r} learns game B only)")
        if self.heads_from_a:
            actions = num_actions(self.game_a), num_actions(self.game_b)
            if actions[0] != actions[1]:
                raise ValueError(f"heads_from_a needs games with the same actions "
                                 f"({self.game_a!r} has {actions[0]}, {self.game_b!r} "
                                 f"{actions[1]})")
        if self.num_active_b is not None:
            if not mode.population:
                raise ValueError(f"num_active_b ({self.num_active_b}) needs a population "
                                 f"mode (mode {self.mode!r} keeps one fixed path)")
            if not 1 <= self.num_active_b <= self.num_modules:
                raise ValueError(f"num_active_b ({self.num_active_b}) must be between 1 "
                                 f"and num_modules ({self.num_modules})")
            if self.seed_fraction > 0 and self.num_active_b < self.num_active:
                raise ValueError(f"num_active_b ({self.num_active_b}) must be >= "
                                 f"num_active ({self.num_active}) to seed game B's "
                                 "pathways on game A's path (seed_fraction > 0)")
        if self.mutation_rate_b is not None and not 0.0 <= self.mutation_rate_b <= 1.0:
            raise ValueError(f"mutation_rate_b ({self.mutation_rate_b}) must be in [0, 1]")
        size = self.frame_shape[0]
        for index, (_, kernel, stride) in enumerate(self.conv_layers):
            size = (size - kernel) // stride + 1
            if size < 1:
                raise ValueError(f"conv_layers[{index}] {self.conv_layers[index]} leaves "
                                 f"no output of a {self.frame_shape[0]}x"
                                 f"{self.frame_shape[1]} frame")

    @property
    def num_layers(self) -> int:
        """L: the conv layers of modules and the dense one."""
        return len(self.conv_layers) + 1

    def active_in(self, index: int) -> int:
        """N of game `index`'s pathways (0: game A, 1: game B)."""
        return self.num_active if index == 0 or self.num_active_b is None else self.num_active_b

    @property
    def frame_shape(self) -> tuple:
        """One frame of the games: `(10, 10, 10)` MinAtar, `(84, 84, 4)` Atari."""
        return frame_spec(self.game_a)[0]

    @property
    def frame_dtype(self):
        return frame_spec(self.game_a)[1]

    @property
    def frame_skip(self) -> int:
        """Emulator frames per agent step (Atari 4, MinAtar 1): what `frames` counts."""
        return frame_spec(self.game_a)[2]

    @property
    def frames_per_update(self) -> int:
        return self.num_workers * self.envs_per_worker * self.n_steps * self.frame_skip

    def to_dict(self) -> dict:
        values = dataclasses.asdict(self)
        values["conv_layers"] = [list(layer) for layer in self.conv_layers]
        return values


@dataclasses.dataclass(frozen=True)
class AtariConfig(MinAtarConfig):
    """The same experiment on real Atari (docs/atari.md): Pong -> Alien, the paper's
    network on 84×84×4 frames (L = 4: conv layers of M = 10 modules of 8 kernels,
    sizes 8, 4, 3, strides 4, 2, 1, then a dense layer of 256-unit modules as the TF1
    code has it, jsikyoon/pathnet `game_ac_network.py`; N = 4), Gymnasium v5's sticky
    actions (0.25). `frames` counts emulator frames (4 per agent step)."""

    game_a: str = "atari:pong"
    game_b: str = "atari:alien"
    frames: int = 10_000_000
    conv_layers: tuple = ((8, 8, 4), (8, 4, 2), (8, 3, 1))
    units: int = 256
    compute: str = "mask"
    num_workers: int = 16
    envs_per_worker: int = 2
    learning_rate: float = 0.0005
    sticky_action_prob: float = 0.25
    log_every: int = 100


# what a run may set differently from the run whose game A it starts from (`game_a_from`):
# game B's own settings, and what only acts while a game is learned
GAME_B_FIELDS = ("game_b", "seed", "frames", "log_every", "overlap_updates", "seed_fraction",
                 "head_learning_rate", "frozen_output_scale", "head_init_scale",
                 "mutation_rate_b", "value_warmup_b", "heads_from_a", "num_active_b")


def game_a_snapshot(source) -> pathlib.Path:
    """The file of a finished game A in `source`: a run's workdir (its
    `ckpt/game_a.npz`, written when its game A ends) or the file itself."""
    path = pathlib.Path(source)
    return path / "ckpt" / "game_a.npz" if path.is_dir() else path


# what `--widen_game_a` may also set differently from the run whose game A it takes
# (`runner.widen`)
WIDEN_FIELDS = ("num_modules", "mode", "compute")


def check_game_a_source(source, config, widen: bool = False) -> tuple[dict, dict]:
    """The finished game A in `source` (`game_a_snapshot`) as `(arrays, header)`, after
    checking that `config` may start from it: a mode that learns game A, and every
    setting but `GAME_B_FIELDS` as the source run had it (`widen`: `WIDEN_FIELDS` may
    differ too, with at least the source's modules per layer). One `ValueError`
    sentence otherwise."""
    from pathnet_tf.files import checkpoint

    path = game_a_snapshot(source)
    if not MODES[config.mode].train_earlier:
        raise ValueError(f"game_a_from needs a mode that learns game A (mode "
                         f"{config.mode!r} learns game B only)")
    if not path.is_file():
        raise ValueError(f"game_a_from ({str(source)!r}) holds no finished game A: no "
                         f"{str(path)!r} (a run writes it when its game A ends)")
    arrays, header = checkpoint.load(path)
    may_differ = GAME_B_FIELDS + (WIDEN_FIELDS if widen else ())
    differing = checkpoint.config_differences(header.get("config"), config, may_differ)
    if differing:
        which = "game B's and the widened ones" if widen else "game B's"
        raise ValueError(f"game_a_from ({str(source)!r}) learned game A with other settings "
                         f"(differing: {', '.join(differing)}); only {which} may differ: "
                         f"{', '.join(may_differ)}")
    if widen and header["config"]["num_modules"] > config.num_modules:
        raise ValueError(f"num_modules ({config.num_modules}) must be at least the "
                         f"{header['config']['num_modules']} modules per layer of "
                         f"game_a_from ({str(source)!r}) to widen it")
    return arrays, header


def parse_changes(text: str) -> dict:
    """`"num_workers=8,envs_per_worker=8"` -> `{"num_workers": 8, ...}`: changes of
    `MinAtarConfig` fields, each value converted to its field's type (`"default"` or
    an empty text: no change). For sweeps (`benchmarks/sweep_minatar.py`)."""
    text = text.strip()
    if text in ("", "default"):
        return {}
    defaults = MinAtarConfig()
    types = {field.name: field.type for field in dataclasses.fields(MinAtarConfig)}
    changes = {}
    for item in text.split(","):
        name, _, value = item.partition("=")
        name = name.strip()
        default = getattr(defaults, name, None)
        if name not in types or not value or isinstance(default, tuple):
            raise ValueError(f"point item ({item!r}) must be field=value of a number or "
                             f"name field: {', '.join(types)}")
        changes[name] = _convert(name, types[name], default, value.strip(), item)
    return changes


def _convert(name: str, annotation: str, default, value: str, item: str):
    """`value` as the type of the field `name` (annotated `annotation`, as text under
    `from __future__ import annotations`; its default `default`)."""
    if isinstance(default, bool):
        if value.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"point item ({item!r}) must be {name}=true or {name}=false")
        return value.lower() in ("true", "1")
    if default is None:  # optional fields, `int | None` or `float | None`
        return int(value) if annotation.startswith("int") else float(value)
    return type(default)(value)
