"""TensorBoard summaries: the tags a run promises, written by compiled writers."""

import numpy as np
import tensorflow as tf

from pathnet_tf.core.model import PathNet
from pathnet_tf.runs.summaries import Summaries


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


def test_hparams_record_the_run_settings_for_tensorboard(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    from pathnet_tf.core.config import PathNetConfig
    from pathnet_tf.experiments.config import BinaryMnistConfig

    config = BinaryMnistConfig(pathnet=PathNetConfig(frozen_path="always_on"), seed=4)
    summaries = Summaries(tmp_path)
    summaries.hparams(config.to_dict())
    summaries.task_end("B_1v2", 17, 0.9)
    summaries.close()
    assert read_tags(tmp_path)["B_1v2/generations"] == [17]
    for path in tmp_path.glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                if value.tag == "_hparams_/session_start_info":
                    data = plugin_data_pb2.HParamsPluginData.FromString(
                        value.metadata.plugin_data.content)
                    hparams = data.session_start_info.hparams
    assert hparams["pathnet.frozen_path"].string_value == "always_on"
    assert hparams["evolution.tournament"].string_value == "fair"
    assert hparams["seed"].number_value == 4 and hparams["task_a"].string_value == "1,3"
    assert "data_dir" not in hparams  # None is left out
