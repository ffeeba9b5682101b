"""Draws game-B runs from their progress lines (the runner's `game B (...): frames
F/..., ... mean return (last 100 episodes) R, ..., workers on game A's path K/W`):
above, the mean score of the last 100 episodes against game B's emulator frames; below,
the share of the workers whose pathway is game A's path (PathNet's runs only). A file
of `game A` lines is drawn up to the last frame of the game-B runs (the same network
learning the game from scratch).

    python results/atari/plot_game_b.py OUT.png YLABEL LABEL=PROGRESS_FILE ...
"""

import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LINE = re.compile(r"^game ([AB]) .*frames (\d+)/\d+, .*mean return \(last 100 episodes\) "
                  r"(-?[\d.]+|n/a)(?:.*workers on game A's path (\d+)/(\d+))?")


def read(path: str) -> dict:
    """`{"game": "A" or "B", "frames": [...], "scores": [...], "held": [(frames,
    share), ...]}` of one progress file (lines before the first score are skipped)."""
    run = {"game": "B", "frames": [], "scores": [], "held": []}
    with open(path) as handle:
        for line in handle:
            match = LINE.search(line)
            if not match:
                continue
            run["game"], frames = match.group(1), int(match.group(2))
            if match.group(4) is not None:
                run["held"].append((frames, int(match.group(4)) / int(match.group(5))))
            if match.group(3) != "n/a":
                run["frames"].append(frames)
                run["scores"].append(float(match.group(3)))
    return run


def main(out: str, ylabel: str, *specs: str) -> None:
    runs = [(label, read(path)) for label, _, path in (s.partition("=") for s in specs)]
    end = max((max(r["frames"]) for _, r in runs if r["game"] == "B" and r["frames"]),
              default=None)
    figure, (score, held) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True,
                                         gridspec_kw={"height_ratios": [2, 1]})
    for label, run in runs:
        pairs = [(f, s) for f, s in zip(run["frames"], run["scores"])
                 if end is None or run["game"] == "B" or f <= end]
        line, = score.plot([f / 1e6 for f, _ in pairs], [s for _, s in pairs],
                           label=label, linewidth=1.2)
        if run["held"] and any(share for _, share in run["held"]):
            held.plot([f / 1e6 for f, _ in run["held"]], [s for _, s in run["held"]],
                      color=line.get_color(), linewidth=1.2)
    score.set_ylabel(ylabel)
    score.legend(fontsize=7, loc="best")
    held.set_ylabel("workers on\ngame A's path")
    held.set_ylim(-0.05, 1.05)
    held.set_xlabel("game B's emulator frames (millions)")
    figure.tight_layout()
    figure.savefig(out, dpi=100)


if __name__ == "__main__":
    main(*sys.argv[1:])
