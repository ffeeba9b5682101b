"""Files: everything a run writes or reads on disk, and nothing about PathNet.

- `atomic_io`: JSON, CSV and any file written atomically (a crash leaves the old file).
- `workdir`: a run's working directory, checked before anything is written; the lock.
- `checkpoint`: one `.npz` of arrays plus a JSON header, written atomically.
- `mnist_files`: MNIST's four IDX files (the bundled copy in `data/mnist`).
- `results_schema`: the version of results.json, for the readers of old runs.
- `figures`: a figure without pyplot, saved atomically (every figure of the package).

The bottom floor: imports nothing else of the package; no TensorFlow.
"""
