"""HNSW's search ``ef`` chosen by measurement: the smallest ef whose recall@k against exact search of the
same collection reaches a target (``selene milvus calibrate``; the descriptor benchmark uses it too).

Queries are stored descriptors (a face seen again lands next to its stored self and its look-alikes), and
the truth is an exact search over every descriptor of the collection, so the recall is the collection's own.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EF_STEPS = (16, 32, 64, 128, 256, 512, 1024)
_PAGE = 10_000


@dataclass(frozen=True)
class EfTrial:
    ef: int
    recall: float
    p50_ms: float
    p99_ms: float


def exact_neighbours(
    data: np.ndarray, queries: np.ndarray, k: int, metric: str, chunk: int = 16, norms: np.ndarray | None = None
) -> np.ndarray:
    """Row indices of each query's k nearest rows, nearest first (metric "L2" or "COSINE"); queries go in
    chunks so that a million rows never need more than chunk x rows floats at once. ``norms``: the rows'
    squared L2 norms, when the caller searches the same rows many times."""
    if metric == "COSINE":
        data = data / np.linalg.norm(data, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    elif norms is None:
        norms = np.einsum("ij,ij->i", data, data)
    out = []
    for start in range(0, len(queries), chunk):
        part = queries[start : start + chunk]
        # L2: |x|² - 2 q·x (+ |q|², the same for every row); cosine: -q·x
        scores = -(part @ data.T) if metric == "COSINE" else norms[None, :] - 2 * (part @ data.T)
        best = np.argpartition(scores, k, axis=1)[:, :k]
        order = np.take_along_axis(scores, best, axis=1).argsort(axis=1)
        out.append(np.take_along_axis(best, order, axis=1))
    return np.concatenate(out)


def recall_at_k(found: Sequence[Sequence[Any]], truth: Sequence[Sequence[Any]], k: int) -> float:
    return statistics.mean(len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth, strict=True))


def choose_ef(trials: Sequence[EfTrial], target: float) -> EfTrial | None:
    """The cheapest trial that reaches the target recall; None when none does."""
    reaching = [t for t in trials if t.recall >= target]
    return min(reaching, key=lambda t: t.ef) if reaching else None


def read_vectors(client: Any, name: str, key: str) -> tuple[list[Any], np.ndarray]:
    """Every (primary key, vector) of a collection, page by page."""
    keys: list[Any] = []
    vectors: list[list[float]] = []
    iterator = client.query_iterator(name, batch_size=_PAGE, output_fields=[key, "vector"], consistency_level="Session")
    try:
        while page := iterator.next():
            keys += [row[key] for row in page]
            vectors += [row["vector"] for row in page]
    finally:
        iterator.close()
    return keys, np.asarray(vectors, dtype=np.float32)


def trial(
    client: Any, name: str, metric: str, key: str, queries: np.ndarray, truth: list[list[Any]], k: int, ef: int
) -> EfTrial:
    params = {"metric_type": metric, "params": {"ef": max(ef, k)}}
    times, found = [], []
    for query in queries:
        began = time.perf_counter()
        hits = client.search(
            name, data=[query.tolist()], limit=k, search_params=params, output_fields=[key], consistency_level="Session"
        )
        times.append(time.perf_counter() - began)
        found.append([hit["entity"][key] for hit in hits[0]])
    cuts = statistics.quantiles(times, n=100)
    return EfTrial(ef, recall_at_k(found, truth, k), cuts[49] * 1000, cuts[98] * 1000)


def calibrate(
    client: Any, name: str, metric: str, *, key: str = "face_id", k: int = 5, queries: int = 200,
    efs: Sequence[int] = EF_STEPS, target: float | None = None, seed: int = 7,
) -> list[EfTrial]:
    """Recall@k and latency of each ef in ``efs``; stops at the first ef that reaches ``target``."""
    keys, data = read_vectors(client, name, key)
    if len(keys) <= k:
        raise ValueError(f"{name} holds {len(keys)} descriptors: too few to measure recall@{k}")
    picks = np.random.default_rng(seed).choice(len(keys), size=min(queries, len(keys)), replace=False)
    probe = data[picks]
    truth = [[keys[i] for i in row] for row in exact_neighbours(data, probe, k, metric)]
    return sweep(client, name, metric, key, probe, truth, k, efs, target)


def sweep(
    client: Any, name: str, metric: str, key: str, queries: np.ndarray, truth: list[list[Any]], k: int,
    efs: Sequence[int], target: float | None,
) -> list[EfTrial]:
    """One trial per ef in ``efs``, stopping at the first that reaches ``target``."""
    trials = []
    for ef in efs:
        trials.append(trial(client, name, metric, key, queries, truth, k, ef))
        if target is not None and trials[-1].recall >= target:
            break
    return trials
