"""LUNA-like face store in Milvus: faces (descriptor, attributes, list membership), filters and matching.

Layout: one collection per descriptor version, ``<prefix>faces_v1001``; body versions get
``<prefix>bodies_v2001`` from the same code (``FaceStore(..., kind="body")``). Descriptors of different
versions never meet: a search only reads the collection of its own version. Fields:

    face_id VARCHAR(36) primary key, account_id VARCHAR(36), external_id VARCHAR(36),
    user_data VARCHAR(128), avatar VARCHAR(256), event_id VARCHAR(36), create_time INT64,
    lists ARRAY<VARCHAR(36)> (at most LISTS_CAPACITY = 256 lists per face), vector FLOAT_VECTOR(dim)

Milvus scalars are never null here: None is stored as "" (external_id, event_id). ``create_time`` is
microseconds since the Unix epoch, so a datetime comes back exactly.

Consistency: Session. Every search, query and read asks for it, so this process (one client: the API
and the watch-list matcher share it) reads its own writes: a face just created is matchable at once, and
a face deleted or detached is never matched again. Strong would also wait for every other writer's
writes, which costs Milvus's time tick (200-400 ms on a server) on every search; Selene's writers are this
process only.

Index: the collection gets its vector index when it is created (``MilvusSettings.index``: HNSW with
``hnsw_m`` / ``hnsw_ef_construction``, searched with ef = max(``hnsw_ef``, limit)), and Milvus builds it
per sealed segment in the background while inserts and searches go on; rows not yet indexed (the growing
segment) are searched exactly, so new faces are found at once and no rebuild ever makes a collection
unmatchable. ``hnsw_ef`` is measured, not guessed: ``selene milvus calibrate`` (``index_tuning.py``)
finds the smallest ef whose recall@k against exact search reaches a target on the collection's own
descriptors. Milvus Lite 3.x (faiss inside) has FLAT, IVF_FLAT, IVF_SQ8, HNSW and HNSW_SQ; a server all
of them. HNSW recall on uniform random unit vectors is low at any ef that is cheap (they have no near
neighbours); face descriptors are clustered, and there recall@5 is 0.99+ at ef 64-128 (bench/RESULTS.md).

Distances: Milvus, server and Lite alike, reports L2 as the *squared* Euclidean distance and COSINE as
the cosine itself; ``distance()`` turns both into what ``schemas.descriptors.similarity`` expects.

Milvus Lite (3.x) searches rows not yet flushed by scanning them in Python (some 17 us per row and
query: 20k unflushed rows made a search take 400 ms instead of 20 ms), so on Lite the store flushes a
collection after every LITE_FLUSH_ROWS written rows. Milvus servers flush on their own (and rate-limit
explicit flushes), so there it never flushes.

Concurrency: pymilvus is synchronous, so each public method runs whole in a worker thread. Searches,
queries and inserts run side by side (the gRPC client is thread-safe); the methods that read a row and
write it back (update, attach, detach, delete, dropping a list: no partial upserts in Milvus Lite) take
one asyncio.Lock, so two of them never interleave.

Order of ``query``: LUNA's, create_time descending then face_id. Milvus query results have no order,
so the store reads (face_id, create_time) of every match, sorts them in Python and then reads the full
rows of the page only: a page costs O(matches), fine up to some 100k faces per account and filter.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from infra.settings import MilvusSettings
from schemas.descriptors import DESCRIPTOR_VERSIONS, DescriptorKind, similarity

LISTS_CAPACITY = 256
LITE_FLUSH_ROWS = 1000
CONSISTENCY = "Session"
_MAX_TOPK = 16_384  # Milvus's limit on limit (+ offset)
_VECTOR_INDEX = "vector"
_KIND_NAMES: dict[DescriptorKind, str] = {"face": "faces", "body": "bodies"}
_METRICS = {"euclidean": "L2", "cosine": "COSINE"}
_SCALARS = ["face_id", "account_id", "external_id", "user_data", "avatar", "event_id", "create_time", "lists"]
_UPDATABLE = frozenset({"user_data", "external_id", "avatar", "event_id"})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")


@dataclass(frozen=True)
class StoredFace:
    face_id: UUID
    account_id: UUID
    external_id: str | None
    user_data: str
    avatar: str
    event_id: UUID | None
    create_time: datetime
    lists: list[UUID]
    descriptor_version: int
    vector: list[float] | None = None  # only filled when asked for (with_vectors=True) or given on insert


@dataclass(frozen=True)
class FaceFilters:
    """Conditions a face must meet, all of them; None: no condition."""

    face_ids: Sequence[UUID] | None = None
    external_ids: Sequence[str] | None = None
    user_data: str | None = None
    list_id: UUID | None = None
    event_id: UUID | None = None
    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None
    face_id__gte: UUID | None = None
    face_id__lt: UUID | None = None

    def clauses(self) -> list[str]:
        out = []
        if self.face_ids is not None:
            out.append(f"face_id in {_strings(self.face_ids)}")
        if self.external_ids is not None:
            out.append(f"external_id in {_strings(self.external_ids)}")
        if self.user_data is not None:
            out.append(f"user_data == {_literal(self.user_data)}")
        if self.list_id is not None:
            out.append(f"array_contains(lists, {_literal(str(self.list_id))})")
        if self.event_id is not None:
            out.append(f"event_id == {_literal(str(self.event_id))}")
        if self.create_time__gte is not None:
            out.append(f"create_time >= {_micros(self.create_time__gte)}")
        if self.create_time__lt is not None:
            out.append(f"create_time < {_micros(self.create_time__lt)}")
        # Canonical UUID strings sort like the UUIDs' numbers, so string comparison is UUID order.
        if self.face_id__gte is not None:
            out.append(f"face_id >= {_literal(str(self.face_id__gte))}")
        if self.face_id__lt is not None:
            out.append(f"face_id < {_literal(str(self.face_id__lt))}")
        return out


# ---- collection layout and index choice, shared with bench/descriptors.py ----


def collection_name(version: int, prefix: str = "") -> str:
    return f"{prefix}{_KIND_NAMES[DESCRIPTOR_VERSIONS[version].kind]}_v{version}"


def metric(version: int) -> str:
    return _METRICS[DESCRIPTOR_VERSIONS[version].metric]


def index_params(client: Any, metric_type: str, settings: MilvusSettings) -> Any:
    build: dict[str, int] = {}
    if settings.index == "HNSW":
        build = {"M": settings.hnsw_m, "efConstruction": settings.hnsw_ef_construction}
    params = client.prepare_index_params()
    params.add_index(
        field_name="vector", index_name=_VECTOR_INDEX, index_type=settings.index, metric_type=metric_type, params=build
    )
    return params


def search_params(kind: str, metric_type: str, limit: int, ef: int) -> dict[str, Any]:
    """What a search of an index of type ``kind`` needs; HNSW's ef never below the limit (Milvus requires it)."""
    params = {"ef": max(ef, limit)} if kind == "HNSW" else {}
    return {"metric_type": metric_type, "params": params}


def create_collection(client: Any, name: str, version: int, settings: MilvusSettings) -> None:
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("face_id", DataType.VARCHAR, max_length=36, is_primary=True)
    schema.add_field("account_id", DataType.VARCHAR, max_length=36)
    schema.add_field("external_id", DataType.VARCHAR, max_length=36)
    schema.add_field("user_data", DataType.VARCHAR, max_length=128)
    schema.add_field("avatar", DataType.VARCHAR, max_length=256)
    schema.add_field("event_id", DataType.VARCHAR, max_length=36)
    schema.add_field("create_time", DataType.INT64)
    schema.add_field(
        "lists", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=LISTS_CAPACITY, max_length=36
    )
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DESCRIPTOR_VERSIONS[version].dimensions)
    client.create_collection(
        name, schema=schema, index_params=index_params(client, metric(version), settings), consistency_level=CONSISTENCY
    )


def distance(score: float, version: int) -> float:
    """Milvus's score as the distance ``similarity`` takes: L2 comes squared, COSINE as the cosine."""
    if metric(version) == "L2":
        return math.sqrt(max(score, 0.0))
    return 1.0 - score


def check_vector(vector: Sequence[float], version: int) -> None:
    known = DESCRIPTOR_VERSIONS.get(version)
    if known is None:
        raise ValueError(f"unknown descriptor_version {version}")
    if len(vector) != known.dimensions:
        raise ValueError(
            f"descriptor_version {version} has {known.dimensions} dimensions, got a vector of {len(vector)}"
        )


# ---- the store ----


class DescriptorCollections(ABC):
    """What every store of descriptors in Milvus shares: one collection per descriptor version of one kind,
    opened (or created) on first use, flushed every LITE_FLUSH_ROWS rows on Milvus Lite, and the worker
    threads and lock its methods run in. A store names its collections and creates them with its fields."""

    KEY: ClassVar[str]  # the primary key field

    def __init__(self, client: Any, settings: MilvusSettings, kind: DescriptorKind = "face") -> None:
        self._client, self._settings, self._kind = client, settings, kind
        self._versions = sorted(v for v, d in DESCRIPTOR_VERSIONS.items() if d.kind == kind)
        self._lock = asyncio.Lock()  # read-modify-write methods, one at a time
        self._opening = threading.Lock()  # _open runs in worker threads side by side
        self._index: dict[int, str] = {}  # version → index type of each collection opened so far
        self._unflushed: dict[int, int] = {}  # version → rows written since the last flush (Milvus Lite)
        self._lite = "://" not in settings.uri  # a file path (or none): Milvus Lite

    @abstractmethod
    def _name(self, version: int) -> str:
        """The collection of ``version``'s descriptors."""

    @abstractmethod
    def _create(self, name: str, version: int) -> None:
        """Create the collection with the store's fields and the vector index."""

    def _check_kind(self, version: int) -> None:
        known = DESCRIPTOR_VERSIONS.get(version)
        if known is None or known.kind != self._kind:
            raise ValueError(f"descriptor_version {version} is not a {self._kind} version")

    # ---- synchronous bodies, run one at a time in a worker thread ----

    async def _read(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Searches, queries and inserts of new rows: side by side, in worker threads."""
        return await asyncio.to_thread(fn, *args)

    async def _locked(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Read-modify-write bodies, one at a time."""
        async with self._lock:
            return await asyncio.to_thread(fn, *args)

    def _open(self, version: int, create: bool) -> str | None:
        """The version's collection name, loaded; None when it does not exist and create is False."""
        name = self._name(version)
        if version in self._index:
            return name
        with self._opening:
            if version in self._index:
                return name
            if not self._client.has_collection(name):
                if not create:
                    return None
                self._create(name, version)
            self._client.load_collection(name)  # a collection reopened from disk starts released
            self._unflushed[version] = 0
            # The index a collection was created with (an older Selene's FLAT stays FLAT until re-created).
            self._index[version] = self._client.describe_index(name, _VECTOR_INDEX)["index_type"]
        return name

    def _wrote(self, version: int, name: str, rows: int) -> None:
        with self._opening:
            self._unflushed[version] += rows
            due = self._lite and self._unflushed[version] >= LITE_FLUSH_ROWS
            if due:
                self._unflushed[version] = 0
        if due:
            self._client.flush(name)

    def _opened(self) -> list[tuple[int, str]]:
        return [(v, name) for v in self._versions if (name := self._open(v, create=False))]

    def _hits(
        self, name: str, version: int, vectors: Sequence[Sequence[float]], limit: int, where: str,
        fields: list[str], threshold: float,
    ) -> list[list[tuple[dict[str, Any], float]]]:
        """Per vector, the rows (``fields``) meeting ``where`` with similarity >= threshold, best first."""
        hits = self._client.search(
            name, data=[list(map(float, v)) for v in vectors], limit=limit, filter=where, output_fields=fields,
            search_params=search_params(self._index[version], metric(version), limit, self._settings.hnsw_ef),
            consistency_level=CONSISTENCY,
        )
        out = []
        for per_vector in hits:
            scored = [(hit["entity"], similarity(distance(hit["distance"], version), version)) for hit in per_vector]
            out.append(sorted((p for p in scored if p[1] >= threshold), key=lambda p: -p[1]))
        return out

    def _settle(self, name: str) -> None:
        """Wait until a delete is applied. A Milvus 2.3 server answers a delete without its timestamp, so a
        Session read would not wait for it; one Strong read does, and every later read sees the delete."""
        if not self._lite:
            self._client.query(name, filter=f'{self.KEY} != ""', output_fields=[self.KEY], limit=1, consistency_level="Strong")


class FaceStore(DescriptorCollections):
    """Faces of one descriptor kind; every method is scoped to ``account_id`` (None: all accounts)."""

    KEY = "face_id"

    def _name(self, version: int) -> str:
        return collection_name(version, self._settings.collection_prefix)

    def _create(self, name: str, version: int) -> None:
        create_collection(self._client, name, version, self._settings)

    async def insert(self, *faces: StoredFace) -> None:
        """Add new faces (face_id must be new) with their vectors."""
        await self._read(self._insert, faces)

    async def get(
        self, account_id: UUID | None, face_ids: Sequence[UUID], with_vectors: bool = False
    ) -> list[StoredFace]:
        """The faces found, in the order asked."""
        return await self._read(self._get, account_id, face_ids, with_vectors)

    async def update(self, account_id: UUID | None, face_id: UUID, **fields: Any) -> StoredFace | None:
        """Set user_data, external_id, avatar or event_id; None when the face is not found."""
        return await self._locked(self._update, account_id, face_id, fields)

    async def replace_vector(
        self, account_id: UUID | None, face_id: UUID, version: int, vector: Sequence[float]
    ) -> StoredFace | None:
        """Give a face a new descriptor (of any version of this kind), keeping its other fields; None
        when the face is not found."""
        self._check_kind(version)
        check_vector(vector, version)
        return await self._locked(self._replace_vector, account_id, face_id, version, vector)

    async def delete(self, account_id: UUID | None, face_ids: Sequence[UUID]) -> list[UUID]:
        """Delete faces; returns those that existed."""
        return await self._locked(self._delete, account_id, face_ids)

    async def query(
        self, account_id: UUID | None, filters: FaceFilters, offset: int = 0, limit: int = 100,
        with_vectors: bool = False,
    ) -> list[StoredFace]:
        """A page of matching faces, newest first (create_time desc, then face_id)."""
        return await self._read(self._query, account_id, filters, offset, limit, with_vectors)

    async def count(self, account_id: UUID | None, filters: FaceFilters) -> int:
        return await self._read(self._count, account_id, filters)

    async def attach(self, account_id: UUID | None, list_id: UUID, face_ids: Sequence[UUID]) -> list[UUID]:
        """Put faces in a list; returns the face ids not found. ValueError past LISTS_CAPACITY lists."""
        return await self._locked(self._relist, account_id, list_id, face_ids, True)

    async def detach(self, account_id: UUID | None, list_id: UUID, face_ids: Sequence[UUID]) -> list[UUID]:
        """Take faces out of a list; returns the face ids not found."""
        return await self._locked(self._relist, account_id, list_id, face_ids, False)

    async def faces_of_list(self, account_id: UUID | None, list_id: UUID) -> list[UUID]:
        return await self._read(self._faces_of_list, account_id, list_id)

    async def drop_list(self, account_id: UUID | None, list_id: UUID, with_faces: bool) -> list[UUID]:
        """Detach every face from the list, or delete them all; returns the faces affected."""
        return await self._locked(self._drop_list, account_id, list_id, with_faces)

    async def search(
        self, account_id: UUID | None, version: int, vectors: Sequence[Sequence[float]], *,
        list_ids: Sequence[UUID] | None = None, face_ids: Sequence[UUID] | None = None,
        limit: int = 5, threshold: float = 0.0,
    ) -> list[list[tuple[StoredFace, float]]]:
        """Per reference vector, up to ``limit`` candidates with similarity >= threshold, best first.

        Candidates: the account's faces of ``version``, narrowed to members of any of ``list_ids``
        and to ``face_ids`` when given. Similarity: ``schemas.descriptors.similarity``.
        """
        self._check_kind(version)
        for vector in vectors:
            check_vector(vector, version)
        if not 1 <= limit <= _MAX_TOPK:
            raise ValueError(f"limit must be 1..{_MAX_TOPK}, got {limit}")
        return await self._read(self._search, account_id, version, vectors, list_ids, face_ids, limit, threshold)

    def _insert(self, faces: Sequence[StoredFace]) -> None:
        by_version: dict[int, list[dict[str, Any]]] = {}
        for face in faces:
            self._check_kind(face.descriptor_version)
            if face.vector is None:
                raise ValueError(f"face {face.face_id} has no vector")
            check_vector(face.vector, face.descriptor_version)
            by_version.setdefault(face.descriptor_version, []).append(_row(face))
        for version, rows in by_version.items():
            name = self._open(version, create=True)
            self._client.insert(name, rows)
            self._wrote(version, name, len(rows))

    def _rows(self, name: str, clauses: Iterable[str], fields: list[str]) -> list[dict[str, Any]]:
        where = " and ".join(clauses) or 'face_id != ""'  # Milvus servers want a filter or a limit
        return list(self._client.query(name, filter=where, output_fields=fields, consistency_level=CONSISTENCY))

    def _find(
        self, account_id: UUID | None, clauses: list[str], with_vectors: bool
    ) -> list[tuple[int, str, dict[str, Any]]]:
        fields = _fields(with_vectors)
        return [
            (version, name, row)
            for version, name in self._opened()
            for row in self._rows(name, _scoped(account_id, clauses), fields)
        ]

    def _get(self, account_id: UUID | None, face_ids: Sequence[UUID], with_vectors: bool) -> list[StoredFace]:
        if not face_ids:
            return []
        rows = self._find(account_id, [f"face_id in {_strings(face_ids)}"], with_vectors)
        found = {face.face_id: face for face in (_face(row, version) for version, _, row in rows)}
        return [found[i] for i in face_ids if i in found]

    def _update(self, account_id: UUID | None, face_id: UUID, fields: dict[str, Any]) -> StoredFace | None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}; updatable: {sorted(_UPDATABLE)}")
        for version, name, row in self._find(account_id, [f"face_id == {_literal(str(face_id))}"], True):
            face = replace(_face(row, version), **fields)
            self._client.upsert(name, [_row(face)])
            self._wrote(version, name, 1)
            return replace(face, vector=None)
        return None

    def _replace_vector(
        self, account_id: UUID | None, face_id: UUID, version: int, vector: Sequence[float]
    ) -> StoredFace | None:
        for old_version, name, row in self._find(account_id, [f"face_id == {_literal(str(face_id))}"], False):
            face = replace(_face(row, old_version), descriptor_version=version, vector=[float(x) for x in vector])
            if old_version == version:
                self._client.upsert(name, [_row(face)])
                self._wrote(version, name, 1)
            else:  # the new version's collection first: a crash in between leaves the face findable
                self._insert([face])
                self._client.delete(name, ids=[str(face_id)])
                self._wrote(old_version, name, 1)
                self._settle(name)
            return replace(face, vector=None)
        return None

    def _delete(self, account_id: UUID | None, face_ids: Sequence[UUID]) -> list[UUID]:
        if not face_ids:
            return []
        deleted: list[UUID] = []
        for version, name in self._opened():
            rows = self._rows(name, _scoped(account_id, [f"face_id in {_strings(face_ids)}"]), ["face_id"])
            if rows:
                self._client.delete(name, ids=[r["face_id"] for r in rows])
                self._wrote(version, name, len(rows))
                self._settle(name)
                deleted += [UUID(r["face_id"]) for r in rows]
        return deleted

    def _query(
        self, account_id: UUID | None, filters: FaceFilters, offset: int, limit: int, with_vectors: bool
    ) -> list[StoredFace]:
        keys = [
            (-row["create_time"], row["face_id"], version, name)
            for version, name in self._opened()
            for row in self._rows(name, _scoped(account_id, filters.clauses()), ["face_id", "create_time"])
        ]
        page = sorted(keys)[offset : offset + limit]
        fields = _fields(with_vectors)
        found: dict[str, StoredFace] = {}
        for version, name in {(v, n) for _, _, v, n in page}:
            ids = [i for _, i, v, _ in page if v == version]
            for row in self._rows(name, [f"face_id in {_strings(ids)}"], fields):
                found[row["face_id"]] = _face(row, version)
        return [found[i] for _, i, _, _ in page if i in found]

    def _count(self, account_id: UUID | None, filters: FaceFilters) -> int:
        return sum(
            int(self._rows(name, _scoped(account_id, filters.clauses()), ["count(*)"])[0]["count(*)"])
            for _, name in self._opened()
        )

    def _relist(self, account_id: UUID | None, list_id: UUID, face_ids: Sequence[UUID], add: bool) -> list[UUID]:
        if not face_ids:
            return []
        seen: set[UUID] = set()
        for version, name, row in self._find(account_id, [f"face_id in {_strings(face_ids)}"], True):
            face = _face(row, version)
            seen.add(face.face_id)
            lists = [i for i in face.lists if i != list_id] + ([list_id] if add else [])
            if len(lists) > LISTS_CAPACITY:
                raise ValueError(f"face {face.face_id} is already in {LISTS_CAPACITY} lists, the most allowed")
            if lists != face.lists:
                self._client.upsert(name, [_row(replace(face, lists=lists))])
                self._wrote(version, name, 1)
        return [i for i in face_ids if i not in seen]

    def _faces_of_list(self, account_id: UUID | None, list_id: UUID) -> list[UUID]:
        clauses = _scoped(account_id, FaceFilters(list_id=list_id).clauses())
        return sorted(UUID(r["face_id"]) for _, name in self._opened() for r in self._rows(name, clauses, ["face_id"]))

    def _drop_list(self, account_id: UUID | None, list_id: UUID, with_faces: bool) -> list[UUID]:
        members = self._faces_of_list(account_id, list_id)
        if with_faces:
            return self._delete(account_id, members)
        self._relist(account_id, list_id, members, False)
        return members

    def _search(
        self, account_id: UUID | None, version: int, vectors: Sequence[Sequence[float]],
        list_ids: Sequence[UUID] | None, face_ids: Sequence[UUID] | None, limit: int, threshold: float,
    ) -> list[list[tuple[StoredFace, float]]]:
        name = self._open(version, create=False)
        if name is None or list_ids == [] or face_ids == [] or not vectors:
            return [[] for _ in vectors]
        clauses = []
        if list_ids is not None:
            clauses.append(f"array_contains_any(lists, {_strings(list_ids)})")
        if face_ids is not None:
            clauses.append(f"face_id in {_strings(face_ids)}")
        hits = self._hits(name, version, vectors, limit, " and ".join(_scoped(account_id, clauses)), _SCALARS, threshold)
        return [[(_face(entity, version), score) for entity, score in per_vector] for per_vector in hits]

# ---- row mapping and expression helpers ----


def _fields(with_vectors: bool) -> list[str]:
    return _SCALARS + ["vector"] if with_vectors else _SCALARS


def _row(face: StoredFace) -> dict[str, Any]:
    return {
        "face_id": str(face.face_id), "account_id": str(face.account_id), "external_id": face.external_id or "",
        "user_data": face.user_data, "avatar": face.avatar, "event_id": str(face.event_id or ""),
        "create_time": _micros(face.create_time), "lists": [str(i) for i in face.lists], "vector": face.vector,
    }


def _face(row: dict[str, Any], version: int) -> StoredFace:
    vector = row.get("vector")
    return StoredFace(
        face_id=UUID(row["face_id"]), account_id=UUID(row["account_id"]), external_id=row["external_id"] or None,
        user_data=row["user_data"], avatar=row["avatar"], event_id=UUID(row["event_id"]) if row["event_id"] else None,
        create_time=_EPOCH + timedelta(microseconds=row["create_time"]), lists=[UUID(i) for i in row["lists"]],
        descriptor_version=version, vector=[float(x) for x in vector] if vector is not None else None,
    )


def _micros(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # naive datetimes are UTC throughout Selene
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _literal(value: str) -> str:
    """A Milvus string literal; JSON's escapes (\\" \\\\ \\n \\t) are Milvus's, bar \\u escapes."""
    if any(ord(c) < 32 and c not in "\n\t\r" for c in value):
        raise ValueError(f"control characters are not allowed in {value!r}")
    return json.dumps(value, ensure_ascii=False)


def _strings(values: Iterable[object]) -> str:
    return "[" + ", ".join(_literal(str(v)) for v in values) + "]"


def _scoped(account_id: UUID | None, clauses: list[str]) -> list[str]:
    return clauses if account_id is None else [f"account_id == {_literal(str(account_id))}", *clauses]
