"""The two helpers every figure of the package uses: a figure without pyplot, and an
atomic save. matplotlib's object-oriented API only (`Figure`, rendered by Agg); no
TensorFlow. Both the report's figures (`plotting.py`) and one run's (`run_figures.py`)
import them from here, so neither imports the other for them.
"""

from __future__ import annotations

import pathlib

from matplotlib.figure import Figure

from pathnet_tf.files import atomic_io


def new_figure(width: float, height: float, panels: int = 1, columns: int = 1):
    """A figure and a flat array of `panels` axes, `columns` per row (a panel is
    `width` × `height` inches), without pyplot. Spare axes of the last row are hidden."""
    columns = max(1, min(columns, panels))
    rows = -(-panels // columns)
    figure = Figure(figsize=(width * columns, height * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for spare in axes[panels:]:
        spare.set_axis_off()
    return figure, axes[:panels]


def save_figure(figure: Figure, path) -> pathlib.Path:
    """Renders with Agg (PNG from the suffix) to a temporary file, then renames."""
    path = pathlib.Path(path)
    atomic_io.write_atomic(path, lambda temporary: figure.savefig(temporary, dpi=100))
    return path
