"""Exact neighbours, recall and the choice of ef, on hand-made data."""

from __future__ import annotations

import numpy as np

from analytics.recognition.index_tuning import EfTrial, choose_ef, exact_neighbours, recall_at_k


def test_exact_neighbours_l2_and_cosine() -> None:
    data = np.array([[0, 0], [1, 0], [3, 0], [0, 2], [10, 10]], dtype=np.float32)
    queries = np.array([[0.9, 0], [0, 1.8]], dtype=np.float32)
    assert exact_neighbours(data[:4], queries, 2, "L2").tolist() == [[1, 0], [3, 0]]
    # Cosine ignores length: [10, 10] is 45 degrees from both axes, [3, 0] as near [1, 0] as [1, 0] is.
    cos = exact_neighbours(data[1:], np.array([[1, 1]], dtype=np.float32), 1, "COSINE")
    assert cos.tolist() == [[3]]


def test_exact_neighbours_in_chunks_equals_at_once() -> None:
    rng = np.random.default_rng(1)
    data, queries = rng.normal(size=(500, 8)).astype(np.float32), rng.normal(size=(37, 8)).astype(np.float32)
    assert (exact_neighbours(data, queries, 5, "L2", chunk=4) == exact_neighbours(data, queries, 5, "L2", chunk=64)).all()


def test_recall_and_choice() -> None:
    assert recall_at_k([["a", "b"], ["c", "x"]], [["a", "b"], ["c", "d"]], 2) == 0.75
    trials = [EfTrial(16, 0.81, 1, 2), EfTrial(32, 0.95, 1, 2), EfTrial(64, 0.99, 2, 3)]
    assert choose_ef(trials, 0.95) == trials[1]
    assert choose_ef(trials, 0.999) is None
