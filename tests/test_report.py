"""pathnet_tf.reports.report and pathnet_tf.reports.plotting on synthetic results.json files."""

import json
import subprocess
import sys

import numpy as np
import pytest

from pathnet_tf.reports import plotting, report

PNG = b"\x89PNG\r\n\x1a\n"
MAX_GENERATIONS = 300


def task(digits, generations, solved=True, path=((0, 1), (2, 3))):
    return {"name": f"{digits[0]}v{digits[1]}", "digits": list(digits),
            "generations": generations, "solved": solved,
            "best_fitness": 0.999 if solved else 0.9, "test_accuracy": 0.95,
            "best_path": [list(row) for row in path],
            "fitness_history": [0.5] * generations, "wall_seconds": 1.0}


def write_run(folder, mode, seed, a, b, generations_a, generations_b, solved_b=True,
              overlap=None, with_mode=True):
    """A results.json and config.json as binary_mnist_pathnet.py writes them.

    `a` None: an independent run (task_a null). Folder names say nothing true on
    purpose: the report must read mode, tasks and seed from the files."""
    folder.mkdir(parents=True)
    results = {"mode": mode, "seed": seed,
               "task_a": None if a is None else task(a, generations_a,
                                                     path=((0, 1), (2, 3))),
               "task_b": task(b, generations_b, solved_b, path=((1, 2), (3, 0))),
               "overlap": overlap, "wall_seconds": 2.0}
    if not with_mode:
        del results["mode"]
    config = {"pathnet": {"num_layers": 2, "num_modules": 4, "num_active": 2, "units": 8},
              "evolution": {"threshold": 0.998, "max_generations": MAX_GENERATIONS},
              "mode": mode, "seed": seed, "task_a": list(a or (1, 3)), "task_b": list(b)}
    (folder / "results.json").write_text(json.dumps(results))
    (folder / "config.json").write_text(json.dumps(config))


@pytest.fixture
def results_dir(tmp_path):
    root = tmp_path / "results"
    runs = [
        # mode, seed, task A, task B, A generations, B generations, B solved, overlap
        ("pathnet", 0, (1, 3), (1, 2), 100, 50, True, 1),
        ("pathnet", 1, (1, 3), (1, 2), 200, 100, True, 3),
        ("pathnet", 2, (1, 3), (1, 2), 300, MAX_GENERATIONS, False, 3),  # B unsolved
        ("pathnet", 0, (1, 2), (1, 3), 120, 60, True, 2),
        ("pathnet", 1, (1, 2), (1, 3), 180, 80, True, 4),
        ("independent", 0, None, (1, 2), None, 200, True, None),
        ("independent", 1, None, (1, 2), None, 100, True, None),
        ("independent", 0, None, (1, 3), None, 150, True, None),
        ("finetune", 0, (1, 3), (1, 2), 110, 150, True, None),
        ("finetune", 1, (1, 3), (1, 2), 190, 150, True, None),
    ]
    for k, (mode, seed, a, b, gen_a, gen_b, solved_b, overlap) in enumerate(runs):
        write_run(root / f"batch_{k % 3}" / f"run_{k}", mode, seed, a, b, gen_a, gen_b,
                  solved_b, overlap)
    return root


def group(summary, mode, role, name):
    (found,) = [g for g in summary["groups"]
                if (g["mode"], g["role"], g["task"]) == (mode, role, name)]
    return found


def speedup(summary, comparison, task_b):
    (found,) = [s for s in summary["speedups"]
                if s["comparison"] == comparison and s["task_b"] == task_b]
    return found


def test_runs_are_read_from_the_files_not_the_folder_names(results_dir):
    runs, skipped = report.load_runs(results_dir)
    assert skipped == []
    assert len(runs) == 10
    assert [r["mode"] for r in runs].count("independent") == 3
    independent = [r for r in runs if r["mode"] == "independent"]
    assert all(r["task_a"] is None and r["ordering"] is None for r in independent)
    assert {r["ordering"] for r in runs if r["mode"] == "pathnet"} == {"1v3->1v2", "1v2->1v3"}
    assert sorted(r["seed"] for r in runs if r["mode"] == "finetune") == [0, 1]
    assert runs[0]["settings"]["max_generations"] == MAX_GENERATIONS


def test_counts_means_and_the_unsolved_run(results_dir):
    summary = report.summarize(*report.load_runs(results_dir), resamples=500)
    assert summary["num_runs"] == 10
    assert summary["runs_per_mode"] == {"pathnet": 5, "independent": 3, "finetune": 2}
    b = group(summary, "pathnet", "task_b", "1v2")
    assert b["ordering"] == "1v3->1v2"
    assert (b["runs"], b["solved"], b["unsolved"]) == (3, 2, 1)
    assert b["solved_fraction"] == pytest.approx(2 / 3)
    assert b["unsolved_seeds"] == [2]
    # The unsolved run counts at max_generations; solved-only is reported apart.
    assert b["generations"]["mean"] == pytest.approx((50 + 100 + 300) / 3)
    assert b["generations"]["median"] == 100
    assert b["median_exact"]
    assert b["generations_solved_only"]["mean"] == pytest.approx(75)
    low, high = b["generations"]["mean_ci95"]
    assert 50 <= low <= b["generations"]["mean"] <= high <= 300
    assert b["test_accuracy_mean"] == pytest.approx(0.95)
    a = group(summary, "pathnet", "task_a", "1v3")
    assert a["generations"]["mean"] == pytest.approx(200) and a["unsolved"] == 0
    independent = group(summary, "independent", "task_b", "1v2")
    assert independent["ordering"] is None and independent["runs"] == 2
    assert independent["generations"]["mean"] == pytest.approx(150)
    assert not [g for g in summary["groups"]
                if g["mode"] == "independent" and g["role"] == "task_a"]


def test_speedup_ratios(results_dir):
    summary = report.summarize(*report.load_runs(results_dir), resamples=500)
    pathnet_1v2 = (50 + 100 + 300) / 3
    ratio = speedup(summary, "independent / pathnet", "1v2")
    assert ratio["ratio"] == pytest.approx(150 / pathnet_1v2)
    assert ratio["ci95"][0] <= ratio["ratio"] <= ratio["ci95"][1]
    assert (ratio["numerator_runs"], ratio["denominator_runs"]) == (2, 3)
    assert speedup(summary, "independent / pathnet", "1v3")["ratio"] == pytest.approx(150 / 70)
    # "all": the pairs' means averaged, each pair weighted equally.
    pooled = speedup(summary, "independent / pathnet", "all")
    assert pooled["ratio"] == pytest.approx(((150 + 150) / 2) / ((pathnet_1v2 + 70) / 2))
    finetune = speedup(summary, "finetune / pathnet", "1v2")
    assert finetune["ordering"] == "1v3->1v2"
    assert finetune["ratio"] == pytest.approx(150 / pathnet_1v2)
    first = {s["task"]: s for s in summary["first_vs_second"]}
    assert first["1v3"]["ratio"] == pytest.approx(200 / 70)  # A 1v3 vs B 1v3
    assert first["1v2"]["ratio"] == pytest.approx(150 / pathnet_1v2)
    assert first["1v3"]["tf1"] == [168, 83]
    assert first["all"]["ratio"] == pytest.approx(((200 + 150) / 2) / ((70 + pathnet_1v2) / 2))


def test_first_second_strata_are_each_pair_then_all_from_pathnet_runs_only(results_dir):
    runs, _ = report.load_runs(results_dir)
    strata = report.first_second_strata(runs)
    assert [name for name, _, _ in strata] == ["1v2", "1v3", "all"]
    by_name = {name: (first, second) for name, first, second in strata}
    (first,), (second,) = by_name["1v2"]
    # 1v2 first: the two PathNet runs of 1v2->1v3 (not fine-tune's); second: 1v3->1v2's three.
    assert sorted(r["task_a"]["generations"] for r in first) == [120, 180]
    assert sorted(r["task_b"]["generations"] for r in second) == [50, 100, MAX_GENERATIONS]
    assert {r["mode"] for side in by_name["all"] for runs in side for r in runs} == {"pathnet"}
    assert [len(runs) for runs in by_name["all"][0]] == [2, 3]  # one list per pair


def test_overlap_distribution(results_dir):
    summary = report.summarize(*report.load_runs(results_dir), resamples=100)
    overlap = summary["overlap"]
    assert overlap["path_modules"] == 4
    assert overlap["all"]["counts"] == {"0": 0, "1": 1, "2": 1, "3": 2, "4": 1}
    assert overlap["all"]["mean"] == pytest.approx((1 + 3 + 3 + 2 + 4) / 5)
    three = overlap["all"]["by_value"]["3"]
    assert three["runs"] == 2 and three["task_b_solved"] == 1
    assert three["task_b_generations_mean"] == pytest.approx((100 + 300) / 2)
    assert overlap["all"]["bands"]["3-5"]["runs"] == 3
    assert overlap["per_ordering"]["1v2->1v3"]["counts"]["4"] == 1


def test_bootstrap_is_seeded_and_resamples_within_samples():
    one = report.ratio_of_means([[1, 2, 3, 10]], [[2, 2, 3]], seed=0, key="x", resamples=300)
    again = report.ratio_of_means([[1, 2, 3, 10]], [[2, 2, 3]], seed=0, key="x", resamples=300)
    other = report.ratio_of_means([[1, 2, 3, 10]], [[2, 2, 3]], seed=1, key="x", resamples=300)
    assert one == again and one["ci95"] != other["ci95"]
    constant = report.ratio_of_means([[6, 6]], [[3, 3, 3]], seed=0, key="y", resamples=50)
    assert constant["ratio"] == 2 and constant["ci95"] == [2.0, 2.0]
    assert report.ratio_of_means([[]], [[1]], seed=0, key="z") is None
    stats = report.describe([5.0], seed=0, key="w", resamples=10)
    assert stats["mean"] == stats["median"] == 5 and stats["mean_ci95"] == [5.0, 5.0]


def test_old_files_without_mode_and_unreadable_files(tmp_path):
    root = tmp_path / "results"
    write_run(root / "a", "pathnet", 4, (4, 5), (6, 7), 90, 40, overlap=2, with_mode=False)
    (root / "broken").mkdir()
    (root / "broken" / "results.json").write_text("{not json")
    write_run(root / "c", "finetune", 0, (4, 5), (6, 7), 90, 40)
    results = json.loads((root / "c" / "results.json").read_text())
    results["task_a"] = None  # fine-tuning without its task A cannot be used
    (root / "c" / "results.json").write_text(json.dumps(results))
    runs, skipped = report.load_runs(root)
    assert [(r["mode"], r["seed"]) for r in runs] == [("pathnet", 4)]
    assert sorted(s["file"] for s in skipped) == ["broken/results.json", "c/results.json"]
    summary = report.summarize(runs, skipped, resamples=50)
    assert len(summary["skipped_files"]) == 2 and summary["speedups"] == []


def test_cli_writes_deterministic_summary_json_and_markdown(results_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert report.main([str(results_dir), "--out", str(out), "--no-figures",
                        "--resamples", "200"]) == 0
    first = (out / "summary.json").read_bytes()
    assert report.main([str(results_dir), "--out", str(out), "--no-figures",
                        "--resamples", "200"]) == 0
    assert (out / "summary.json").read_bytes() == first
    summary = json.loads(first)
    assert summary["num_runs"] == 10 and summary["figures"] == []
    assert not (out / "figures").exists()
    markdown = (out / "summary.md").read_text()
    for text in ("229", "167", "1.18", "168 → 83", "1v3 → 1v2", "independent / PathNet",
                 "first → second", "unsolved", "Overlap"):
        assert text in markdown, text
    assert "summary.json" in capsys.readouterr().out
    assert report.main([str(tmp_path / "nothing")]) == 1
    assert "does not exist" in capsys.readouterr().err


def png_written(path):
    data = path.read_bytes()
    return len(data) > 1000 and data.startswith(PNG)


def test_each_figure_writes_a_png(results_dir, tmp_path):
    runs, skipped = report.load_runs(results_dir)
    summary = report.summarize(runs, skipped, resamples=100)
    figures = tmp_path / "figures"
    paths = [plotting.plot_first_vs_second(runs, figures / "a.png"),
             plotting.plot_overlap(runs, figures / "b.png"),
             plotting.plot_pathways(plotting.pick_pathway_run(runs), figures / "c.png",
                                    num_modules=4),
             plotting.plot_modes(summary, figures / "d.png")]
    assert [p.name for p in paths] == ["a.png", "b.png", "c.png", "d.png"]
    assert all(png_written(p) for p in paths)
    assert sorted(p.name for p in figures.iterdir()) == ["a.png", "b.png", "c.png", "d.png"]


def test_figures_without_pathnet_runs_still_write_pngs(tmp_path):
    root = tmp_path / "results"
    write_run(root / "x", "independent", 0, None, (1, 2), None, 30)
    runs, _ = report.load_runs(root)
    summary = report.summarize(runs, resamples=20)
    assert plotting.pick_pathway_run(runs) is None
    paths = plotting.plot_all(runs, summary, tmp_path / "figures")
    assert [p.name for p in paths] == ["first_vs_second.png", "overlap.png", "modes.png"]
    assert all(png_written(p) for p in paths)


def test_report_draws_figures_into_out(results_dir):
    summary = report.report(results_dir, resamples=50)
    assert summary["figures"] == ["figures/first_vs_second.png", "figures/overlap.png",
                                  "figures/pathways.png", "figures/modes.png"]
    assert all(png_written(results_dir / name) for name in summary["figures"])
    assert "figures/pathways.png" in (results_dir / "summary.md").read_text()
    # summary.json is not a results.json: a second report reads the same ten runs
    assert report.report(results_dir, figures=False, resamples=50)["num_runs"] == 10


def test_report_and_plotting_do_not_import_tensorflow():
    code = ("import sys, pathnet_tf.reports.report, pathnet_tf.reports.plotting; "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_many_runs_sampled_like_the_tf1_numbers_give_its_ratio(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "results"
    for seed in range(60):
        write_run(root / f"x{seed}", "pathnet", seed, (1, 3), (1, 2),
                  int(rng.normal(168, 10)), int(rng.normal(118, 10)), overlap=2)
        write_run(root / f"y{seed}", "pathnet", seed, (1, 2), (1, 3),
                  int(rng.normal(197, 10)), int(rng.normal(83, 10)), overlap=2)
    summary = report.summarize(*report.load_runs(root), resamples=300)
    first = {s["task"]: s for s in summary["first_vs_second"]}
    assert first["1v3"]["ratio"] == pytest.approx(168 / 83, rel=0.05)
    assert first["1v3"]["ci95"][0] < 168 / 83 < first["1v3"]["ci95"][1]
