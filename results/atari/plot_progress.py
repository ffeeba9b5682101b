"""Draws Atari runs' progress lines (the runner's `game A (...): frames F/..., ... mean
return (last 100 episodes) R, ...`, or pong_diagnosis/a2c_probe.py's `frames F fps ...
ret R ...`) as the mean score of the last 100 episodes against
emulator frames, one line per file, beside the uniform random policy's score. A file
of `game B (...)` lines draws game B against its own frames.

    python results/atari/plot_progress.py OUT.png LABEL=PROGRESS_FILE ...
"""

import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LINES = (re.compile(r"^game [AB] .*frames (\d+)/\d+, .*mean return \(last 100 episodes\) "
                    r"(-?[\d.]+)"),
         re.compile(r"^frames (\d+) fps \d+ ret (-?[\d.]+) "))
RANDOM_PONG = -20.48  # benchmarks/atari_probe.py --random_episodes=100 (results/atari/README.md)


def read(path: str) -> tuple[list[int], list[float]]:
    frames, scores = [], []
    with open(path) as handle:
        for line in handle:
            match = LINES[0].search(line) or LINES[1].search(line)
            if match:
                frames.append(int(match.group(1)))
                scores.append(float(match.group(2)))
    return frames, scores


def main(out: str, *specs: str) -> None:
    figure, axis = plt.subplots(figsize=(8, 4.5))
    for spec in specs:
        label, _, path = spec.partition("=")
        frames, scores = read(path)
        axis.plot([f / 1e6 for f in frames], scores, label=label, linewidth=1.2)
    axis.axhline(RANDOM_PONG, color="gray", linestyle="--", label="uniform random policy")
    axis.set_xlabel("emulator frames (millions)")
    axis.set_ylabel("Pong: mean score of the last 100 episodes")
    axis.set_ylim(bottom=-21.2)
    axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(out, dpi=100)


if __name__ == "__main__":
    main(*sys.argv[1:])
