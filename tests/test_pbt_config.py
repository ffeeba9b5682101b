"""Tests for pathnet_tf.pbt.config: the shipped JSON configs and their validation."""

import copy
import json
import pathlib

import pytest

from pathnet_tf.pbt.config import ConfigError, load_config, parse_config
from pathnet_tf.pbt.decisions import Hyperparameter, PBTConfig

CONFIG_DIR = pathlib.Path(__file__).resolve().parent.parent / "config"
SHIPPED = ("fc", "conv", "fc_PBT", "conv_PBT", "tiny_PBT")


def tiny():
    return json.loads((CONFIG_DIR / "tiny_PBT.json").read_text())


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_configs_load_and_round_trip(name):
    config = load_config(CONFIG_DIR / f"{name}.json")
    assert config.model == ("conv" if name.startswith("conv") else "fc")
    assert parse_config(json.loads(json.dumps(config.to_dict()))) == config


def test_reference_protocol_values():
    config = load_config(CONFIG_DIR / "conv_PBT.json")
    assert (config.population_size, config.rounds, config.epochs_per_round) == (
        10,
        50,
        1,
    )
    assert (config.batch_size, config.weight_decay) == (200, 1e-5)
    assert config.validation_size == 5000 and config.train_subset is None
    lr = config.hyperparameters["learning_rate"]
    keep = config.hyperparameters["keep_prob"]
    assert (lr.prior, lr.low, lr.high) == ("uniform", 1e-4, 0.1)
    assert (keep.prior, keep.low, keep.high, keep.bounds) == (
        "uniform",
        0.5,
        0.99,
        (0.0, 1.0),
    )
    assert config.pbt == PBTConfig(
        ready_steps=1,
        exploit="truncation",
        truncation_fraction=0.2,
        perturb_factors=(0.8, 1.2),
        resample_probability=0.0,
    )


def test_vanilla_configs_have_one_model_and_fixed_values():
    for name in ("fc", "conv"):
        config = load_config(CONFIG_DIR / f"{name}.json")
        assert config.pbt is None and config.population_size == 1
        assert config.searched == []
        assert set(config.fixed) == {"learning_rate", "keep_prob"}


def test_tiny_config_is_tiny():
    config = load_config(CONFIG_DIR / "tiny_PBT.json")
    assert (config.population_size, config.rounds, config.train_subset) == (4, 3, 2000)


def test_defaults_are_filled_in():
    raw = {
        "model": "fc",
        "population_size": 2,
        "rounds": 1,
        "hyperparameters": {
            "learning_rate": {"low": 1e-4, "high": 1e-2},
            "keep_prob": 0.9,
        },
        "pbt": {},
    }
    config = parse_config(raw)
    assert config.batch_size == 200 and config.weight_decay == 1e-5
    assert config.validation_size == 5000 and config.seed == 0
    assert config.pbt == PBTConfig()
    assert config.hyperparameters["learning_rate"] == Hyperparameter("learning_rate", 1e-4, 1e-2)
    assert config.fixed == {"keep_prob": 0.9}


def _with(change):
    raw = tiny()
    change(raw)
    return raw


BAD = [
    (lambda r: r.update(epochs=3), "unknown key 'epochs'; allowed keys: description"),
    (lambda r: r["pbt"].update(quantile=0.2), "unknown key pbt.'quantile'"),
    (
        lambda r: r["hyperparameters"].update(momentum=0.9),
        "unknown key hyperparameters.'momentum'",
    ),
    (
        lambda r: r["hyperparameters"]["keep_prob"].update(mean=0.5),
        "unknown key hyperparameters.keep_prob.'mean'",
    ),
    (lambda r: r.pop("rounds"), "missing required key"),
    (lambda r: r.update(model="resnet"), "model 'resnet' must be one of fc, conv"),
    (lambda r: r.update(rounds=0), r"rounds 0 must be an integer >= 1"),
    (lambda r: r.update(population_size=2.5), "population_size 2.5 must be an integer"),
    (lambda r: r.update(batch_size=True), "batch_size True must be an integer"),
    (lambda r: r.update(weight_decay=-1.0), "weight_decay -1.0 must be a finite"),
    (
        lambda r: r.update(validation_size=60000),
        r"validation_size 60000 .* \[1, 59999\]",
    ),
    (
        lambda r: r.update(train_subset=56000),
        r"train_subset 56000 must be an integer in \[1, 55000\]",
    ),
    (lambda r: r.update(lr_plot_worker=4), r"lr_plot_worker 4 .* \[0, 3\]"),
    (lambda r: r.update(population_size=1), "population_size 1 must be >= 2 when pbt"),
    (
        lambda r: r["hyperparameters"]["learning_rate"].update(low=0.2, high=0.1),
        r"low \(0.2\) must be < high \(0.1\)",
    ),
    (
        lambda r: r["hyperparameters"]["learning_rate"].update(low=0.0),
        "needs low > 0",
    ),
    (
        lambda r: r["hyperparameters"]["keep_prob"].update(high=1.5, bounds=[0, 2]),
        r"keep_prob.high 1.5 must be in \(0, 1\]",
    ),
    (
        lambda r: r["hyperparameters"]["keep_prob"].update(bounds=[0.6, 1.0]),
        "must contain the prior's range",
    ),
    (
        lambda r: r["hyperparameters"]["learning_rate"].update(prior="normal"),
        "prior 'normal' must be one of uniform, log_uniform",
    ),
    (
        lambda r: r["hyperparameters"].update(keep_prob=0.0),
        r"hyperparameters.keep_prob 0.0 must be in \(0, 1\]",
    ),
    (
        lambda r: r["hyperparameters"].update(learning_rate="fast"),
        "must be a number \\(fixed\\) or an object",
    ),
    (lambda r: r["pbt"].update(truncation_fraction=0.7), "truncation_fraction 0.7"),
    (lambda r: r["pbt"].update(perturb_factors=[0.8, 0]), "perturb_factors"),
    (lambda r: r["pbt"].update(perturb_factors=1.2), "perturb_factors 1.2"),
    (lambda r: r["pbt"].update(resample_probability=2), "resample_probability 2"),
    (lambda r: r["pbt"].update(exploit="pairwise"), "exploit 'pairwise' must be"),
    (lambda r: r["pbt"].update(ready_steps=0), "ready_steps 0"),
    (
        lambda r: r.update(hyperparameters={"learning_rate": 0.001, "keep_prob": 0.5}),
        "pbt needs at least one hyperparameter with a prior",
    ),
]


@pytest.mark.parametrize("change, message", BAD)
def test_bad_configs_stop_with_one_clear_line(change, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_config(_with(change), source="config/x.json")
    text = str(caught.value)
    assert text.startswith("config config/x.json: ")
    assert "\n" not in text and text.endswith(".")


def test_unreadable_and_invalid_json(tmp_path):
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"model": "fc",}')
    with pytest.raises(ConfigError, match=r"broken.json is not valid JSON"):
        load_config(broken)
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be a JSON object, not list"):
        load_config(listed)


def test_vanilla_may_search_by_random_draws():
    raw = copy.deepcopy(tiny())
    raw["pbt"] = None
    config = parse_config(raw)
    assert config.pbt is None
    assert [h.name for h in config.searched] == ["learning_rate", "keep_prob"]
