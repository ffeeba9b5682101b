"""The MinAtar report on synthetic results: grouping, the speedup and its interval,
the markdown table and the figure; the sweep's points (rl.config.parse_changes)."""

import json

import numpy as np
import pytest

from pathnet_tf.rl import report
from pathnet_tf.rl.config import MinAtarConfig, parse_changes


def fake_run(directory, mode, seed, curve):
    frames = [100 * (k + 1) for k in range(len(curve))]
    game_b = {"frames": frames[-1], "mean_return_last_100": curve[-1],
              "curve": [[f, v, 10] for f, v in zip(frames, curve)]}
    results = {"config": {"seed": seed}, "mode": mode, "games": ["breakout", "asterix"],
               "game_a": None if mode == "independent" else {"mean_return_last_100": 1.0},
               "game_b": game_b}
    path = directory / mode / f"seed{seed}"
    path.mkdir(parents=True)
    (path / "results.json").write_text(json.dumps(results))


def test_speedup_is_frames_the_control_needs_over_frames_the_mode_needs(tmp_path):
    for seed in range(3):
        fake_run(tmp_path, "independent", seed, [None, 1.0, 2.0, 3.0, 4.0, 4.0])
        fake_run(tmp_path, "pathnet", seed, [1.0, 4.0, 5.0, 5.0, 5.0, 5.0])
        fake_run(tmp_path, "finetune", seed, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0])
    summary = report.summarize(report.load_runs(tmp_path))
    modes = summary["pairs"][0]["modes"]
    assert modes["independent"]["runs"] == 3 and "speedup" not in modes["independent"]
    fast = modes["pathnet"]["speedup"]
    assert fast["target_return"] == 4.0 and fast["control_frames"] == 500.0
    assert fast["mode_frames"] == 200.0 and fast["speedup"] == 2.5
    assert fast["ci95"] == [2.5, 2.5] and fast["not_reached"] == 0.0
    slow = modes["finetune"]["speedup"]
    assert slow["speedup"] is None and slow["not_reached"] == 1.0
    np.testing.assert_allclose(modes["independent"]["curve_mean"][0], 1.0)  # no episode yet
    table = report.markdown(summary)
    assert "| breakout → asterix | PathNet | 3 | 5.00 [5.00, 5.00] | 2.50" in table
    report.figure(report.load_runs(tmp_path), tmp_path / "curves.png")
    assert (tmp_path / "curves.png").stat().st_size > 1000


def test_the_independent_control_serves_every_pair_ending_with_its_game(tmp_path):
    fake_run(tmp_path / "x", "independent", 0, [1.0, 2.0])
    fake_run(tmp_path / "y", "pathnet", 0, [2.0, 2.0])
    other = tmp_path / "z" / "pathnet" / "seed0"
    fake_run(tmp_path / "z", "pathnet", 0, [1.0, 1.0])
    results = json.loads((other / "results.json").read_text())
    results["games"] = ["space_invaders", "asterix"]
    (other / "results.json").write_text(json.dumps(results))
    groups = report.grouped(report.load_runs(tmp_path))
    assert sorted(groups) == [("breakout", "asterix"), ("space_invaders", "asterix")]
    assert all(len(modes["independent"]) == 1 for modes in groups.values())


def test_the_sweeps_points_parse_to_config_fields_of_their_types():
    assert parse_changes("default") == {} == parse_changes(" ")
    point = parse_changes("num_workers=8,envs_per_worker=8,learning_rate=3e-3")
    assert point == {"num_workers": 8, "envs_per_worker": 8, "learning_rate": 0.003}
    assert isinstance(point["num_workers"], int)
    assert parse_changes("mutation_rate=0.1") == {"mutation_rate": 0.1}
    assert MinAtarConfig(**parse_changes("game_a=asterix")).game_a == "asterix"
    assert parse_changes("heads_from_a=false,num_active_b=5") == {"heads_from_a": False,
                                                                 "num_active_b": 5}
    assert parse_changes("heads_from_a=True") == {"heads_from_a": True}
    assert isinstance(parse_changes("num_active_b=5")["num_active_b"], int)
    with pytest.raises(ValueError, match="must be heads_from_a=true or heads_from_a=false"):
        parse_changes("heads_from_a=yes")
    for bad in ("workers=8", "num_workers", "num_workers=8,,", "conv_layers=8"):
        with pytest.raises(ValueError, match="must be field=value of a number or name"):
            parse_changes(bad)
