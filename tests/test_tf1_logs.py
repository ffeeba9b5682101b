"""pathnet_tf.reports.tf1_logs on synthetic logs and on the committed TF1 logs
(results/tf1_logs)."""

import json
import pathlib
import subprocess
import sys

import pytest

from pathnet_tf.reports import report, tf1_logs

ROOT = pathlib.Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "results" / "tf1_logs"
# docs/protocol.md section 3: digit pair -> (mean learned first, mean learned second).
REFERENCE_MEANS = {"1v3": (168.25, 82.64), "1v2": (196.60, 118.32),
                   "4v5": (270.68, 149.31), "6v7": (93.69, 55.91)}


def write_log(path, runs):
    """A log as auto_binary_mnist_pathnet.sh writes it: `i "Iteration, " last_line`."""
    path.write_text("".join(
        f"{i} Iteration,  Entire Iter:{a + b},TASK1:{a},TASK2:{b},Overlap:{o}\n"
        for i, (a, b, o) in enumerate(runs, start=1)))
    return path


@pytest.fixture
def folder(tmp_path):
    write_log(tmp_path / "1vs3_1vs2.log", [(10, 4, 1), (20, 6, 2), (30, 8, 2)])
    write_log(tmp_path / "1vs2_1vs3.log", [(12, 5, 0), (18, 3, 3)])
    (tmp_path / "notes.log").write_text("not a run log\n")  # ignored: not named like one
    return tmp_path


def test_ordering_of_reads_the_file_name():
    assert tf1_logs.ordering_of("x/1vs3_1vs2.log") == "1v3->1v2"
    assert tf1_logs.ordering_of("6vs7_4vs5.log") == "6v7->4v5"
    with pytest.raises(ValueError, match="1vs3_1vs2"):
        tf1_logs.ordering_of("binary_mnist_pathnet.log")


def test_read_log_keeps_the_logged_numbers(folder):
    runs = tf1_logs.read_log(folder / "1vs3_1vs2.log")
    assert runs == [
        {"run": 1, "first": 10, "second": 4, "total": 14, "overlap": 1},
        {"run": 2, "first": 20, "second": 6, "total": 26, "overlap": 2},
        {"run": 3, "first": 30, "second": 8, "total": 38, "overlap": 2},
    ]


def test_read_log_rejects_a_line_that_is_not_a_result(tmp_path):
    path = write_log(tmp_path / "1vs3_1vs2.log", [(10, 4, 1)])
    path.write_text(path.read_text() + "\n2 Iteration,  NameError: task1_optimal_path\n")
    with pytest.raises(ValueError, match="line 3"):
        tf1_logs.read_log(path)
    path.write_text("1 Iteration,  Entire Iter:15,TASK1:10,TASK2:4,Overlap:1\n")
    with pytest.raises(ValueError, match="Entire Iter"):
        tf1_logs.read_log(path)


def test_load_logs_keys_by_ordering(folder, tmp_path_factory):
    logs = tf1_logs.load_logs(folder)
    assert sorted(logs) == ["1v2->1v3", "1v3->1v2"]
    assert [r["first"] for r in logs["1v2->1v3"]] == [12, 18]
    empty = tmp_path_factory.mktemp("empty")
    with pytest.raises(ValueError, match="no log"):
        tf1_logs.load_logs(empty)
    (empty / "4vs5_6vs7.log").write_text("\n")
    with pytest.raises(ValueError, match="holds no run"):
        tf1_logs.load_logs(empty)


def test_summarize_per_ordering_and_per_pair(folder):
    summary = tf1_logs.summarize(tf1_logs.load_logs(folder), resamples=50)
    assert summary["num_runs"] == 5
    ordering = summary["orderings"]["1v3->1v2"]
    assert (ordering["runs"], ordering["first_task"], ordering["second_task"]) == (3, "1v3",
                                                                                 "1v2")
    assert ordering["first"]["mean"] == 20 and ordering["first"]["median"] == 20
    assert ordering["second"]["mean"] == 6
    assert ordering["first_over_second"]["ratio"] == pytest.approx(20 / 6)
    low, high = ordering["first_over_second"]["ci95"]
    assert 10 / 8 <= low <= 20 / 6 <= high <= 30 / 4
    assert ordering["overlap"]["mean"] == pytest.approx(5 / 3)
    assert ordering["overlap"]["by_value"] == {
        "0": {"runs": 0, "second_mean": None, "second_median": None},
        "1": {"runs": 1, "second_mean": 4.0, "second_median": 4.0},
        "2": {"runs": 2, "second_mean": 7.0, "second_median": 7.0},
    }
    # 1v3 learned first in 1v3->1v2 (mean 20), second in the opposite 1v2->1v3 (mean 4).
    pair = summary["pairs"]["1v3"]
    assert pair["first_orderings"] == ["1v3->1v2"] and pair["second_orderings"] == ["1v2->1v3"]
    assert (pair["first"]["mean"], pair["second"]["mean"]) == (20, 4)
    assert pair["first_over_second"]["ratio"] == pytest.approx(5.0)
    assert pair["first_over_second"]["counted_from_one"]["ratio"] == pytest.approx(21 / 5)
    assert pair["tf1_readme"] == [168.25, 82.64]
    assert summary["pairs"]["1v2"]["first_over_second"]["ratio"] == pytest.approx(15 / 6)
    # all: the pairs' means averaged, each pair weighted equally.
    assert summary["pairs"]["all"]["first_over_second"]["ratio"] == pytest.approx(17.5 / 5)


def test_summarize_is_deterministic(folder):
    logs = tf1_logs.load_logs(folder)
    assert tf1_logs.summarize(logs, resamples=30) == tf1_logs.summarize(logs, resamples=30)


def test_to_runs_feeds_the_report(folder):
    runs = tf1_logs.to_runs(tf1_logs.load_logs(folder))
    assert len(runs) == 5
    assert runs[0]["task_a"]["generations"] == 12 + 1  # the project counts from 1
    summary = report.summarize(runs, resamples=20)
    ratios = {e["task"]: e["ratio"] for e in summary["first_vs_second"]}
    assert ratios["1v3"] == pytest.approx(21 / 5)
    assert summary["overlap"]["all"]["runs"] == 5
    assert summary["mixed_settings"] == []


def test_committed_logs_give_the_reference_means():
    logs = tf1_logs.load_logs(COMMITTED)
    assert sorted(logs) == ["1v2->1v3", "1v3->1v2", "4v5->6v7", "6v7->4v5"]
    assert all(len(runs) == 1000 for runs in logs.values())
    assert all([r["run"] for r in runs] == list(range(1, 1001)) for runs in logs.values())
    summary = tf1_logs.summarize(logs, resamples=10)
    for pair, (first, second) in REFERENCE_MEANS.items():
        entry = summary["pairs"][pair]
        assert entry["first"]["mean"] == pytest.approx(first, abs=0.01), pair
        assert entry["second"]["mean"] == pytest.approx(second, abs=0.01), pair


def test_cli_prints_json_without_tensorflow(folder):
    done = subprocess.run(
        [sys.executable, "-c",
         "import sys; from pathnet_tf.reports import tf1_logs; code = tf1_logs.main(sys.argv[1:]); "
         "assert 'tensorflow' not in sys.modules; sys.exit(code)",
         str(folder), "--resamples", "10"],
        capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["pairs"]["1v3"]["first"]["mean"] == 20
    missing = subprocess.run([sys.executable, "-m", "pathnet_tf.reports.tf1_logs",
                              str(folder / "no")],
                             capture_output=True, text=True, cwd=ROOT, check=False)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
