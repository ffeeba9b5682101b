"""Runs: how a sequence of tasks is learned, recorded and drawn, one seed or many.

- `modes`: the one table of modes (pathnet, independent, finetune, ewc, si). Pure Python.
- `regularized`: EWC and SI on fine-tuning's fixed path (modes ewc and si).
- `separate`, `joint`: the continual-learning bounds (a fresh network per task; every
  task's data at once, which the sequence runner does not run: `joint.run_joint`).
- `task_run`: `TaskRun`, one task's run: its head, trainer, evolution and summaries.
- `run`: `run_sequence` and `Sequence`, the run's state: tasks in order, checkpoints,
  resume, SIGTERM, results.json.
- `summaries`: TensorBoard summaries of a run.
- `accuracy_matrix`, `continual`: the accuracy matrix R while a run goes, and its
  metrics (ACC, BWT, FWT, forgetting).
- `run_figures`, `accuracy_figures`: one run's figures, from its results.json alone.
- `campaign`, `campaign_ray`: many seeds in one process; a campaign's batches on Ray.

May import `evolution`, `core` and `files`; knows no experiment (the data come in as
arrays) and no report.
"""
