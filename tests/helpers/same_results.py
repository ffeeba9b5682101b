"""Compares the results.json files of two run trees, timings aside: did a change of
the code change any result?

    .venv/bin/python tests/helpers/same_results.py BEFORE_DIR AFTER_DIR [--new KEY ...]

Every results.json under BEFORE_DIR is matched with the one at the same relative path
under AFTER_DIR. `wall_seconds` (the run's and each task's) and `wall_time_s` (a PBT
run's) are dropped; keys named with --new (keys the newer code adds) are dropped from
AFTER's files, at the top level and in each task's entry. Prints one line per pair and
exits 1 if any pair differs or is missing.
"""

import argparse
import json
import pathlib
import sys


def without_timings(results: dict) -> dict:
    results.pop("wall_seconds", None)
    results.pop("wall_time_s", None)  # the PBT runs' name for it
    for value in results.values():
        tasks = value if isinstance(value, list) else [value]
        for task in tasks:
            if isinstance(task, dict):
                task.pop("wall_seconds", None)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=pathlib.Path)
    parser.add_argument("after", type=pathlib.Path)
    parser.add_argument("--new", nargs="*", default=[], help="keys only AFTER has")
    args = parser.parse_args(argv)
    differing = 0
    files = sorted(args.before.rglob("results.json"))
    for before in files:
        relative = before.relative_to(args.before)
        after = args.after / relative
        if not after.exists():
            print(f"missing  {relative}")
            differing += 1
            continue
        old = without_timings(json.loads(before.read_text()))
        new = without_timings(json.loads(after.read_text()))
        for key in args.new:
            new.pop(key, None)
            for value in new.values():
                for task in value if isinstance(value, list) else [value]:
                    if isinstance(task, dict):
                        task.pop(key, None)
        same = old == new
        differing += not same
        print(f"{'same    ' if same else 'DIFFERS '} {relative}")
    print(f"{len(files) - differing} of {len(files)} identical (timings aside)")
    return 1 if differing or not files else 0


if __name__ == "__main__":
    sys.exit(main())
