"""TensorBoard summaries: the tags a run promises, written by compiled writers."""

import numpy as np
import tensorflow as tf

from pathnet_tf.model import PathNet
from pathnet_tf.summaries import Summaries


def read_tags(logdir):
    tags = {}
    for path in logdir.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    return tags


def test_generation_images_and_histograms_on_their_cadence(tmp_path):
    model = PathNet(6, 2, 4, 2, 5, task_classes=[2])
    summaries = Summaries(tmp_path, summary_every=1, image_every=2, histogram_every=3)
    path = np.array([[0, 1], [2, 3]], np.int32)
    for step in range(1, 7):
        summaries.generation("A_1v3", step, [0.5, 0.75], 1, 0.75,
                             lambda: np.full((2, 4), 0.5), path, 4)
        summaries.histograms("A_1v3", step, model)
    summaries.close()
    tags = read_tags(tmp_path)
    for tag in ("A_1v3/fitness/candidate_0", "A_1v3/fitness/candidate_1",
                "A_1v3/fitness/winner", "A_1v3/fitness/best", "A_1v3/winner"):
        assert tags[tag] == [1, 2, 3, 4, 5, 6]
    assert tags["A_1v3/module_usage"] == [2, 4, 6]
    assert tags["A_1v3/best_path"] == [2, 4, 6]
    assert tags["A_1v3/layer_0/kernel"] == [3, 6]
    assert tags["A_1v3/layer_1/bias"] == [3, 6]
    assert set(summaries.tracing_counts().values()) == {1}
