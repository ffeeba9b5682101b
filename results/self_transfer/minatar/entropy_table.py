"""Game B's policy entropy, value loss and moving-average return at its first progress
line and at its end, per run, from the runs' TensorBoard events (`tb/`, written with
`--tensorboard=scalars`; not committed: they are where the runs ran). A markdown table.

    python results/self_transfer/minatar/entropy_table.py CONDITION_DIR ...
"""

import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def scalars(tb: pathlib.Path) -> dict:
    import tensorflow as tf

    series = {}
    for events in sorted(tb.glob("events*")):
        for event in tf.compat.v1.train.summary_iterator(str(events)):
            for value in event.summary.value:
                if value.HasField("tensor"):
                    array = tf.make_ndarray(value.tensor)
                    if array.ndim == 0:
                        series.setdefault(value.tag, []).append((event.step, float(array)))
    return {tag: sorted(points) for tag, points in series.items()}


def main(*conditions: str) -> None:
    print("| condition | seed | entropy, first → last | value loss, first → last | "
          "return, first → last |")
    print("|---|---|---|---|---|")
    for condition in conditions:
        for run in sorted(pathlib.Path(condition).glob("runs/*/pathnet/seed_*")):
            series = scalars(run / "tb")
            cells = []
            for name in ("loss/entropy", "loss/value", "return/moving_average"):
                points = next((v for k, v in series.items()
                               if k.startswith("B_") and k.endswith(name)), None)
                cells.append("–" if not points else
                             f"{points[0][1]:.2f} → {points[-1][1]:.2f}")
            print(f"| {pathlib.Path(condition).name} | {run.name[5:]} | " + " | ".join(cells)
                  + " |")


if __name__ == "__main__":
    main(*sys.argv[1:])
