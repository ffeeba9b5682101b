"""The command line the summaries of many runs share (`python -m
pathnet_tf.reports.<summary> ROOT [--out DIR]`): read the runs below ROOT, write
summary.json and summary.md (and whatever else the summary draws) into DIR, print
the Markdown; a folder that cannot be summarised is one line on stderr and status 1."""

from __future__ import annotations

import argparse
import pathlib
import sys
from collections.abc import Callable, Sequence

from pathnet_tf.files import atomic_io


def main(argv: Sequence[str] | None, prog: str, description: str, out_help: str,
         summarize: Callable[[str], dict], markdown: Callable[[dict], str],
         draw: Callable[[dict, pathlib.Path], object] | None = None) -> int:
    """Parses ROOT and --out, then `summarize(ROOT)` -> summary.json, `markdown(summary)`
    -> summary.md and stdout, `draw(summary, out)` if given. Returns the exit status."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("root", help="a folder holding the runs' workdirs")
    parser.add_argument("--out", help=f"where to write {out_help} (default: ROOT)")
    args = parser.parse_args(argv)
    try:
        summary = summarize(args.root)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    out = pathlib.Path(args.out or args.root)
    atomic_io.write_json(out / "summary.json", summary)
    atomic_io.write_text(out / "summary.md", markdown(summary))
    if draw is not None:
        draw(summary, out)
    print(markdown(summary))
    return 0
