"""Tests for pathnet_tf.pbt.decisions: PBT exploit/explore decisions, NumPy only."""

import json
import math

import numpy as np
import pytest

from pathnet_tf.pbt.decisions import PBT, Decision, Hyperparameter, PBTConfig, num_in_quantile

LR = Hyperparameter("learning_rate", 1e-4, 0.1, bounds=(1e-5, 0.1))
KEEP = Hyperparameter("keep_prob", 0.5, 0.99, bounds=(0.0, 1.0))


def make_pbt(seed=0, **config):
    return PBT([LR, KEEP], PBTConfig(**config), np.random.default_rng(seed))


def test_initial_hyperparameters_are_drawn_within_the_priors():
    pbt = make_pbt()
    population = pbt.initial_hyperparameters(200)
    assert len(population) == 200 == pbt.population_size
    lrs = np.array([h["learning_rate"] for h in population])
    keeps = np.array([h["keep_prob"] for h in population])
    assert lrs.min() >= 1e-4 and lrs.max() <= 0.1
    assert keeps.min() >= 0.5 and keeps.max() <= 0.99
    assert len(set(lrs.tolist())) == 200  # Independent draws, not one shared value.
    # Uniform: mean near the middle of the range.
    assert abs(keeps.mean() - 0.745) < 0.04


def test_log_uniform_prior_is_uniform_in_log():
    space = [Hyperparameter("lr", 1e-5, 1e-1, prior="log_uniform")]
    pbt = PBT(space, rng=np.random.default_rng(1))
    values = np.array([h["lr"] for h in pbt.initial_hyperparameters(2000)])
    logs = np.log10(values)
    assert logs.min() >= -5 and logs.max() <= -1
    assert abs(logs.mean() - (-3.0)) < 0.1
    # A quarter of the log range holds about a quarter of the draws.
    assert abs(np.mean(logs < -4) - 0.25) < 0.04


def test_truncation_bottom_copies_top_and_others_keep_their_own():
    pbt = make_pbt()
    before = pbt.initial_hyperparameters(10)
    scores = np.arange(10.0)  # Member 9 is best, member 0 worst.
    decisions = pbt.step(scores)
    assert [d.member for d in decisions] == list(range(10))
    for d in decisions:
        assert isinstance(d, Decision)
        assert d.ready
        if d.member in (0, 1):
            assert d.copied_from in (8, 9)
            assert d.mutation != ""
        else:
            assert d.copied_from is None
            assert d.mutation == ""
            # Bug 2 of the reference: a member not exploited keeps its own values.
            assert d.hyperparameters == before[d.member]
    assert pbt.hyperparameters == [d.hyperparameters for d in decisions]


def test_returned_dicts_are_copies_not_shared_state():
    pbt = make_pbt()
    population = pbt.initial_hyperparameters(4)
    original = pbt.hyperparameters
    population[3]["learning_rate"] = 123.0
    decisions = pbt.step([0.0, 1.0, 2.0, 3.0])
    decisions[2].hyperparameters["keep_prob"] = -1.0
    assert pbt.hyperparameters[3]["learning_rate"] == original[3]["learning_rate"]
    assert pbt.hyperparameters[2]["keep_prob"] == original[2]["keep_prob"]
    # Parent and child never share one dict either.
    child = next(d for d in decisions if d.copied_from is not None)
    assert child.hyperparameters is not decisions[child.copied_from].hyperparameters


def test_explore_multiplies_each_parent_value_by_a_factor():
    pbt = make_pbt(seed=3)
    before = pbt.initial_hyperparameters(10)
    decisions = pbt.step(np.arange(10.0))
    children = [d for d in decisions if d.copied_from is not None]
    assert len(children) == 2
    for d in children:
        parent = before[d.copied_from]
        descriptions = d.mutation.split(";")
        assert len(descriptions) == 2
        for name, description in zip(("learning_rate", "keep_prob"), descriptions, strict=True):
            ratio = d.hyperparameters[name] / parent[name]
            factor = float(description.split("*")[1].removesuffix("(clipped)"))
            assert description.startswith(name + "*")
            assert factor in (0.8, 1.2)
            if "(clipped)" not in description:
                assert ratio == pytest.approx(factor)


def test_exploit_and_explore_statistics():
    pbt = make_pbt(seed=4)
    pbt.initial_hyperparameters(10)
    parents, factors = [], []
    for _ in range(500):
        # Reset to mid-range values so that clipping never interferes.
        pbt._hyperparameters = [{"learning_rate": 0.01, "keep_prob": 0.7} for _ in range(10)]
        for d in pbt.step(np.arange(10.0)):
            if d.copied_from is not None:
                parents.append(d.copied_from)
                factors.append(d.hyperparameters["learning_rate"] / 0.01)
                factors.append(d.hyperparameters["keep_prob"] / 0.7)
    assert len(parents) == 1000
    # Parent uniform over the top two; factor uniform over {0.8, 1.2}.
    assert abs(np.mean(np.array(parents) == 9) - 0.5) < 0.05
    factors = np.round(factors, 6)
    assert set(factors.tolist()) == {0.8, 1.2}
    assert abs(np.mean(factors == 1.2) - 0.5) < 0.04


def test_resample_probability_draws_from_the_prior():
    pbt = make_pbt(seed=5, resample_probability=0.5)
    pbt.initial_hyperparameters(10)
    resampled = perturbed = 0
    for _ in range(300):
        pbt._hyperparameters = [{"learning_rate": 0.01, "keep_prob": 0.7} for _ in range(10)]
        for d in pbt.step(np.arange(10.0)):
            if d.copied_from is None:
                continue
            for part in d.mutation.split(";"):
                name = part.split("=")[0].split("*")[0]
                value = d.hyperparameters[name]
                if part.endswith("=resampled"):
                    resampled += 1
                    low, high = (1e-4, 0.1) if name == "learning_rate" else (0.5, 0.99)
                    assert low <= value <= high
                else:
                    perturbed += 1
    total = resampled + perturbed
    assert total == 1200
    assert abs(resampled / total - 0.5) < 0.05


def test_resample_probability_one_never_perturbs():
    pbt = make_pbt(seed=6, resample_probability=1.0)
    pbt.initial_hyperparameters(10)
    decisions = pbt.step(np.arange(10.0))
    mutations = [d.mutation for d in decisions if d.copied_from is not None]
    assert mutations == ["learning_rate=resampled;keep_prob=resampled"] * 2


def test_repeated_perturbation_stays_within_bounds():
    # Each step the latest child scores best, so the factor compounds.
    for factor, keep_edge, lr_edge in ((1.5, 1.0, 0.1), (0.5, 0.1, 1e-5)):
        space = [
            Hyperparameter("keep_prob", 0.5, 0.99, bounds=(0.1, 1.0)),
            Hyperparameter("lr", 1e-4, 1e-2, prior="log_uniform", bounds=(1e-5, 0.1)),
        ]
        pbt = PBT(space, PBTConfig(perturb_factors=(factor,)), rng=7)
        pbt.initial_hyperparameters(4)
        leader = 3
        for _ in range(40):
            scores = np.zeros(4)
            scores[leader] = 1.0
            decisions = pbt.step(scores)
            for d in decisions:
                assert 0.1 <= d.hyperparameters["keep_prob"] <= 1.0
                assert 1e-5 <= d.hyperparameters["lr"] <= 0.1
            (leader,) = [d.member for d in decisions if d.copied_from is not None]
        last = decisions[leader]
        assert last.hyperparameters == {"keep_prob": keep_edge, "lr": lr_edge}
        assert last.mutation == f"keep_prob*{factor:g}(clipped);lr*{factor:g}(clipped)"


def test_repeated_growth_reaches_exactly_the_upper_bound():
    space = [Hyperparameter("x", 1.0, 2.0, bounds=(0.5, 3.0))]
    pbt = PBT(space, PBTConfig(perturb_factors=(1.2,)), rng=0)
    pbt.initial_hyperparameters(2)
    values = []
    for _ in range(30):
        # Member 0 always loses, so it copies member 1 and grows by 1.2.
        decisions = pbt.step([0.0, 1.0])
        values.append(decisions[0].hyperparameters["x"])
        pbt._hyperparameters[1] = dict(decisions[0].hyperparameters)
    assert max(values) == 3.0
    assert values[-1] == 3.0


def test_ready_steps_spaces_exploits_per_member():
    pbt = make_pbt(ready_steps=3)
    pbt.initial_hyperparameters(10)
    copies_per_step = []
    for _ in range(9):
        decisions = pbt.step(np.arange(10.0))
        copies_per_step.append(sum(d.copied_from is not None for d in decisions))
        assert all(d.ready == (pbt.num_steps % 3 == 0) for d in decisions)
    assert copies_per_step == [0, 0, 2, 0, 0, 2, 0, 0, 2]


def test_step_with_several_steps_counts_them():
    pbt = make_pbt(ready_steps=4)
    pbt.initial_hyperparameters(10)
    assert not any(d.ready for d in pbt.step(np.arange(10.0), steps=3))
    assert all(d.ready for d in pbt.step(np.arange(10.0), steps=1))
    assert pbt.num_steps == 4


def test_truncation_sizes():
    assert num_in_quantile(10, 0.2) == 2
    assert num_in_quantile(4, 0.2) == 1
    assert num_in_quantile(10, 0.3) == 3
    assert num_in_quantile(3, 0.5) == 1
    assert num_in_quantile(1, 0.5) == 0


def test_single_member_never_copies():
    pbt = make_pbt()
    before = pbt.initial_hyperparameters(1)
    decisions = pbt.step([0.5])
    assert decisions[0].copied_from is None
    assert decisions[0].hyperparameters == before[0]


def test_nan_scores_rank_worst():
    pbt = make_pbt(seed=2)
    pbt.initial_hyperparameters(5)
    # 0.2 of 5 -> one member: the NaN one is the bottom, member 4 the top.
    decisions = pbt.step([0.5, 0.6, math.nan, 0.7, 0.9])
    assert [d.copied_from for d in decisions] == [None, None, 4, None, None]


def test_ties_are_broken_at_random():
    bottoms = set()
    for seed in range(30):
        pbt = make_pbt(seed=seed)
        pbt.initial_hyperparameters(4)
        decisions = pbt.step([1.0, 1.0, 1.0, 1.0])
        (child,) = [d.member for d in decisions if d.copied_from is not None]
        bottoms.add(child)
    assert bottoms == {0, 1, 2, 3}


def test_binary_tournament_copies_only_strictly_better():
    pbt = make_pbt(seed=8, exploit="binary_tournament")
    pbt.initial_hyperparameters(6)
    scores = np.array([0.1, 0.5, 0.3, 0.9, 0.3, 0.2])
    seen_copy = False
    for _ in range(50):
        pbt._hyperparameters = [{"learning_rate": 0.01, "keep_prob": 0.7} for _ in range(6)]
        for d in pbt.step(scores):
            if d.copied_from is None:
                continue
            seen_copy = True
            assert d.copied_from != d.member
            assert scores[d.copied_from] > scores[d.member]
            assert d.member != 3  # The best never copies.
    assert seen_copy


def test_binary_tournament_two_members_worse_always_copies():
    pbt = make_pbt(seed=9, exploit="binary_tournament")
    pbt.initial_hyperparameters(2)
    decisions = pbt.step([0.2, 0.8])
    assert decisions[0].copied_from == 1
    assert decisions[1].copied_from is None


def test_same_seed_same_decisions():
    runs = []
    for _ in range(2):
        pbt = make_pbt(seed=11, resample_probability=0.3)
        pbt.initial_hyperparameters(10)
        scores_rng = np.random.default_rng(0)
        runs.append(
            [
                (d.copied_from, d.hyperparameters, d.mutation)
                for _ in range(5)
                for d in pbt.step(scores_rng.random(10))
            ]
        )
    assert runs[0] == runs[1]


def test_state_dict_round_trip_resumes_identically():
    pbt = make_pbt(seed=12, resample_probability=0.3, ready_steps=2)
    pbt.initial_hyperparameters(10)
    pbt.step(np.arange(10.0))
    state = json.loads(json.dumps(pbt.state_dict()))  # Must survive JSON.
    resumed = make_pbt(seed=999, resample_probability=0.3, ready_steps=2)
    resumed.load_state_dict(state)
    assert resumed.hyperparameters == pbt.hyperparameters
    assert resumed.num_steps == 1
    for _ in range(4):
        scores = np.random.default_rng(pbt.num_steps).random(10)
        assert resumed.step(scores) == pbt.step(scores)


def test_load_state_dict_rejects_another_space():
    pbt = make_pbt()
    pbt.initial_hyperparameters(3)
    other = PBT([LR], rng=0)
    with pytest.raises(ValueError, match="keep_prob"):
        other.load_state_dict(pbt.state_dict())


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "x", "low": 1.0, "high": 1.0}, r"low \(1.0\) must be < high"),
        (
            {"name": "x", "low": 0.0, "high": 1.0, "prior": "log_uniform"},
            "needs low > 0",
        ),
        ({"name": "x", "low": 0.0, "high": 1.0, "prior": "normal"}, "prior 'normal'"),
        ({"name": "x", "low": 0.2, "high": 1.0, "bounds": (0.3, 1.0)}, "must contain"),
        (
            {"name": "x", "low": 0.2, "high": 1.0, "bounds": (0.0,)},
            "must be two numbers",
        ),
        ({"name": "", "low": 0.2, "high": 1.0}, "non-empty string"),
        ({"name": "x", "low": float("nan"), "high": 1.0}, "finite number"),
    ],
)
def test_hyperparameter_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Hyperparameter(**kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"ready_steps": 0}, "ready_steps 0"),
        ({"exploit": "roulette"}, "exploit 'roulette'"),
        (
            {"truncation_fraction": 0.6},
            r"truncation_fraction 0.6 must be .* \(0, 0.5\]",
        ),
        ({"truncation_fraction": 0.0}, "truncation_fraction 0.0"),
        ({"perturb_factors": (0.8, -1.2)}, "perturb_factors"),
        ({"perturb_factors": ()}, "perturb_factors"),
        ({"resample_probability": 1.5}, "resample_probability 1.5"),
    ],
)
def test_config_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        PBTConfig(**kwargs)


def test_step_validation():
    pbt = make_pbt()
    with pytest.raises(ValueError, match="initial_hyperparameters"):
        pbt.step([1.0])
    pbt.initial_hyperparameters(3)
    with pytest.raises(ValueError, match="must be 3 numbers"):
        pbt.step([1.0, 2.0])
    with pytest.raises(ValueError, match="steps 0"):
        pbt.step([1.0, 2.0, 3.0], steps=0)
    with pytest.raises(ValueError, match="population_size 0"):
        pbt.initial_hyperparameters(0)
    with pytest.raises(ValueError, match="unique"):
        PBT([LR, LR], rng=0)
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        PBT([LR], rng="seed")
