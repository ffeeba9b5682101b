"""Genotypes, mutation statistics and the tournament (NumPy only, fast)."""

import numpy as np
import pytest

from pathnet_tf.evolution import genetic

L, M, N = 3, 10, 3


def test_random_genotype_has_distinct_modules_per_layer():
    rng = np.random.default_rng(0)
    for _ in range(200):
        genotype = genetic.random_genotype(rng, L, M, N)
        assert genotype.shape == (L, N) and genotype.dtype == np.int32
        assert genotype.min() >= 0 and genotype.max() < M
        for row in genotype:
            assert len(set(row.tolist())) == N


def test_random_genotype_rejects_more_active_than_modules():
    with pytest.raises(ValueError, match=r"num_active \(4\) must be <= num_modules \(3\)"):
        genetic.random_genotype(np.random.default_rng(0), 2, 3, 4)


def test_mutation_rate_is_one_over_LN_and_offsets_within_two():
    rng = np.random.default_rng(1)
    genotype = np.full((L, N), 5, np.int32)  # far from both ends: no clamping
    draws = 20000
    changed, offsets = 0, []
    for _ in range(draws):
        mutated = genetic.mutate(genotype, rng, M)
        delta = mutated - genotype
        changed += np.count_nonzero(delta)
        offsets += delta[delta != 0].tolist()
    # An element is picked with p = 1/(L·N) and then moves unless its offset is 0
    # (probability 1/5): expected changed fraction = (1/9)·(4/5).
    rate = changed / (draws * L * N)
    assert abs(rate - (1 / (L * N)) * 4 / 5) < 0.006
    assert set(offsets) == {-2, -1, 1, 2}
    counts = np.array([offsets.count(k) for k in (-2, -1, 1, 2)])
    assert counts.min() > 0.2 * len(offsets)  # roughly uniform


def test_mutation_clamps_or_wraps_at_the_boundaries():
    rng = np.random.default_rng(2)
    low = np.zeros((L, N), np.int32)
    high = np.full((L, N), M - 1, np.int32)
    clamped = [genetic.mutate(g, rng, M, rate=1.0) for g in (low, high) for _ in range(200)]
    assert all(c.min() >= 0 and c.max() <= M - 1 for c in clamped)
    wrapped_low = np.stack([genetic.mutate(low, rng, M, rate=1.0, boundary="wrap")
                            for _ in range(200)])
    assert set(np.unique(wrapped_low).tolist()) == {0, 1, 2, M - 2, M - 1}
    clamped_low = np.stack([genetic.mutate(low, rng, M, rate=1.0) for _ in range(200)])
    assert set(np.unique(clamped_low).tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="boundary"):
        genetic.mutate(low, rng, M, boundary="bounce")


def test_select_winner_prefers_fitness_then_loss_whatever_the_order():
    assert genetic.select_winner([0.5, 0.9]) == 1
    assert genetic.select_winner([1.0, 1.0], [0.3, 0.1]) == 1
    assert genetic.select_winner([1.0, 1.0], [0.1, 0.3]) == 0
    assert genetic.select_winner([0.9, 1.0, 1.0], [0.0, 0.2, 0.1]) == 2


def test_tournament_overwrites_loser_with_mutated_winner():
    rng = np.random.default_rng(3)
    tournament = genetic.Tournament(8, L, M, N, rng, mutation_rate=0.0)
    before = tournament.population.copy()
    candidates = tournament.ask()
    members = tournament._pending.copy()
    np.testing.assert_array_equal(candidates, before[members])
    winner = tournament.tell([0.2, 0.8])
    assert winner == 1
    # With mutation off the loser becomes an exact copy of the winner.
    np.testing.assert_array_equal(tournament.population[members[0]], before[members[1]])
    np.testing.assert_array_equal(tournament.population[members[1]], before[members[1]])
    others = np.setdiff1d(np.arange(8), members)
    np.testing.assert_array_equal(tournament.population[others], before[others])


def test_tournament_of_three_overwrites_every_loser():
    rng = np.random.default_rng(4)
    tournament = genetic.Tournament(6, L, M, N, rng, tournament_size=3, mutation_rate=0.0)
    tournament.ask()
    members = tournament._pending.copy()
    champion = tournament.population[members[2]].copy()
    assert tournament.tell([0.1, 0.2, 0.9]) == 2
    for member in members:
        np.testing.assert_array_equal(tournament.population[member], champion)


def test_tournament_validates_its_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="tournament_size"):
        genetic.Tournament(4, L, M, N, rng, tournament_size=5)
    tournament = genetic.Tournament(4, L, M, N, rng)
    with pytest.raises(RuntimeError, match="ask"):
        tournament.tell([0.1, 0.2])
    tournament.ask()
    with pytest.raises(ValueError, match="shape"):
        tournament.tell([0.1, 0.2, 0.3])


def test_same_seed_same_evolution():
    def history(seed):
        tournament = genetic.Tournament(16, L, M, N, np.random.default_rng(seed))
        for step in range(50):
            tournament.ask()
            tournament.tell([step % 2, 1 - step % 2])
        return tournament.population

    np.testing.assert_array_equal(history(5), history(5))
    assert not np.array_equal(history(5), history(6))


def test_overlap_and_module_usage():
    a = np.array([[0, 1, 2], [3, 4, 5]])
    b = np.array([[2, 1, 9], [6, 7, 3]])
    assert genetic.overlap(a, b, 10) == 3
    assert genetic.overlap(a, a, 10) == 6
    # A repeated module counts once.
    assert genetic.overlap(np.array([[1, 1, 1]]), np.array([[1, 2, 3]]), 10) == 1
    tournament = genetic.Tournament(4, 2, 10, 3, np.random.default_rng(0))
    usage = tournament.module_usage()
    assert usage.shape == (2, 10)
    np.testing.assert_allclose(usage.sum(axis=1), [3, 3])


def test_parallel_ask_uses_distinct_members_and_tell_settles_each_tournament():
    rng = np.random.default_rng(12)
    tournament = genetic.Tournament(8, L, M, N, rng, mutation_rate=0.0)
    before = tournament.population.copy()
    candidates = tournament.ask(tournaments=3)
    members = tournament._pending.copy()
    assert candidates.shape == (3, 2, L, N) and len(set(members.ravel().tolist())) == 6
    winners = tournament.tell([[0.1, 0.9], [0.8, 0.2], [0.5, 0.5]], [[0, 0], [0, 0], [0.2, 0.1]])
    np.testing.assert_array_equal(winners, [1, 0, 1])
    for k, winner in enumerate(winners):
        for member in members[k]:
            np.testing.assert_array_equal(tournament.population[member],
                                          before[members[k][winner]])
    with pytest.raises(ValueError, match="distinct members"):
        tournament.ask(tournaments=5)
