"""Reports: what many runs add up to, read from their folders (results.json,
config.json), never from a live run.

- `report`, `report_markdown`, `report_settings`: repeated binary MNIST runs ->
  summary.json, summary.md and figures (`python -m pathnet_tf.reports.report`).
- `stats`: bootstrap statistics. NumPy only.
- `plotting`: figures of repeated runs; redraws one run's figures.
- `tf1_logs`: the TF1 code's published logs, read and summarised.
- `ablation`: the TF1 gap taken apart: campaigns under protocol conditions and their
  report (`python -m pathnet_tf.reports.ablation`).
- `self_transfer`: the self-transfer report (docs/transfer.md).
- `continual_summary`: the continual-learning table of many runs.
- `split_mnist_summary`: Split MNIST runs per mode.
- `summary_cli`: the command line those two summaries share.

May import every folder above except `pbt`, `rl` and `scripts`.
"""
