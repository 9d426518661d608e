"""Descriptor search on both Milvus engines, Milvus Lite and a Milvus server, against exact numpy search.

For each size (100k, 1M), dimension (128, 512) and data kind, in one run:
  - numpy exact top-5 (the baseline): per-query latency, and the true neighbours;
  - per engine, the face store's own collection layout and index (HNSW from creation, M=16,
    efConstruction=200, consistency Session): insert throughput (batches of 5000), then HNSW's ef chosen by
    measurement (the smallest ef in 16..1024 whose recall@5 against numpy reaches --target-recall, as
    ``selene milvus calibrate`` does) and search p50/p99 per single-vector query at that ef;
  - memory: the engine's resident memory grown by the load, per million descriptors.
Data: "clustered" is 1000 Gaussian clusters, queries noisy copies of stored vectors (like re-seen faces);
"random" is Gaussian vectors scaled to unit length (the hard case for ANN), queries fresh random vectors.
Metric L2, as dlib's version 1001. Lite: a file in a temp dir; server: the `milvus` wheel's standalone server.
Configurations past --budget-s seconds of wall time are skipped and listed as not run.
Run: `python -m bench.descriptors [--engines lite,server] [--sizes 100000,1000000] [--dims 128,512]
[--kinds clustered] [--target-recall 0.95] [--budget-s 3600]`.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from analytics.recognition.face_store import index_params
from analytics.recognition.index_tuning import (
    EF_STEPS,
    EfTrial,
    choose_ef,
    exact_neighbours,
    sweep,
)
from analytics.recognition.milvus import open_milvus
from bench.common import record, table
from infra.root.embedded import MilvusServerProcess
from infra.settings import MilvusSettings

K = 5
QUERIES = 200
BATCH = 5000


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


def ms(times: list[float], q: int) -> str:
    return f"{statistics.quantiles(times, n=100)[q - 1] * 1000:.2f}"


def exact_times(data: np.ndarray, queries: np.ndarray) -> list[float]:
    norms = np.einsum("ij,ij->i", data, data)  # once, as an exact index would keep them
    times = []
    for q in queries:
        began = time.perf_counter()
        exact_neighbours(data, q[None, :], K, "L2", norms=norms)
        times.append(time.perf_counter() - began)
    return times


class Engine:
    """A Milvus client plus the processes whose memory it costs."""

    def __init__(self, name: str, client: Any, processes: list[psutil.Process]) -> None:
        self.name, self.client, self.processes = name, client, processes

    def rss(self) -> int:
        total = 0
        for proc in self.processes:
            try:
                total += proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
            except psutil.NoSuchProcess:
                pass
        return total


@contextmanager
def engine(name: str, workdir: Path) -> Iterator[Engine]:
    if name == "lite":
        client = open_milvus(MilvusSettings(uri=str(workdir / "bench.db")))
        # Lite serves from a child process of this one (milvus-lite 3.x) or inside it (2.4).
        yield Engine("Milvus Lite", client, [psutil.Process()])
        client.close()
        return
    server = MilvusServerProcess(workdir / "server")
    server.start()
    try:
        client = open_milvus(MilvusSettings(uri=server.uri))
        yield Engine("Milvus server", client, [psutil.Process(server.pid)])
        client.close()
    finally:
        server.stop()


def load(eng: Engine, name: str, data: np.ndarray) -> tuple[float, int]:
    """Create the store's collection layout (HNSW from creation, Session) and insert; returns (rows/s, RSS delta)."""
    from pymilvus import DataType

    client = eng.client
    before = eng.rss()
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=data.shape[1])
    client.create_collection(name, schema=schema, index_params=index_params(client, "L2", MilvusSettings()),
                             consistency_level="Session")
    began = time.perf_counter()
    for start in range(0, len(data), BATCH):
        chunk = data[start : start + BATCH]
        client.insert(name, [{"id": start + i, "vector": v} for i, v in enumerate(chunk.tolist())])
    client.flush(name)  # seals every segment: the index covers all rows (Lite also stops scanning them in Python)
    rate = len(data) / (time.perf_counter() - began)
    wait_for_index(client, name)
    return rate, eng.rss() - before


def wait_for_index(client: Any, name: str, timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.describe_index(name, "vector")
        if int(info.get("pending_index_rows", 0)) == 0 and int(info.get("indexed_rows", 0)) >= int(info.get("total_rows", 0)):
            return
        time.sleep(2)


def calibrated(eng: Engine, name: str, queries: np.ndarray, truth: list[list[int]], target: float) -> EfTrial:
    trials = sweep(eng.client, name, "L2", "id", queries, truth, K, EF_STEPS, target)
    return choose_ef(trials, target) or trials[-1]


def run(engines: list[Engine], kind: str, n: int, dim: int, target: float, rng: np.random.Generator) -> list[list[str]]:
    data, queries = dataset(kind, n, dim, rng)
    base = exact_times(data, queries)
    truth = exact_neighbours(data, queries, K, "L2").tolist()
    rows = [[f"{dim}", kind, f"{n:,}", "numpy exact (baseline)", "", "", "", ms(base, 50), ms(base, 99), "1.000", ""]]
    for eng in engines:
        name = f"bench_{kind}_{dim}_{n}"
        rate, grown = load(eng, name, data)
        best = calibrated(eng, name, queries, truth, target)
        p99_ratio = float(best.p99_ms) / (statistics.quantiles(base, n=100)[98] * 1000)
        rows.append([f"{dim}", kind, f"{n:,}", f"{eng.name} HNSW", f"{rate:,.0f}", f"{grown / 2**20 / (n / 1e6):,.0f}",
                     f"{best.ef}", f"{best.p50_ms:.2f}", f"{best.p99_ms:.2f}", f"{best.recall:.3f}", f"{p99_ratio:.1f}x"])
        eng.client.drop_collection(name)
    return rows


def main(engine_names: list[str], sizes: list[int], dims: list[int], kinds: list[str], target: float, budget_s: float) -> None:
    rng = np.random.default_rng(7)
    rows: list[list[str]] = []
    skipped: list[str] = []
    began = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        with engines_of(engine_names, Path(tmp)) as engines:
            for n in sizes:
                for dim in dims:
                    for kind in kinds:
                        if time.perf_counter() - began > budget_s:
                            skipped.append(f"{dim}-D {kind} {n:,}")
                            continue
                        rows += run(engines, kind, n, dim, target, rng)
                        print(table(HEADERS, rows[-1 - len(engines):]), flush=True)
    notes = (f"{QUERIES} single-vector queries per row, top-{K}, L2, consistency Session; insert in batches of {BATCH}, "
             f"then flush and wait for the index; ef = the smallest of {list(EF_STEPS)} reaching recall@{K} >= {target} "
             f"(measured, analytics/recognition/index_tuning.py); MiB per 1M = resident memory grown by the load; "
             f"p99 / exact = the engine's p99 over numpy's; wall time {time.perf_counter() - began:.0f} s.")
    if skipped:
        notes += f" Not run (past the {budget_s:.0f} s budget): {', '.join(skipped)}."
    record("Descriptor search, Milvus Lite and server vs exact numpy (bench/descriptors.py)", table(HEADERS, rows), notes)


@contextmanager
def engines_of(names: list[str], workdir: Path) -> Iterator[list[Engine]]:
    with ExitStack() as stack:
        yield [stack.enter_context(engine(name, workdir / name)) for name in names]


HEADERS = ["dim", "data", "descriptors", "search", "insert /s", "MiB per 1M", "ef", "p50 ms", "p99 ms", "recall@5",
           "p99 / exact"]

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--engines", default="lite,server")
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dims", default="128,512")
    parser.add_argument("--kinds", default="clustered")
    parser.add_argument("--target-recall", type=float, default=0.95)
    parser.add_argument("--budget-s", type=float, default=3600)
    args = parser.parse_args()
    main(args.engines.split(","), [int(s) for s in args.sizes.split(",")], [int(d) for d in args.dims.split(",")],
         args.kinds.split(","), args.target_recall, args.budget_s)
