"""The runner's games on Ray actors (`--backend=ray`): the same interface as
`envs.VectorEnv` / `atari.AtariVectorEnv`, with the W·E games split into `actors`
contiguous shards, each shard a Ray actor that owns its games (a worker's E games
sit together unless a shard boundary falls inside them, which changes nothing).
Ray is an optional extra (requirements-ray.txt).

The design is central inference (as SEED RL, Espeholt et al. 2020): the learner
process keeps the one network, computes every worker's actions in one batched call
as in the local backend, and sends each actor its games' actions; the actors step
their games in parallel and send back frames, clipped rewards, ends and finished
episodes. Every shard seeds its games as the whole batch would (`first`), so a Ray
run gives the same results.json as a local one (tested). On a cluster, set
`RAY_ADDRESS` (as Ray users expect; `ray.init()` reads it) and raise `--ray_actors`:
the emulators spread over the machines, the network stays with the learner.

Checkpoints hold every shard's state (`state()`); a run resumes on the backend that
wrote it.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import pickle
from collections.abc import Callable

import numpy as np

from pathnet_tf.core.checks import check_positive_int


class _Shard:
    """One actor's games: `envs.make(...)` for games `first`..`first + count - 1`."""

    def __init__(self, game, count, seed, sticky_action_prob, first):
        from pathnet_tf.rl import envs

        self.envs = envs.make(game, count, seed, sticky_action_prob, first)

    def num_actions(self) -> int:
        return self.envs.num_actions

    def observe(self):
        return self.envs.observe()

    def step(self, actions):
        rewards, dones = self.envs.step(actions)
        finished = list(self.envs.finished)
        self.envs.finished.clear()
        return rewards, dones, self.envs.observe(), finished

    def state(self):
        return self.envs.state()

    def load_state(self, blob) -> None:
        self.envs.load_state(blob)


def start_ray(num_cpus: int | None = None) -> None:
    """`ray.init()` unless Ray runs already: `RAY_ADDRESS` (a cluster) if set, else a
    local Ray on this machine; the workers find this repository's package. Ray's
    SIGTERM handler (exit at once) is replaced by the one in place before (the
    runner's: checkpoint, then exit), and Python's `random` gets back the state it
    had: `ray.init` draws from it, and Keras seeds the weights it draws later from it,
    so a run that starts Ray would otherwise begin from other weights than a local one."""
    import random
    import signal
    import threading

    import ray

    if ray.is_initialized():
        return
    random_state = random.getstate()
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    repository = str(pathlib.Path(__file__).resolve().parents[2])
    python_path = os.pathsep.join(p for p in (repository, os.environ.get("PYTHONPATH")) if p)
    options = {} if os.environ.get("RAY_ADDRESS") else {"num_cpus": num_cpus}
    ray.init(include_dashboard=False, log_to_driver=False, **options,
             runtime_env={"env_vars": {"PYTHONPATH": python_path,
                                       "TF_CPP_MIN_LOG_LEVEL": "2"}})
    if main and previous is not None:
        signal.signal(signal.SIGTERM, previous)
    random.setstate(random_state)


class RayVectorEnv:
    """`count` copies of `game` on `actors` Ray actors (shards of consecutive games)."""

    def __init__(self, game: str, count: int, seed, sticky_action_prob: float,
                 actors: int = 2):
        import ray

        from pathnet_tf.rl.envs import frame_spec

        if actors < 1 or actors > count:
            raise ValueError(f"ray_actors ({actors}) must be between 1 and the number of "
                             f"games ({count})")
        start_ray(num_cpus=max(os.cpu_count() or 1, actors))
        self.frame_shape, self.frame_dtype, _ = frame_spec(game)
        bounds = np.linspace(0, count, actors + 1).round().astype(int)
        self.bounds = list(zip(bounds[:-1], bounds[1:]))
        remote = ray.remote(num_cpus=1)(_Shard)
        self.shards = [remote.remote(game, int(hi - lo), seed, sticky_action_prob, int(lo))
                       for lo, hi in self.bounds]
        self.num_actions = ray.get(self.shards[0].num_actions.remote())
        self._frames = np.concatenate(ray.get([s.observe.remote() for s in self.shards]))
        self.finished: list[tuple[int, float, int]] = []

    def observe(self) -> np.ndarray:
        return self._frames.copy()

    def step(self, actions) -> tuple[np.ndarray, np.ndarray]:
        import ray

        actions = np.asarray(actions)
        replies = ray.get([shard.step.remote(actions[lo:hi])
                           for shard, (lo, hi) in zip(self.shards, self.bounds)])
        for (lo, _), (_, _, _, finished) in zip(self.bounds, replies):
            self.finished += [(lo + index, score, length) for index, score, length in finished]
        self._frames = np.concatenate([reply[2] for reply in replies])
        return (np.concatenate([reply[0] for reply in replies]),
                np.concatenate([reply[1] for reply in replies]))

    def state(self) -> np.ndarray:
        import ray

        blobs = ray.get([shard.state.remote() for shard in self.shards])
        return np.frombuffer(pickle.dumps(("ray", self.bounds, blobs, self._frames)),
                             np.uint8)

    def load_state(self, blob: np.ndarray) -> None:
        import ray

        saved = pickle.loads(np.asarray(blob).tobytes())
        if len(saved) != 4 or not isinstance(saved[0], str) or saved[0] != "ray":
            raise ValueError("the checkpoint was written by the local backend: resume it "
                             "with --backend=local")
        _, bounds, blobs, self._frames = saved
        if [tuple(map(int, b)) for b in bounds] != [tuple(map(int, b)) for b in self.bounds]:
            raise ValueError(f"the checkpoint's games were split over {len(bounds)} Ray "
                             f"actors, this run has {len(self.bounds)}: use --ray_actors="
                             f"{len(bounds)}")
        ray.get([shard.load_state.remote(b) for shard, b in zip(self.shards, blobs)])

    def close(self) -> None:
        import ray

        for shard in self.shards:
            ray.kill(shard)


def environment_factory(backend: str = "local", ray_actors: int = 2) -> Callable | None:
    """How a run makes its games: `None` (this process: `envs.make`) for "local";
    for "ray", `ray_actors` Ray actors holding shards of them (`ray_envs.py`)."""
    if backend == "local":
        return None
    if backend != "ray":
        raise ValueError(f"backend ({backend!r}) must be one of local, ray")
    check_positive_int("ray_actors", ray_actors)
    if importlib.util.find_spec("ray") is None:
        raise ValueError("backend 'ray' needs Ray: pip install -r requirements-ray.txt")

    def make(game, count, seed, sticky_action_prob):
        return RayVectorEnv(game, count, seed, sticky_action_prob, min(ray_actors, count))

    return make
