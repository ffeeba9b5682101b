"""The one table of modes: a new mode is one `register(Mode(...))`, and the runner, the
config checks, the report and the plots take it from there."""

import json

import keras
import numpy as np
import pytest

from pathnet_tf.core.config import PathNetConfig
from pathnet_tf.core.model import PathNet
from pathnet_tf.evolution.config import EvolutionConfig
from pathnet_tf.experiments import data as data_lib
from pathnet_tf.experiments.config import BinaryMnistConfig
from pathnet_tf.reports import ablation, plotting, report
from pathnet_tf.rl import report as rl_report
from pathnet_tf.runs import modes
from pathnet_tf.runs.run import run_sequence


def reinitialize_everything(model, best_path):
    """PathNet from scratch on every task: nothing frozen, everything re-initialised."""
    del best_path
    model.reinitialize_unfrozen()


@pytest.fixture
def toy_mode():
    mode = modes.register(modes.Mode(
        "scratch", "PathNet from scratch", "tab:green", train_earlier=True, population=True,
        between=reinitialize_everything, help="evolve every task from scratch"))
    yield mode
    del modes.MODES["scratch"]


def test_the_table_holds_the_modes_the_flags_and_report_offer():
    assert list(modes.MODES) == ["pathnet", "independent", "finetune", "ewc", "si",
                                 "separate", "joint"]
    assert [m.label for m in modes.MODES.values()] == ["PathNet", "independent", "fine-tune",
                                                        "EWC", "SI", "separate networks",
                                                        "joint training"]
    with pytest.raises(ValueError, match=r"mode \('frozen'\) must be one of pathnet"):
        modes.get("frozen")
    with pytest.raises(ValueError, match="mode"):
        BinaryMnistConfig(mode="frozen")


def test_one_entry_is_all_a_new_mode_takes(toy_mode, tmp_path):
    config = BinaryMnistConfig(
        pathnet=PathNetConfig(num_layers=2, num_modules=4, num_active=2, units=6),
        evolution=EvolutionConfig(population_size=4, steps_per_candidate=3, batch_size=8,
                                  max_generations=4, threshold=1.0),
        mode="scratch", max_train=200, seed=1)
    mnist = data_lib.load_mnist()
    rng = np.random.default_rng(0)
    tasks = [data_lib.binary_task(mnist, pair, 0.5, rng, max_train=200, max_test=100)
             for pair in ("1,3", "1,2")]
    keras.utils.set_random_seed(config.seed)
    model = PathNet(data_lib.IMAGE_SIZE, 2, 4, 2, 6)
    ended, started = {}, {}
    results = run_sequence(
        config, model, tasks, tmp_path / "run", log=lambda _: None,
        on_task_start=lambda label, m: started.setdefault(label, m.module_layers[0].kernel.numpy()),
        on_task_end=lambda label, m, r: ended.setdefault(label, m.module_layers[0].kernel.numpy()))
    assert results["mode"] == "scratch" and results["frozen_modules"] == [0, 0]
    assert results["task_a"]["generations"] == results["task_b"]["generations"] == 4
    assert isinstance(results["overlap"], int)  # a population mode: its paths overlap
    # Its step between tasks ran: every module of layer 0 re-initialised before B.
    for module in range(4):
        assert not np.array_equal(started["B"][module], ended["A"][module])
    # The report and the plots know it by its table entry.
    run = report.read_run(tmp_path / "run" / "results.json", tmp_path)
    assert run["mode"] == "scratch" and run["ordering"] == "1v3->1v2"
    summary = report.summarize([run], resamples=50)
    assert "PathNet from scratch" in report.to_markdown(summary)
    figure = plotting.plot_modes(summary, tmp_path / "modes.png")
    assert figure.stat().st_size > 0
    assert json.loads((tmp_path / "run" / "config.json").read_text())["mode"] == "scratch"
    # Its accuracy matrix and figures, as every mode's (continual.py, run_figures.py).
    assert len(results["accuracy_matrix"]) == 2 and results["continual"]["acc"] == (
        sum(results["final_test_accuracy"]) / 2)
    assert (tmp_path / "run" / "figures" / "accuracy_matrix.png").stat().st_size > 5000


def test_a_new_control_is_compared_with_pathnet_by_its_table_entry(tmp_path):
    """A fixed-path mode that learns both tasks (as finetune, ewc, si) gets PathNet's
    speedup over it in the report, named by its label, with no other change."""
    modes.register(modes.Mode("slowtune", "slow tune", "tab:olive", train_earlier=True,
                              population=False, between=modes.keep_everything,
                              help="a toy control"))
    try:
        for mode, generations in (("pathnet", [10, 12]), ("slowtune", [30, 36])):
            for seed, count in enumerate(generations):
                folder = tmp_path / mode / f"seed_{seed}"
                folder.mkdir(parents=True)
                task = {"name": "1v2", "generations": count, "solved": True}
                (folder / "results.json").write_text(json.dumps(
                    {"mode": mode, "seed": seed, "overlap": 2,
                     "task_a": {"name": "1v3", "generations": 5, "solved": True},
                     "task_b": task}))
        runs = [report.read_run(path, tmp_path) for path in sorted(tmp_path.rglob("*.json"))]
        assert [r["overlap"] for r in runs] == [2, 2, None, None]  # a population's only
        summary = report.summarize(runs, resamples=50)
        (speedup,) = summary["speedups"]
        assert speedup["comparison"] == "slowtune / pathnet"
        assert speedup["ratio"] == pytest.approx(66 / 22)
        assert "| slow tune / PathNet |" in report.to_markdown(summary)
        # The ablation's controls table: a column for it and one for PathNet's speedup.
        for mode in ("pathnet", "slowtune"):  # a condition's runs, both orderings
            for seed, (a, b) in enumerate((("1,3", "1,2"), ("1,2", "1,3"))):
                folder = tmp_path / "ablation" / "paper" / mode / f"seed_{seed}"
                folder.mkdir(parents=True)
                name = lambda pair: pair.replace(",", "v")  # noqa: E731
                (folder / "results.json").write_text(json.dumps(
                    {"mode": mode, "seed": seed, "overlap": 2,
                     "task_a": {"name": name(a), "generations": 20, "solved": True},
                     "task_b": {"name": name(b), "generations": 10 if mode == "pathnet"
                                else 30, "solved": True}}))
        condition = ablation.summarize_condition(tmp_path / "ablation" / "paper", resamples=50)
        table = ablation._controls_markdown({"conditions": {"paper": condition}})
        assert "| condition | PathNet | slow tune | slow tune / PathNet |" in table
        assert any(row.startswith("| paper | 10.0 (2, 100% solved) | 30.0 (2, 100% solved) "
                                  "| 3.00 [") for row in table)
    finally:
        del modes.MODES["slowtune"]


def test_the_rl_report_reads_a_new_mode_from_the_table(toy_mode):
    """A new mode's MinAtar runs are grouped, summarised and compared with the
    from-scratch control (the mode whose entry does not train game A) by its entry."""
    def run(mode, seed, returns, game_a=True):
        game = lambda name: {"game": name, "frames": 400,  # noqa: E731
                             "curve": [[200, returns[0]], [400, returns[1]]],
                             "mean_return_last_100": returns[1]}
        return {"mode": mode, "games": ["breakout", "breakout"], "config": {"seed": seed},
                "game_a": game("breakout") if game_a else None, "game_b": game("breakout")}

    modes.register(modes.Mode("alone", "alone", "tab:brown", train_earlier=False,
                              population=False, between=modes.keep_everything,
                              help="a toy from-scratch control"))
    try:
        runs = [run("scratch", s, (1.0, 3.0)) for s in range(2)]
        runs += [run("alone", s, (0.5, 1.0), game_a=False) for s in range(2)]
        (pair,) = rl_report.summarize(runs)["pairs"]
    finally:
        del modes.MODES["alone"]
    assert list(pair["modes"]) == ["scratch", "alone"]  # the table's order
    assert pair["modes"]["scratch"]["final_return"]["mean"] == 3.0
    assert pair["modes"]["alone"]["runs"] == 2  # its game-B runs joined the pair
    assert "speedup" in pair["modes"]["scratch"]  # over the from-scratch control
    assert "speedup" not in pair["modes"]["alone"]
