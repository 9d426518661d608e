"""Descriptor search in Milvus against exact numpy search of the same vectors, as the face store does it.

For each dimension (128, 512), data kind and size (100k, 1M descriptors):
  - numpy exact top-5 (the baseline): per-query latency, and the true neighbours;
  - insert throughput into Milvus (batches of 5000) with the store's FLAT index;
  - Milvus FLAT and Milvus ANN (the index the store switches to past ``ann_threshold``, built by the
    store's own ``rebuild_index``): search p50/p99 per single-vector query and recall@5 against numpy.
Data: "random" is Gaussian vectors scaled to unit length (the hard case for ANN), queries fresh random
vectors; "clustered" is 1000 Gaussian clusters, queries noisy copies of stored vectors (like re-seen faces).
Metric L2, as dlib's version 1001. Milvus Lite file in a temp dir (or SELENE_MILVUS_URI for a server).
Configurations past --budget-s seconds of wall time are skipped and listed as not run.
Run: `python -m bench.descriptors [--sizes 100000,1000000] [--dims 128,512] [--kinds random,clustered] [--budget-s 900]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from analytics.recognition.face_store import (
    index_params,
    index_type,
    rebuild_index,
    search_params,
)
from analytics.recognition.milvus import open_milvus
from bench.common import record, table
from infra.settings import MilvusSettings

K = 5
QUERIES = 200
BATCH = 5000
SETTINGS = MilvusSettings()


def dataset(kind: str, n: int, dim: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if kind == "random":
        data = rng.standard_normal((n, dim), dtype=np.float32)
        queries = rng.standard_normal((QUERIES, dim), dtype=np.float32)
        return unit(data), unit(queries)
    centres = rng.standard_normal((1000, dim), dtype=np.float32)
    data = centres[rng.integers(0, 1000, n)] + rng.standard_normal((n, dim), dtype=np.float32) * 0.3
    picks = data[rng.integers(0, n, QUERIES)]
    return data, picks + rng.standard_normal(picks.shape, dtype=np.float32) * 0.05


def unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def timed(fn: Callable[[np.ndarray], list[int]], queries: np.ndarray) -> tuple[list[float], list[list[int]]]:
    times, found = [], []
    for q in queries:
        began = time.perf_counter()
        found.append(fn(q))
        times.append(time.perf_counter() - began)
    return times, found


def exact(data: np.ndarray) -> Callable[[np.ndarray], list[int]]:
    norms = np.einsum("ij,ij->i", data, data)

    def top(q: np.ndarray) -> list[int]:
        d = norms - 2 * (data @ q)  # + |q|², the same for every row
        best = np.argpartition(d, K)[:K]
        return best[np.argsort(d[best])].tolist()

    return top


def milvus(client: Any, name: str, kind: str) -> Callable[[np.ndarray], list[int]]:
    params = search_params(kind, "L2", K)
    return lambda q: [hit["id"] for hit in client.search(name, data=[q.tolist()], limit=K, search_params=params)[0]]


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    return statistics.mean(len(set(f) & set(t)) / K for f, t in zip(found, truth, strict=True))


def ms(times: list[float], q: int) -> str:
    return f"{statistics.quantiles(times, n=100)[q - 1] * 1000:.1f}"


def run(client: Any, kind: str, n: int, dim: int, rng: np.random.Generator) -> list[list[str]]:
    from pymilvus import DataType

    data, queries = dataset(kind, n, dim, rng)
    base_times, truth = timed(exact(data), queries)
    rows = [[f"{dim}", kind, f"{n:,}", "numpy exact (baseline)", "", "",
             ms(base_times, 50), ms(base_times, 99), "1.000"]]

    name = f"bench_{kind}_{dim}_{n}"
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    client.create_collection(name, schema=schema, index_params=index_params(client, "L2", 0, SETTINGS),
                             consistency_level="Strong")
    began = time.perf_counter()
    for start in range(0, n, BATCH):
        chunk = data[start : start + BATCH]
        client.insert(name, [{"id": start + i, "vector": v} for i, v in enumerate(chunk.tolist())])
    client.flush(name)  # Milvus Lite scans unflushed rows in Python; the store flushes as it goes
    insert_rate = n / (time.perf_counter() - began)

    flat_times, flat_found = timed(milvus(client, name, "FLAT"), queries)
    rows.append([f"{dim}", kind, f"{n:,}", "Milvus FLAT", f"{insert_rate:,.0f}", "",
                 ms(flat_times, 50), ms(flat_times, 99), f"{recall(flat_found, truth):.3f}"])
    ann = index_type(SETTINGS.ann_threshold + 1, SETTINGS)
    began = time.perf_counter()
    rebuild_index(client, name, "L2", max(n, SETTINGS.ann_threshold + 1), SETTINGS)
    build_s = time.perf_counter() - began
    ann_times, ann_found = timed(milvus(client, name, ann), queries)
    rows.append([f"{dim}", kind, f"{n:,}", f"Milvus {ann}", "", f"{build_s:.0f}",
                 ms(ann_times, 50), ms(ann_times, 99), f"{recall(ann_found, truth):.3f}"])
    client.drop_collection(name)
    return rows


def main(sizes: list[int], dims: list[int], budget_s: float, kinds: tuple[str, ...] = ("random", "clustered")) -> None:
    rng = np.random.default_rng(7)
    rows: list[list[str]] = []
    skipped: list[str] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        client = open_milvus(SETTINGS.model_copy(update={"uri": SETTINGS.uri or str(Path(tmp) / "bench.db")}))
        for n in sizes:
            for dim in dims:
                for kind in kinds:
                    if time.perf_counter() - began > budget_s:
                        skipped.append(f"{dim}-D {kind} {n:,}")
                        continue
                    rows += run(client, kind, n, dim, rng)
                    print(table(HEADERS, rows[-3:]), flush=True)
        client.close()
    notes = (f"{QUERIES} single-vector queries per row, top-{K}, L2; insert in batches of {BATCH}; "
             f"ANN = the face store's index past ann_threshold ({SETTINGS.ann_index}, see analytics/recognition/face_store.py); "
             f"wall time {time.perf_counter() - began:.0f} s.")
    if skipped:
        notes += f" Not run (past the {budget_s:.0f} s budget): {', '.join(skipped)}."
    record("Descriptor search, Milvus vs exact numpy (bench/descriptors.py)", table(HEADERS, rows), notes)


HEADERS = ["dim", "data", "descriptors", "search", "insert /s", "index build s", "p50 ms", "p99 ms", "recall@5"]

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dims", default="128,512")
    parser.add_argument("--budget-s", type=float, default=900)
    parser.add_argument("--kinds", default="random,clustered")
    args = parser.parse_args()
    main([int(s) for s in args.sizes.split(",")], [int(d) for d in args.dims.split(",")], args.budget_s,
         tuple(args.kinds.split(",")))
