"""pathnet_tf.reports.ablation: the conditions, and the report on synthetic campaigns and logs."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from pathnet_tf.experiments import protocol
from pathnet_tf.reports import ablation
from tests.test_report import png_written, write_run
from tests.test_script import ROOT
from tests.test_tf1_logs import write_log


def test_each_condition_differs_from_its_base_in_its_one_switch():
    paper, tf1 = protocol.preset("paper"), protocol.preset("tf1")
    assert ablation.CONDITIONS["paper"] == paper and ablation.CONDITIONS["tf1"] == tf1
    assert len(ablation.CONDITIONS) == 2 + 2 * len(protocol.SWITCHES)
    for name in protocol.SWITCHES:
        on = ablation.CONDITIONS[f"paper+{name}"]
        off = ablation.CONDITIONS[f"tf1-{name}"]
        assert {k for k in paper if on[k] != paper[k]} == {name} and on[name] == tf1[name]
        assert {k for k in tf1 if off[k] != tf1[k]} == {name} and off[name] == paper[name]


def test_condition_flags_are_the_scripts_flags():
    flags = ablation.condition_flags("tf1-tournament")
    assert "--tournament=fair" in flags and "--frozen_path=always_on" in flags
    assert len(flags) == len(protocol.SWITCHES)
    with pytest.raises(ValueError, match="condition .'sideways'. must be one of paper, tf1"):
        ablation.condition_flags("sideways")
    # binary_mnist_pathnet.py knows every one of them (its help lists the flag).
    done = subprocess.run([sys.executable, str(ROOT / "binary_mnist_pathnet.py"), "--helpfull"],
                          capture_output=True, text=True, cwd=ROOT)
    for flag in flags:
        assert f"--{flag[2:].split('=')[0]}:" in done.stdout


def test_compound_conditions_chain_changes_from_their_base():
    paper, tf1 = protocol.preset("paper"), protocol.preset("tf1")
    fair = ablation.condition_switches("tf1-frozen_path-tournament")
    assert {k for k in tf1 if fair[k] != tf1[k]} == {"frozen_path", "tournament"}
    assert fair["frozen_path"] == paper["frozen_path"] == "available"
    assert fair["tournament"] == paper["tournament"] == "fair"
    both = ablation.condition_switches("paper+init+aggregation")
    assert {k for k in paper if both[k] != paper[k]} == {"init", "aggregation"}
    # The listed conditions are the 20 names, in order: the presets, on, off.
    assert list(ablation.CONDITIONS)[:4] == ["paper", "tf1", "paper+frozen_path",
                                             "paper+aggregation"]
    for name in ablation.COMPOUND:
        assert ablation.condition_flags(name)[0].startswith("--frozen_path=")
    for bad in ("tf1-tournament-tournament", "tf1+", "tf2-init", "paper*init", "tf1-speed"):
        with pytest.raises(ValueError, match=re.escape(f"condition ({bad!r}) must be one of")):
            ablation.condition_switches(bad)


def campaign(folder, first_second, overlap=None):
    """PathNet runs of the four orderings: `first_second[pair] = (first, second)`
    generations, the pair learned first (task A) and, in the opposite ordering, second;
    `overlap` (the best paths' shared modules) the seed plus it."""
    orderings = [((1, 3), (1, 2)), ((1, 2), (1, 3)), ((4, 5), (6, 7)), ((6, 7), (4, 5))]
    for index, (a, b) in enumerate(orderings):
        name_a, name_b = f"{a[0]}v{a[1]}", f"{b[0]}v{b[1]}"
        for seed in range(3):
            write_run(folder / f"o{index}" / f"s{seed}", "pathnet", seed, a, b,
                      first_second[name_a][0] + seed, first_second[name_b][1] + seed,
                      overlap=None if overlap is None else overlap + seed)


@pytest.fixture
def root(tmp_path):
    # tf1: every pair learned twice as fast second; paper: no transfer.
    campaign(tmp_path / "runs" / "tf1", {"1v3": (200, 99), "1v2": (200, 99),
                                         "4v5": (300, 149), "6v7": (100, 49)}, overlap=1)
    campaign(tmp_path / "runs" / "paper", {p: (150, 150) for p in ("1v3", "1v2", "4v5", "6v7")})
    # The paper condition's controls: independent twice as slow, fine-tune level.
    for index, (a, b) in enumerate([((1, 3), (1, 2)), ((1, 2), (1, 3))]):
        for seed in range(3):
            write_run(tmp_path / "runs" / "paper" / f"i{index}" / f"s{seed}", "independent",
                      seed, None, b, 0, 300 + seed)
            write_run(tmp_path / "runs" / "paper" / f"f{index}" / f"s{seed}", "finetune",
                      seed, a, b, 150, 150 + seed)
    (tmp_path / "runs" / "not_a_condition").mkdir()
    campaign(tmp_path / "runs" / "tf1-frozen_path-tournament",
             {p: (150, 120) for p in ("1v3", "1v2", "4v5", "6v7")})
    logs = tmp_path / "logs"
    logs.mkdir()
    # The logs count from 0: 199 logged = 200 counted from 1.
    write_log(logs / "1vs3_1vs2.log", [(199, 109, 1)] * 2 + [(201, 111, 1)] * 2)
    write_log(logs / "1vs2_1vs3.log", [(199, 99, 3)] * 4)
    return tmp_path


def test_report_ratios_reproduction_and_figures(root):
    out = root / "out"
    summary = ablation.write_report(root / "runs", out, root / "logs", resamples=200)
    # The listed conditions in their order, then the compound one; other folders left out.
    assert list(summary["conditions"]) == ["paper", "tf1", "tf1-frozen_path-tournament"]
    fair = summary["conditions"]["tf1-frozen_path-tournament"]
    assert fair["flags"] == ablation.condition_flags("tf1-frozen_path-tournament")
    assert fair["first_over_second"]["all"]["ratio"] == pytest.approx(151 / 121)
    tf1 = summary["conditions"]["tf1"]
    assert tf1["runs"] == 12 and tf1["seeds_per_ordering"]["1v3->1v2"] == 3
    assert tf1["first_over_second"]["1v3"]["ratio"] == pytest.approx(201 / 100)
    assert tf1["first_over_second"]["4v5"]["ratio"] == pytest.approx(301 / 150)
    assert summary["conditions"]["paper"]["first_over_second"]["all"]["ratio"] == 1.0
    assert tf1["solved_fraction"] == 1.0 and tf1["test_accuracy_mean"] == pytest.approx(0.95)
    assert tf1["task_b"]["pathnet"]["runs"] == 12
    # The logs, counted from 1: 1v3 first 201 (200, 202), second 100; 1v2 first 200, second 111.
    logs = summary["tf1_logs"]
    assert logs["1v3"]["numerator_mean"] == pytest.approx(201)
    assert logs["1v3"]["denominator_mean"] == pytest.approx(100)
    rows = {row["pair"]: row for row in summary["reproduction"]}
    assert set(rows) == {"1v3", "1v2", "all"}
    assert rows["1v3"]["means_within_tolerance"] and rows["1v3"]["first_difference"] == 0
    assert rows["1v2"]["second_difference"] == pytest.approx(100 / 111 - 1)
    assert rows["1v2"]["means_within_tolerance"]  # -10 %: inside ±15 %
    assert rows["1v3"]["ratio_ci_holds_logs_ratio"]
    written = json.loads((out / "summary.json").read_text())
    assert written["conditions"]["tf1"]["flags"] == ablation.condition_flags("tf1")
    markdown = (out / "summary.md").read_text()
    assert "| tf1 | 12 |" in markdown and "| paper | 24 |" in markdown
    assert "## The tf1 condition against the TF1 logs" in markdown
    # The best paths' overlap: ours 1-3 (mean 2, seeds 0-2 plus 1), the logs' 1 and 3.
    assert tf1["overlap"]["mean"] == 2 and tf1["overlap"]["n"] == 12
    assert summary["tf1_logs_overlap"]["mean"] == 2 and summary["tf1_logs_overlap"]["n"] == 8
    assert re.search(r"share \(of L·N\), mean \[95 % CI\]: ours 2\.00 \[1\.\d\d, 2\.\d\d\] "
                     r"\(12 runs\), the TF1 logs 2\.00 \[1\.\d\d, 2\.\d\d\] \(8 runs\)\.", markdown)
    assert summary["conditions"]["paper"]["overlap"] is None
    # The controls: only the paper condition ran them; independent / PathNet on 1v2 and
    # 1v3 (PathNet's task B 151 there), fine-tune / PathNet over the two orderings.
    paper = summary["conditions"]["paper"]
    assert paper["runs"] == 24 and set(paper["task_b"]) == {"pathnet", "independent",
                                                            "finetune"}
    controls = markdown.split("## The controls")[1].split("\n\n")[2].splitlines()
    assert len(controls) == 3 and controls[2].startswith("| paper | 151.0 (12, 100% solved)")
    assert "| 301.0 (6, 100% solved) | 151.0 (6, 100% solved) | 1.99 [" in controls[2]
    assert re.search(r"\| 1\.00 \[0\.9\d, 1\.0\d\] \|$", controls[2])
    rows = (out / "runs_tf1.csv").read_text().splitlines()
    assert len(rows) == 13 and rows[0].startswith("mode,ordering,seed,task_a_generations")
    assert "pathnet,1v3->1v2,0,200,True,0.95,1v2,99,True,0.95,1" in rows
    for name in ("forest.png", "tf1_histograms.png"):
        assert name in summary["figures"] and png_written(out / name)


def test_report_of_a_root_without_runs_is_one_error_line(tmp_path, capsys):
    (tmp_path / "runs" / "tf1").mkdir(parents=True)
    status = ablation.main(["report", f"--root={tmp_path / 'runs'}", f"--out={tmp_path}"])
    assert status == 1
    assert capsys.readouterr().err.strip() == (
        f"error: no condition below {str(tmp_path / 'runs')!r} has runs yet")


def test_run_checks_every_condition_before_running_any(tmp_path):
    with pytest.raises(ValueError, match="condition .'tf2'."):
        ablation.run(["paper", "tf2"], tmp_path, runs=1, jobs=1, batch=1, modes="pathnet")
    assert not list(tmp_path.iterdir())


FAKE_CAMPAIGN = """\
#!/bin/bash
# Stands in for auto_binary_mnist_pathnet.sh: notes that it started, then waits; a TERM
# is noted and ends it with the script's status for a stop.
echo "started $RESULTS_DIR" >> "$MARKS"
trap 'echo "stopped $RESULTS_DIR" >> "$MARKS"; exit 130' TERM
while true; do sleep 0.1; done
"""


def test_a_sigterm_to_run_stops_the_running_campaign_and_starts_no_other(tmp_path):
    fake = tmp_path / "fake_campaign.sh"
    fake.write_text(FAKE_CAMPAIGN)
    marks = tmp_path / "marks.txt"
    root = tmp_path / "root"
    driver = (f"import pathlib, sys\nsys.path.insert(0, {str(ROOT)!r})\n"
              "from pathnet_tf.reports import ablation\n"
              f"ablation.CAMPAIGN_SCRIPT = pathlib.Path({str(fake)!r})\n"
              f"sys.exit(ablation.run(['paper', 'tf1'], {str(root)!r}, runs=1, jobs=1,"
              " batch=1, modes='pathnet'))\n")
    process = subprocess.Popen([sys.executable, "-c", driver], stderr=subprocess.PIPE,
                               env=dict(os.environ, MARKS=str(marks)), text=True)
    deadline = time.monotonic() + 60
    while not (marks.exists() and marks.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM
    assert marks.read_text().splitlines() == [f"started {root / 'paper'}",
                                              f"stopped {root / 'paper'}"]
    assert "stopped by SIGTERM during condition paper: rerun the same command" in err


def test_medians_beside_means_when_task_a_often_stops_at_the_limit(tmp_path):
    # Each pair learned first: 1 run in 3 stops unsolved at the limit (1000), the others
    # as fast as learned second. The means show "transfer", the medians none.
    folder = tmp_path / "paper+module_types"
    campaign(folder, {p: (100, 100) for p in ("1v3", "1v2", "4v5", "6v7")})
    for path in folder.rglob("results.json"):
        results = json.loads(path.read_text())
        if results["seed"] == 1:
            results["task_a"].update(generations=1000, solved=False)
            path.write_text(json.dumps(results))
    entry = ablation.summarize_condition(folder, resamples=200)
    means, medians = entry["first_over_second"], entry["first_over_second_medians"]
    assert means["all"]["ratio"] == pytest.approx((100 + 1000 + 102) / 3 / 101)
    assert medians["all"]["ratio"] == pytest.approx(102 / 101)
    assert medians["1v3"]["numerator_median"] == 102
    assert medians["all"]["ci95"][0] <= medians["all"]["ratio"] <= medians["all"]["ci95"][1]
    assert set(medians) == {"1v3", "1v2", "4v5", "6v7", "all"}
    assert medians["all"]["exact"]  # 2 of 3 solved: the medians are measurements
    assert entry["solved_fraction_by_role"] == {"task_a": pytest.approx(2 / 3), "task_b": 1.0}
    markdown = ablation.to_markdown({"conditions": {"paper+module_types": entry},
                                     "counting": "from 1", "tf1_logs": {},
                                     "reproduction": []})
    row = next(line for line in markdown.splitlines() if line.startswith("| paper+module"))
    cells = [cell.strip() for cell in row.split("|")[1:-1]]
    assert cells[2].startswith("3.97 [") and cells[3].startswith("1.01 [")
    assert cells[-3] == "0.67 / 1.00" and cells[-1] == ""  # solved A / B; no overlaps
    summary = {"conditions": {"paper+module_types": entry}, "tf1_logs": {}}
    assert png_written(ablation.plot_forest(summary, tmp_path / "forest.png"))
    # Two of three unsolved in 1v3 learned first: its median is the limit.
    for path in folder.rglob("results.json"):
        results = json.loads(path.read_text())
        if results["seed"] == 2 and results["task_a"]["name"] == "1v3":
            results["task_a"].update(generations=1000, solved=False)
            path.write_text(json.dumps(results))
    entry = ablation.summarize_condition(folder, resamples=50)
    medians = entry["first_over_second_medians"]
    assert not medians["1v3"]["exact"] and not medians["all"]["exact"]
    markdown = ablation.to_markdown({"conditions": {"paper+module_types": entry},
                                     "counting": "from 1", "tf1_logs": {},
                                     "reproduction": []})
    row = next(line for line in markdown.splitlines() if line.startswith("| paper+module"))
    assert row.split("|")[4].strip().endswith("] †")
    assert medians["1v2"]["exact"] and medians["1v3"]["numerator_median"] == 1000
