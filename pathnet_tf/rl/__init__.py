"""Reinforcement learning with PathNet on MinAtar (Young & Tian 2019) and real Atari.

`envs` (batches of MinAtar games, frames padded to 10 channels; `make` for either
family), `atari` (real Atari games through ale-py, docs/atari.md), `ray_envs` (the
games on Ray actors, `--backend=ray`), `config` (one frozen
dataclass, checked before anything runs), `a2c` (the compiled synchronous
advantage actor-critic step of all workers at once), `evolution` (binary tournaments
between workers' pathways), `runner` (one game's learning, the A -> B transfer,
checkpoints, TensorBoard, results.json), `report` (the MinAtar transfer report). Sits
on the floors below it (`PathNet`, masked optimizers, `genetic`, `reuse`, `modes`,
`checkpoint`, `stats`) and never imports `pbt` or `scripts`; nothing below imports it.
"""
