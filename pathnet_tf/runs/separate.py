"""Mode "separate": a separate fresh network per task, the baseline the continual-learning
literature calls "independent" (this project's mode `independent` is another thing:
the last task alone, from scratch). Nothing is forgotten and nothing transfers, by
construction (docs/continual.md).

**One model, re-initialised, instead of T models.** The sequence runs on one model
with fine-tuning's fixed path; between two tasks every module is re-initialised
(`reinitialize_all`; a fixed-path mode freezes nothing) and the next task gets a new
head and a fresh optimizer, as every task does. Task j's training therefore starts
from fresh weights and touches only its path's modules and its own head: it is what a
separate network of the same size, initialised by that draw, learns, whatever the
earlier tasks were (tested: task B's run is the same after task A = 0v1 or 2v3).
What one model cannot give by itself is the accuracy matrix of T networks, because
task j's network is overwritten when task j+1 starts. `SeparateNetworks` (the
mode's sequence hook) records it as T untouched networks give it:

- R[i][j], j < i: R[j][j] (network j is never touched again);
- R[i][j], j > i: network j is still as initialised, so its probe (the accuracy
  matrix's random probe head on the probe path) on network j's fresh weights, measured
  when task j starts (right after the re-initialisation, before any step);
- b[j]: that same measurement (network j's own fresh weights; b[0] is the first
  network's, as for every mode);
- `final_test_accuracy`: the last row, R[T-1][j] = R[j][j].

So BWT = 0 and FWT = 0 exactly, and forgetting is 0 for every task.
"""

from __future__ import annotations


def reinitialize_all(model, best_path) -> None:
    """A fresh network for the next task: every module re-initialised (nothing is
    frozen in a fixed-path mode; a frozen module would be a bug here)."""
    del best_path
    if (model.frozen.numpy() > 0.5).any():
        raise ValueError("mode separate re-initialises every module, but some are frozen")
    model.reinitialize_unfrozen()


class SeparateNetworks:
    """The sequence hook of mode "separate" (module docstring): it rewrites the
    accuracy matrix hook's rows and baseline as T separate networks give them."""

    name = "separate_networks"

    def __init__(self, sequence):
        if sequence.mode.population:
            raise ValueError(f"SeparateNetworks serves a fixed-path mode (separate), not "
                             f"{sequence.mode.name!r}")
        self.sequence = sequence
        self.measured: list[int] = []  # tasks whose fresh network's probe is recorded

    @property
    def matrix(self):
        """The sequence's `accuracy_matrix.AccuracyMatrix` hook (the hooks are made
        together, so it is looked up when first used; by its name, as this module is
        imported by the modes table's entry and must not import the runner's modules)."""
        matrices = [hook for hook in self.sequence.hooks if hook.name == "accuracy_matrix"]
        if len(matrices) != 1:
            raise ValueError("SeparateNetworks needs the sequence's AccuracyMatrix hook")
        return matrices[0]

    def task_start(self, sequence, run) -> None:
        """Network j (j > 0) as initialised: its probe is b[j] and R[i][j], i < j."""
        del run
        j = sequence.index
        if j == 0 or j in self.measured:  # task 0: AccuracyMatrix's b; resumed: done
            return
        probe = self.matrix._probe(sequence, j)
        self.matrix.baseline[j] = probe
        for i in range(j):
            self.matrix.rows[i][j] = probe
        self.measured.append(j)

    def task_end(self, sequence, run) -> None:
        """Row i: the networks of the earlier tasks, untouched since they ended."""
        del run
        i = sequence.index
        row = self.matrix.rows[i]
        for j in range(i):
            row[j] = self.matrix.rows[j][j]

    def state(self) -> tuple[dict, dict]:
        return {}, {"measured": self.measured}

    def load_state(self, arrays: dict, header: dict) -> None:
        del arrays
        self.measured = list(header["measured"])

    def results(self, sequence) -> dict:
        """The final accuracies of T separate networks: the last row of R (the one
        model's old heads sit on modules re-initialised since)."""
        last = self.matrix.rows[len(sequence.tasks) - 1]
        return {"final_test_accuracy": list(last),
                "separate_networks": {"networks": len(sequence.tasks),
                                      "probes_measured": list(self.measured)}}
