"""Evolution: pathways, the tournament genetic algorithm and the compiled training of
its candidates.

- `config`: `EvolutionConfig` (P, B, T, the threshold, the optimizer). No TensorFlow.
- `genetic`: genotypes, mutation, `Tournament`. NumPy only.
- `training`: `TaskTrainer` (compiled candidate training), the fair serial tournament,
  `evolve`, the per-batch noise.
- `evaluation`: a pathway's compiled accuracy on a task's examples.
- `parallel`: K tournaments side by side (`--parallel=K`).
- `shared_tournament`: the TF1 code's unfair tournament (`--tournament=shared`).
- `reuse`: diagnostics of a later task's population on the frozen path.

May import `core` and `files`.
"""
