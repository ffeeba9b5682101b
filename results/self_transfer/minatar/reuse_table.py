"""Game B's reuse diagnostics of every PathNet run under a directory, per condition
(the directory under it; controls/ holds PathNet at the defaults, seed_fraction 0),
as a markdown table: the workers (of W) holding game A's whole best path after rounds
1, 5, 10, 20 and the last; the first round a holder won and the last round a worker
held it; the frozen modules on the winners' paths and the workers' mean (total over
layers) after round 1 and the last; game B's return. Means over seeds, per seed in
brackets.

    python results/self_transfer/minatar/reuse_table.py results/self_transfer/minatar
"""

import json
import pathlib
import sys
from collections import defaultdict

import numpy as np


def last_held(reuse) -> int:
    """The last round (1-based) after which some worker held the path (0: none)."""
    rounds = [i + 1 for i, count in enumerate(reuse["holding"]) if count]
    return rounds[-1] if rounds else 0


def total(row):
    return None if row is None else sum(row)


def first_played(rows):
    return total(next(row for row in rows if row is not None))


def row(name: str, runs: list) -> str:
    reuse = [run["game_b"]["reuse"] for run in runs]
    holding = np.array([[r["holding"][i] for i in (0, 4, 9, 19, -1)] for r in reuse])
    winners = np.array([[first_played(r["winner_frozen"]),
                         first_played(r["winner_frozen"][::-1])] for r in reuse])
    mean = np.array([[total(r["population_frozen"][0]), total(r["population_frozen"][-1])]
                     for r in reuse])
    returns = [run["game_b"]["mean_return_last_100"] for run in runs]
    label = "seed_fraction_0 (controls/)" if name == "controls" else name
    cells = [
        label, str(len(runs)), f"{np.mean([r['seeded'] for r in reuse]):.1f}",
        " / ".join(f"{v:.1f}" for v in holding.mean(0)),
        ", ".join(str(r["first_win_holding"]) for r in reuse),
        ", ".join(str(last_held(r)) for r in reuse),
        f"{winners[:, 0].mean():.1f} → {winners[:, 1].mean():.1f}",
        f"{mean[:, 0].mean():.1f} → {mean[:, 1].mean():.1f} "
        f"(of {np.mean([r['frozen_modules'] for r in reuse]):.1f})",
        f"{np.mean(returns):.2f} [{', '.join(f'{v:.2f}' for v in returns)}]"]
    return "| " + " | ".join(cells) + " |"


def main(directory: pathlib.Path) -> None:
    conditions = defaultdict(list)
    for path in sorted(directory.glob("*/runs/*/pathnet/seed_*/results.json")):
        conditions[path.relative_to(directory).parts[0]].append(json.loads(path.read_text()))
    print("| condition | seeds | workers seeded | holding after round 1 / 5 / 10 / 20 / last "
          "| first round a holder won | last round a worker held it | winners' frozen "
          "modules, round 1 → last | workers' mean frozen modules, round 1 → last | "
          "game B return |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, runs in sorted(conditions.items()):
        print(row(name, runs))
    run = next(iter(conditions.values()))[0]
    config, b = run["config"], run["game_b"]
    print(f"\nW = {config['num_workers']} workers; a round of tournaments every "
          f"{config['evolve_every']} updates ({config['evolve_every'] * 320:,} frames), "
          f"{b['updates'] // config['evolve_every']} rounds in game B's {b['frames']:,} "
          "frames.")


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
