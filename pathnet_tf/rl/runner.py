"""One game's learning (`GameRun`) and the A -> B transfer (`run_transfer`), with
checkpoints, TensorBoard, a progress line and results.json.

A `GameRun` owns the game's environments (W·E of them), its heads and optimizer
(`A2CLearner`), the workers' pathways (`WorkerPaths`) and a generator for actions
and tournaments. It learns for `config.frames` frames: each update is a rollout of
`n_steps` steps in every environment (actions drawn from the current policy), one
compiled A2C update, and every `evolve_every` updates a round of tournaments.

`run_transfer` is what `modes.MODES[config.mode]` says: PathNet learns game A with
an evolving population, freezes its best worker's pathway, re-initialises every
other module and learns game B with new heads and a fresh population; the controls
use one fixed path drawn from the seed for every worker (`independent`: game B
only, from scratch; `finetune`: game A, then game B on the same weights). Every mode
spends the same `frames` on game B.

Everything a run needs to continue is `Transfer.state()`; kill + resume gives the
same results as an uninterrupted run (timings aside).

Transfer (issue 25, docs/transfer.md): a game whose workers evolve on frozen modules
(PathNet's game B) keeps a `reuse.ReuseLog` with game A's best path as reference,
recorded after every round of tournaments (entry i of each series: round i + 1, after
update (i + 1) · evolve_every; `winner_frozen`: the mean over the round's winners,
None when no group played) into its results' `reuse` entry, TensorBoard
(`B_<game>/reuse/...`) and checkpoints. `config.seed_fraction` puts that share of
its workers on game A's path at the start; `head_init_scale` scales game B's fresh
policy head, `heads_from_a` copies game A's heads into game B's, `num_active_b` is
N of game B's pathways, `mutation_rate_b` is game B's mutation rate;
`head_learning_rate` and `frozen_output_scale` act in `a2c.py`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import pathlib
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import tensorflow as tf

from pathnet_tf.evolution.genetic import overlap, random_genotype
from pathnet_tf.evolution.reuse import ReuseLog
from pathnet_tf.files import checkpoint
from pathnet_tf.files.atomic_io import write_json
from pathnet_tf.files.workdir import RunTerminated, held_until_sigterm, prepare_workdir
from pathnet_tf.rl import envs as environments
from pathnet_tf.rl.a2c import A2CLearner, build_model, sample_actions
from pathnet_tf.rl.config import WIDEN_FIELDS, check_game_a_source, game_a_snapshot
from pathnet_tf.rl.evolution import WorkerPaths
from pathnet_tf.rl.ray_envs import environment_factory
from pathnet_tf.runs import modes
from pathnet_tf.runs.run import load_checkpoint, load_variables, variable_state
from pathnet_tf.runs.summaries import TENSORBOARD_LEVELS, grid_image

SCHEMA_VERSION = 1
WINDOW = 100  # episodes in the moving average of returns


class GameRun:
    """One game learned on `model` from `index` (0: game A, 1: game B) of the run."""

    def __init__(self, model, config, game: str, index: int, fixed_path=None,
                 jit_compile: bool = False, make_envs: Callable | None = None,
                 reference_path=None):
        self.model, self.config, self.game, self.index = model, config, game, index
        self.label = "AB"[index]
        w, e = config.num_workers, config.envs_per_worker
        self.envs = (make_envs or environments.make)(
            game, w * e, seed=(config.seed, index),
            sticky_action_prob=config.sticky_action_prob)
        self.rng = np.random.default_rng([config.seed, index, 1])
        num_active = config.active_in(index)
        self.learner = A2CLearner(model, config, self.envs.num_actions, jit_compile,
                                  head_learning_rate=(config.head_learning_rate
                                                      if index > 0 else None),
                                  value_warmup=index > 0 and config.value_warmup_b > 0,
                                  num_active=num_active)
        if index > 0 and config.head_init_scale != 1.0:  # game B's policy starts near uniform
            head = model.readouts[self.learner.policy_head]
            head.kernel.assign(head.kernel * config.head_init_scale)
        if index > 0 and config.heads_from_a:  # game A's heads, added just before these two
            for head in (self.learner.policy_head, self.learner.value_head):
                for mine, theirs in zip(model.readouts[head].weights,
                                        model.readouts[head - 2].weights):
                    mine.assign(theirs)
        mutation_rate = (config.mutation_rate_b if index > 0 and config.mutation_rate_b
                         is not None else config.mutation_rate)
        self.workers = WorkerPaths(self.rng, w, config.num_layers, config.num_modules,
                                   num_active, config.tournament_size,
                                   mutation_rate, config.fitness_episodes, fixed_path)
        frozen = model.frozen.numpy() > 0.5
        self.reuse = None  # workers evolving on top of frozen modules: their reuse, logged
        if self.workers.evolving and frozen.any():
            self.reuse = ReuseLog(frozen, reference_path, config.num_modules)
            if reference_path is not None and config.seed_fraction > 0:
                self.reuse.seeded = self.workers.seed(reference_path, config.seed_fraction)
        self.total_updates = math.ceil(config.frames / config.frames_per_update)
        self.updates = 0
        self.episodes: list[list] = []  # [frames when it ended, worker, return, length]
        self.curve: list[list] = []  # [frames, moving average of returns, episodes]
        self.wall_seconds = 0.0

    @property
    def prefix(self) -> str:
        return f"{self.label}_{self.game}"

    @property
    def frames(self) -> int:
        return self.updates * self.config.frames_per_update

    @property
    def done(self) -> bool:
        return self.updates >= self.total_updates

    def moving_average(self) -> float | None:
        returns = [episode[2] for episode in self.episodes[-WINDOW:]]
        return float(np.mean(returns)) if returns else None

    # -- learning --------------------------------------------------------------------

    def rollout(self, ahead: int = 0):
        """`n_steps` steps of every environment under the workers' current policies:
        time-major `(frames [T+1, W, E, *frame], actions, rewards, dones [T, W, E],
        paths [W, L, N])`. `ahead`: updates not yet counted that come before this
        rollout's (1 when it runs beside an update, `overlap_updates`), for the frame
        counts its episodes are recorded at."""
        config = self.config
        w, e, t = config.num_workers, config.envs_per_worker, config.n_steps
        shape = config.frame_shape
        frames = np.empty((t + 1, w, e, *shape), config.frame_dtype)
        actions = np.empty((t, w, e), np.int32)
        rewards = np.empty((t, w, e), np.float32)
        dones = np.empty((t, w, e), np.float32)
        paths = self.workers.paths.copy()
        start = self.frames + ahead * config.frames_per_update
        frames[0] = self.envs.observe().reshape(w, e, *shape)
        for step in range(t):
            logits, _ = self.learner.act(frames[step], paths)
            actions[step] = sample_actions(logits.numpy(), self.rng)
            reward, done = self.envs.step(actions[step].reshape(-1))
            rewards[step], dones[step] = reward.reshape(w, e), done.reshape(w, e)
            frames[step + 1] = self.envs.observe().reshape(w, e, *shape)
            now = start + (step + 1) * w * e * config.frame_skip
            for env_index, episode_return, length in self.envs.finished:
                worker = env_index // e
                self.workers.record(worker, episode_return)
                self.episodes.append([now, worker, episode_return, length])
            self.envs.finished.clear()
        return frames, actions, rewards, dones, paths

    def _learn(self, batch):
        """One update of the learner on `batch` (a `rollout`); its losses, a NumPy row."""
        if self.learner.value_warmup:
            self.learner.policy_weight.assign(
                0.0 if self.updates < self.config.value_warmup_b else 1.0)
        return self.learner.update(*batch).numpy()

    def _pause_after(self, updates: int, checkpoint_every: int) -> bool:
        """Whether the loop stops overlapping after update number `updates`: at a
        progress line, a checkpoint and the game's end (`overlap_updates`), so what
        is logged, saved or stopped has no rollout in flight."""
        config = self.config
        return (updates % config.log_every == 0 or updates >= self.total_updates
                or bool(checkpoint_every and updates % checkpoint_every == 0))

    def train(self, writer, log: Callable[[str], None], checkpoint_every: int = 0,
              on_checkpoint: Callable | None = None, stop: Callable[[], bool] | None = None,
              images: bool = True) -> None:
        """Learns until the game's frames are spent or `stop()` says so."""
        config = self.config
        interval = [time.perf_counter(), self.frames, len(self.episodes)]
        started = time.perf_counter() - self.wall_seconds
        overlap = config.overlap_updates
        if overlap:
            self.learner.sync()
        pending = None  # overlap_updates: the rollout played beside the last update
        while not self.done:
            batch = pending if pending is not None else self.rollout()
            pending = None
            if overlap and not self._pause_after(self.updates + 1, checkpoint_every):
                with ThreadPoolExecutor(max_workers=1) as pool:  # the update beside the
                    learned = pool.submit(self._learn, batch)  # next rollout; TF lets go
                    pending = self.rollout(ahead=1)            # of the GIL while it runs
                    losses = learned.result()
            else:
                losses = self._learn(batch)
            if overlap:
                self.learner.sync()
            self.updates += 1
            if self.workers.evolving and self.updates % config.evolve_every == 0:
                events = self.workers.tournaments()
                if self.reuse is not None:
                    self._record_reuse(writer, events)
            if self.updates % config.log_every == 0 or self.done:
                self.wall_seconds = time.perf_counter() - started
                self._log(writer, log, losses, interval, images)
            if pending is not None:  # mid-overlap: nothing to save or stop at
                continue
            if on_checkpoint is not None and checkpoint_every and (
                    self.updates % checkpoint_every == 0) and not self.done:
                self.wall_seconds = time.perf_counter() - started
                on_checkpoint()
            if stop is not None and stop() and not self.done:
                self.wall_seconds = time.perf_counter() - started
                return
        self.wall_seconds = time.perf_counter() - started

    def _record_reuse(self, writer, events: list[dict]) -> None:
        """The round's reuse diagnostics (`reuse.ReuseLog.record_round`) into
        `self.reuse` and, as scalars `<prefix>/reuse/<name>` at the frame count, to
        TensorBoard."""
        round_ = self.updates // self.config.evolve_every
        winners = self.workers.paths[[event["winner"] for event in events]]
        values = self.reuse.record_round(round_, winners, self.workers.paths)
        if writer is None:
            return
        with writer.as_default(step=self.frames):
            for name, value in values.items():
                if value is not None:
                    tf.summary.scalar(f"{self.prefix}/reuse/{name}", value)

    def _log(self, writer, log, losses, interval, images: bool) -> None:
        now = time.perf_counter()
        rate = (self.frames - interval[1]) / max(now - interval[0], 1e-9)
        new_episodes = self.episodes[interval[2]:]
        interval[:] = [now, self.frames, len(self.episodes)]
        average = self.moving_average()
        self.curve.append([self.frames, average, len(self.episodes)])
        shown = "n/a" if average is None else f"{average:.2f}"
        log(f"game {self.label} ({self.game}): frames {self.frames}/"
            f"{self.total_updates * self.config.frames_per_update}, {rate:.0f} frames/s, "
            f"mean return (last {WINDOW} episodes) {shown}, episodes {len(self.episodes)}, "
            f"tournaments {self.workers.tournaments_held}"
            + (f", workers on game A's path {self.reuse.holding[-1]}/{self.config.num_workers}"
               if self.reuse is not None and self.reuse.holding else ""))
        if writer is None:
            return
        with writer.as_default(step=self.frames):
            for worker in range(self.config.num_workers):
                returns = [e[2] for e in new_episodes if e[1] == worker]
                if returns:
                    tf.summary.scalar(f"{self.prefix}/return/worker_{worker:02d}",
                                      float(np.mean(returns)))
            if average is not None:
                tf.summary.scalar(f"{self.prefix}/return/moving_average", average)
            tf.summary.scalar(f"{self.prefix}/frames_per_second", rate)
            for name, value in zip(("total", "policy", "value", "entropy", "grad_norm"),
                                   losses):
                tf.summary.scalar(f"{self.prefix}/loss/{name}", float(value))
            if images:
                frozen = tf.convert_to_tensor(self.model.frozen)
                _, best = self.workers.best()
                usage = self.workers.module_usage().astype(np.float32)
                best_mask = np.zeros_like(usage)
                np.put_along_axis(best_mask, best, 1.0, axis=1)
                tf.summary.image(f"{self.prefix}/best_path", grid_image(best_mask, frozen))
                tf.summary.image(f"{self.prefix}/module_usage", grid_image(usage, frozen))
        writer.flush()

    # -- results and state -----------------------------------------------------------

    def results(self) -> dict:
        worker, best = self.workers.best()
        returns = [episode[2] for episode in self.episodes]
        return {
            "game": self.game, "label": self.label, "frames": self.frames,
            "updates": self.updates, "episodes": len(self.episodes),
            "mean_return_last_100": self.moving_average(),
            "best_path": best.tolist(), "best_worker": worker,
            "best_fitness": float(np.nan_to_num(self.workers.fitness()[worker], nan=0.0)),
            "tournaments": self.workers.tournaments_held, "path_copies": self.workers.copies,
            "curve": self.curve,
            "reuse": None if self.reuse is None else self.reuse.results(),
            "episode_frames": [episode[0] for episode in self.episodes],
            "episode_returns": returns,
            "wall_seconds": self.wall_seconds,
        }

    def state(self) -> tuple[dict, dict]:
        arrays = {f"learner/{name}": value for name, value in self.learner.state().items()}
        worker_arrays, worker_header = self.workers.state()
        arrays.update({f"workers/{name}": value for name, value in worker_arrays.items()})
        arrays["envs"] = self.envs.state()
        header = {"updates": self.updates, "episodes": self.episodes, "curve": self.curve,
                  "wall_seconds": self.wall_seconds, "workers": worker_header,
                  "rng": self.rng.bit_generator.state,
                  "reuse": None if self.reuse is None else self.reuse.state()}
        return arrays, header

    def load_state(self, arrays: dict, header: dict) -> None:
        self.learner.load_state({name[len("learner/"):]: value for name, value in
                                 arrays.items() if name.startswith("learner/")})
        self.workers.load_state({name[len("workers/"):]: value for name, value in
                                 arrays.items() if name.startswith("workers/")},
                                header["workers"])
        self.envs.load_state(arrays["envs"])
        self.updates, self.episodes = header["updates"], header["episodes"]
        self.curve, self.wall_seconds = header["curve"], header["wall_seconds"]
        self.rng.bit_generator.state = header["rng"]
        self.reuse = (None if header.get("reuse") is None
                      else ReuseLog.from_state(header["reuse"], self.config.num_modules))


class Transfer:
    """The run's whole state: the model, the phase (0: game A, 1: game B, 2: done),
    the finished games' results and the current `GameRun`."""

    def __init__(self, config, jit_compile: bool = False, make_envs: Callable | None = None):
        self.config, self.jit_compile, self.make_envs = config, jit_compile, make_envs
        self.mode = modes.get(config.mode)
        self.games = (config.game_a, config.game_b)
        self.fixed_path = (None if self.mode.population else random_genotype(
            np.random.default_rng([config.seed, 2]), config.num_layers, config.num_modules,
            config.num_active))
        keras.utils.set_random_seed(config.seed)
        self.model = build_model(config)
        self.phase = 0 if self.mode.train_earlier else 1
        self.finished: list[dict | None] = [None, None]
        self.current: GameRun | None = None
        self.elapsed = 0.0
        self.game_a_from: str | None = None  # the snapshot game A came from, if another run's
        self.widened_from: dict | None = None  # what it was before `--widen_game_a`, if widened

    def start_game(self) -> GameRun:
        """The current phase's `GameRun`; after game A, its best path is the reference
        of the reuse diagnostics and of `seed_fraction`."""
        reference = (None if self.phase == 0 or self.finished[0] is None
                     else np.asarray(self.finished[0]["best_path"], np.int32))
        self.current = GameRun(self.model, self.config, self.games[self.phase], self.phase,
                               self.fixed_path, self.jit_compile, self.make_envs,
                               reference_path=reference)
        return self.current

    def close(self) -> None:
        """Ends the current game's environments if they hold processes (Ray actors)."""
        if self.current is not None and hasattr(self.current.envs, "close"):
            self.current.envs.close()

    def finish_game(self) -> None:
        run = self.current
        self.close()
        self.finished[self.phase] = run.results()
        if self.phase == 0:
            self.mode.between(self.model, np.asarray(self.finished[0]["best_path"]))
        self.current = None
        self.phase += 1

    def state(self) -> tuple[dict, dict]:
        arrays, names = variable_state(self.model.variables)
        header = {"config": self.config.to_dict(), "phase": self.phase, "variables": names,
                  "finished": self.finished, "elapsed": self.elapsed}
        if self.game_a_from is not None:
            header["game_a_from"] = self.game_a_from
        if self.widened_from is not None:
            header["widened_from"] = self.widened_from
        if self.current is not None:
            game_arrays, game_header = self.current.state()
            arrays.update({f"game/{name}": value for name, value in game_arrays.items()})
            header["game"] = game_header
        return arrays, header

    def load_state(self, arrays: dict, header: dict, path) -> None:
        self.phase, self.finished = header["phase"], header["finished"]
        self.elapsed = header["elapsed"]
        self.game_a_from = header.get("game_a_from")
        self.widened_from = header.get("widened_from")
        self.add_finished_heads()  # their weights loaded below
        if self.phase < 2 and "game" in header:
            self.start_game()
        load_variables(self.model.variables, arrays, header, path)
        if self.current is not None:
            self.current.load_state({name[len("game/"):]: value for name, value in
                                     arrays.items() if name.startswith("game/")},
                                    header["game"])

    def add_finished_heads(self) -> None:
        """Each finished game's policy and value heads, fresh, onto the model (whose
        weights a checkpoint then assigns)."""
        for index in range(self.phase):
            if self.finished[index] is not None:
                self.model.add_task(environments.num_actions(self.games[index]))
                self.model.add_task(1)

    def results(self) -> dict:
        results = {"schema_version": SCHEMA_VERSION, "config": self.config.to_dict(),
                   "mode": self.config.mode, "games": list(self.games),
                   "game_a": self.finished[0], "game_b": self.finished[1],
                   "wall_seconds": self.elapsed}
        if self.game_a_from is not None:
            results["game_a_from"] = self.game_a_from
        if self.widened_from is not None:
            results["widened_from"] = self.widened_from
        a, b = self.finished
        if self.mode.population and a is not None and b is not None:
            results["overlap"] = overlap(np.asarray(a["best_path"]), np.asarray(b["best_path"]),
                                         self.config.num_modules)
        return results


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


def widen(arrays: dict, header: dict, source, config) -> tuple[dict, dict]:
    """`--widen_game_a`: the snapshot `(arrays, header)` of a finished game A (from
    `source`, for messages) as a finished game A of `config`'s PathNet with as many or
    more modules per layer, `(arrays, header)` as `Transfer.load_state` takes them.

    A network trained as one fixed path of M_s modules per layer (M_s = 1: a plain
    network, as `--mode=finetune --num_modules=1` learns it) is a game A whose best
    path uses only the first M_s modules of each layer. Its modules become modules
    0..M_s-1 of each layer here (its heads and frozen flags move along); then
    `config`'s mode ends game A as it ends its own (`modes.Mode.between`; PathNet:
    game A's path frozen, every other module re-initialised), and game B evolves on
    top. `header["widened_from"]` names the source and its M, mode and compute (the
    run's checkpoints and results.json carry it on). results/atari/README.md, part 10:
    PathNet's game B on a Pong path that PathNet's own narrow modules do not learn.
    `check_game_a_source(source, config, widen=True)` has checked the pair."""
    saved = header["config"]
    narrow = dataclasses.replace(config, **{name: saved.get(name, getattr(config, name))
                                            for name in WIDEN_FIELDS})
    small = Transfer(narrow)
    small.load_state(arrays, header, source)
    wide = Transfer(config)
    wide.phase, wide.finished = 1, copy.deepcopy(small.finished)
    wide.elapsed = small.elapsed
    wide.add_finished_heads()  # game A's, assigned the source's values below
    for little, big in zip(small.model.variables, wide.model.variables):
        big.assign(_grow(little.numpy(), big.numpy()))
    best_path = np.asarray(small.finished[0]["best_path"], np.int32)
    modes.get(config.mode).between(wide.model, best_path)
    wide.widened_from = {"snapshot": str(source), **{name: getattr(narrow, name)
                                                     for name in WIDEN_FIELDS}}
    return wide.state()


def run_transfer(config, workdir, log: Callable[[str], None] = print, resume: bool = True,
                 checkpoint_every: int = 100, tensorboard: str = "full",
                 jit_compile: bool = False, backend: str = "local",
                 ray_actors: int = 2, stop: Callable[[], bool] | None = None,
                 game_a_from=None, widen_game_a: bool = False) -> dict:
    """Learns game A then game B as `config.mode` says; writes `config.json`,
    `results.json`, TensorBoard events under `tb/` and a checkpoint every
    `checkpoint_every` updates under `ckpt/` into `workdir`, and returns the results.
    With `resume`, a checkpoint of the same config in `workdir` is continued from.
    SIGTERM writes a checkpoint and raises `RunTerminated`. `backend`: "local" (the
    games in this process) or "ray" (on `ray_actors` Ray actors, `ray_envs.py`; the
    same results). `stop`: a function asked at every update, True ends the run as
    SIGTERM does (tests stop a run at a chosen update with it).

    When game A ends, the run's state is also written to `ckpt/game_a.npz`.
    `game_a_from`: another run's workdir (or that file): this run takes its finished
    game A (weights, frozen path, heads, results) and learns only game B, with its own
    game-B settings (`config.GAME_B_FIELDS`; every other setting must be the source's).
    Game B is then drawn from this run's seed after loading, so it is not the source
    run's own game B, even at the same settings. `widen_game_a`: the source may have
    fewer modules per layer, another mode or compute; its game A is moved into this
    run's PathNet first (`widen`)."""
    if tensorboard not in TENSORBOARD_LEVELS:
        raise ValueError(f"tensorboard ({tensorboard!r}) must be one of "
                         f"{', '.join(TENSORBOARD_LEVELS)}")
    make_envs = environment_factory(backend, ray_actors)
    snapshot = None
    if game_a_from is not None:
        source = game_a_snapshot(game_a_from)
        if source.resolve().parent.parent == pathlib.Path(workdir).resolve():
            raise ValueError(f"game_a_from ({str(game_a_from)!r}) must be another run's "
                             "workdir: this run starts afresh in its own")
        arrays, header = check_game_a_source(game_a_from, config, widen_game_a)
        if widen_game_a:
            arrays, header = widen(arrays, header, source, config)
        snapshot = (source, arrays, header)
    workdir = prepare_workdir(workdir)
    with held_until_sigterm(workdir) as sigterm:
        should_stop = sigterm if stop is None else (lambda: sigterm() or stop())
        if resume:
            loaded = load_checkpoint(workdir / "ckpt" / "checkpoint.npz", config)
            if loaded is not None and loaded[1]["phase"] == "done":
                log(f"run in {workdir} is already complete; results in "
                    f"{workdir / 'results.json'}")
                return json.loads((workdir / "results.json").read_text())
        else:
            loaded = None
        transfer = Transfer(config, jit_compile, make_envs)
        try:
            return _run(transfer, workdir, loaded, log, checkpoint_every, tensorboard,
                        should_stop, snapshot)
        finally:
            transfer.close()


def _run(transfer: Transfer, workdir: pathlib.Path, loaded, log: Callable[[str], None],
         checkpoint_every: int, tensorboard: str, stop: Callable[[], bool],
         snapshot=None) -> dict:
    """The body of `run_transfer` on a fresh `transfer`, `loaded` its checkpoint or None,
    `snapshot` another run's finished game A `(path, arrays, header)` or None."""
    config = transfer.config
    path = workdir / "ckpt" / "checkpoint.npz"
    start = time.perf_counter()
    if loaded is None:
        shutil.rmtree(workdir / "tb", ignore_errors=True)
        shutil.rmtree(workdir / "ckpt", ignore_errors=True)
        (workdir / "results.json").unlink(missing_ok=True)
        write_json(workdir / "config.json", config.to_dict())
        if snapshot is not None:
            source, arrays, header = snapshot
            transfer.load_state(arrays, header, source)
            transfer.elapsed, transfer.game_a_from = 0.0, str(source)
            a = transfer.finished[0]
            if not transfer.mode.population:  # fine-tune goes on along game A's path,
                transfer.fixed_path = np.asarray(a["best_path"], np.int32)  # whatever seed
            log(f"game A from {source}: {a['game']}, {a['frames']} frames, mean return "
                f"(last {WINDOW} episodes) {a['mean_return_last_100']}")
    else:
        transfer.load_state(*loaded, path)
        where = ("" if transfer.current is None else
                 f"game {transfer.current.label}, frame {transfer.current.frames}")
        log(f"resuming from {path}: {where}")
    start -= transfer.elapsed
    writer = (None if tensorboard == "none" else
              tf.summary.create_file_writer(str(workdir / "tb")))

    def save():
        transfer.elapsed = time.perf_counter() - start
        checkpoint.save(path, *transfer.state())

    try:
        while transfer.phase < 2:
            run = transfer.current or transfer.start_game()
            run.train(writer, log, checkpoint_every, save, stop, images=tensorboard == "full")
            if not run.done:
                save()
                raise RunTerminated(
                    f"terminated (SIGTERM) in game {run.label} at frame {run.frames}; "
                    f"checkpoint in {path}: rerun to resume")
            transfer.finish_game()
            if transfer.phase == 1:  # game A just ended: what game_a_from starts from
                transfer.elapsed = time.perf_counter() - start
                checkpoint.save(workdir / "ckpt" / "game_a.npz", *transfer.state())
        transfer.elapsed = time.perf_counter() - start
        results = transfer.results()
    finally:
        if writer is not None:
            writer.close()
    write_json(workdir / "results.json", results)
    checkpoint.save(path, {}, {"config": config.to_dict(), "phase": "done"})
    b = results["game_b"]
    log(f"done in {results['wall_seconds']:.0f} s: game B ({b['game']}) mean return (last "
        f"{WINDOW} episodes) {b['mean_return_last_100']}; results in "
        f"{workdir / 'results.json'}")
    return results
