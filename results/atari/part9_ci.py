"""Part 9 of results/atari/README.md: Alien after 3M frames, from scratch and fine-tuned
from Pong. Prints per seed the mean score of the last 100 episodes and of every
episode; per condition their mean with a 95 % t interval; and the difference
(fine-tuned - from scratch) with Welch's t interval.

    python results/atari/part9_ci.py
"""

import json
import math
import pathlib
import statistics

from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parent / "pong_40m_nature_a2c_game_b"
CONDITIONS = {"from scratch": "alien_3m_nature_scratch_s",
              "fine-tuned from Pong": "pong_alien_3m_finetune_s"}


def interval(values: list) -> str:
    mean = statistics.mean(values)
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return f"{mean:.1f} [{mean - half:.1f}, {mean + half:.1f}] (n={len(values)})"


def welch(a: list, b: list) -> str:
    va, vb = statistics.variance(a) / len(a), statistics.variance(b) / len(b)
    difference = statistics.mean(a) - statistics.mean(b)
    df = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = stats.t.ppf(0.975, df) * math.sqrt(va + vb)
    return (f"difference {difference:.1f} [{difference - half:.1f}, {difference + half:.1f}], "
            f"Welch df {df:.1f}, ratio {statistics.mean(a) / statistics.mean(b):.3f}")


def main() -> None:
    scores = {}
    for label, prefix in CONDITIONS.items():
        last, every = [], []
        for run in sorted(ROOT.glob(prefix + "*")):
            if not (run / "results.json").exists():
                continue
            game_b = json.loads((run / "results.json").read_text())["game_b"]
            last.append(game_b["mean_return_last_100"])
            every.append(statistics.mean(game_b["episode_returns"]))
            print(run.name, game_b["frames"], round(last[-1], 1), round(every[-1], 1))
        scores[label] = (last, every)
    for index, what in enumerate(("last 100 episodes at 3M", "every episode")):
        for label in CONDITIONS:
            print(what, label, interval(scores[label][index]))
        print(what, welch(scores["fine-tuned from Pong"][index], scores["from scratch"][index]))


if __name__ == "__main__":
    main()
