"""Event descriptors in Milvus, so that events are matching candidates ("where was this person seen"),
and the saving of events that keeps the warehouse and Milvus together.

Layout: as the face store's (``face_store.DescriptorCollections``), one collection per descriptor version,
``<prefix>event_faces_v1001`` (``kind="body"``: ``<prefix>event_bodies_v2001``). Fields: the event's
filterable fields of LUNA's event candidate filters,

    event_id VARCHAR(36) primary key, account_id, handler_id, stream_id VARCHAR(36), source VARCHAR(128),
    track_id, external_id VARCHAR(36), user_data VARCHAR(128), tags ARRAY<VARCHAR(36)> (at most 1000),
    create_time, end_time INT64 (microseconds since the epoch), vector FLOAT_VECTOR(dim)

with "" for an unset scalar. Rows are upserted on event_id, so a retried save stores an event once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from analytics.events.luna_event_store import LunaEventFilters, LunaEventStore
from analytics.recognition.face_store import (
    CONSISTENCY,
    DescriptorCollections,
    _literal,
    _micros,
    _scoped,
    _strings,
    check_vector,
    index_params,
    metric,
)
from schemas.descriptors import DESCRIPTOR_VERSIONS, DescriptorKind
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError
from schemas.faces import EventCandidateFilters, EventMatch
from schemas.luna_events import MAX_TAGS, LunaEvent

_KIND_NAMES: dict[DescriptorKind, str] = {"face": "event_faces", "body": "event_bodies"}
_SCALARS = ["event_id", "account_id", "handler_id", "stream_id", "source", "track_id", "external_id", "user_data",
            "tags", "create_time", "end_time"]
_MAX_TOPK = 16_384
_QUERY_BATCH = 1000  # ids per ``in`` filter


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _row(event: LunaEvent, kind: DescriptorKind) -> dict[str, Any]:
    descriptor = getattr(event, f"{kind}_descriptor")
    return {
        "event_id": str(event.event_id), "account_id": str(event.account_id), "handler_id": _text(event.handler_id),
        "stream_id": _text(event.stream_id), "source": _text(event.source), "track_id": _text(event.track_id),
        "external_id": event.external_id, "user_data": event.user_data, "tags": list(event.tags or []),
        "create_time": _micros(event.create_time), "end_time": _micros(event.end_time or event.create_time),
        "vector": descriptor.vector,
    }


def candidate_clauses(f: EventCandidateFilters) -> list[str]:
    """LUNA's event candidate filters as a Milvus expression's clauses (account scoping apart)."""
    out = []
    for field, values in (("event_id", f.event_ids), ("handler_id", f.handler_ids), ("source", f.sources),
                          ("stream_id", f.stream_ids), ("track_id", f.track_ids), ("external_id", f.external_ids)):
        if values is not None:
            out.append(f"{field} in {_strings(values)}")
    if f.user_data:
        out.append(f"user_data like {_literal('%' + f.user_data + '%')}")
    if f.tags:
        out.append(f"array_contains_all(tags, {_strings(f.tags)})")
    for field, lower, upper in (("create_time", f.create_time__gte, f.create_time__lt),
                                ("end_time", f.end_time__gte, f.end_time__lt)):
        if lower is not None:
            out.append(f"{field} >= {_micros(lower)}")
        if upper is not None:
            out.append(f"{field} < {_micros(upper)}")
    return out


class EventDescriptorStore(DescriptorCollections):
    """Descriptors of one kind of the events that have one; every method is scoped to ``account_id``."""

    KEY = "event_id"

    def _name(self, version: int) -> str:
        return f"{self._settings.collection_prefix}{_KIND_NAMES[self._kind]}_v{version}"

    def _create(self, name: str, version: int) -> None:
        from pymilvus import DataType

        schema = self._client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("event_id", DataType.VARCHAR, max_length=36, is_primary=True)
        for field in ("account_id", "handler_id", "stream_id", "track_id", "external_id"):
            schema.add_field(field, DataType.VARCHAR, max_length=36)
        schema.add_field("source", DataType.VARCHAR, max_length=128)
        schema.add_field("user_data", DataType.VARCHAR, max_length=128)
        schema.add_field("tags", DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=MAX_TAGS, max_length=36)
        schema.add_field("create_time", DataType.INT64)
        schema.add_field("end_time", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DESCRIPTOR_VERSIONS[version].dimensions)
        self._client.create_collection(
            name, schema=schema, index_params=index_params(self._client, metric(version), self._settings),
            consistency_level=CONSISTENCY,
        )

    async def upsert(self, events: Sequence[LunaEvent]) -> int:
        """Store the descriptors of ``kind`` of those events that have one; returns how many."""
        return await self._read(self._upsert, events)

    async def delete(self, event_ids: Sequence[UUID]) -> None:
        await self._read(self._delete, event_ids)

    async def vector(self, account_id: UUID | None, event_id: UUID) -> tuple[int, list[float]] | None:
        """The event's descriptor (version, vector), None when it has none or is another account's."""
        return await self._read(self._vector, account_id, event_id)

    async def vectors(self, account_id: UUID | None, event_ids: Sequence[UUID]) -> dict[UUID, tuple[int, list[float]]]:
        """The descriptors (version, vector) of those events that have one, by event id."""
        return await self._read(self._vectors, account_id, event_ids)

    async def search(
        self, account_id: UUID | None, version: int, vectors: Sequence[Sequence[float]],
        filters: EventCandidateFilters, limit: int = 3, threshold: float = 0.0,
    ) -> list[list[tuple[UUID, float]]]:
        """Per reference vector, up to ``limit`` (event_id, similarity) with similarity >= threshold, best first."""
        self._check_kind(version)
        for vector in vectors:
            check_vector(vector, version)
        if not 1 <= limit <= _MAX_TOPK:
            raise ValueError(f"limit must be 1..{_MAX_TOPK}, got {limit}")
        return await self._read(self._search, account_id, version, vectors, filters, limit, threshold)

    def _upsert(self, events: Sequence[LunaEvent]) -> int:
        by_version: dict[int, list[dict[str, Any]]] = {}
        for event in events:
            descriptor = getattr(event, f"{self._kind}_descriptor")
            if descriptor is not None:
                self._check_kind(descriptor.descriptor_version)
                by_version.setdefault(descriptor.descriptor_version, []).append(_row(event, self._kind))
        for version, rows in by_version.items():
            name = self._open(version, create=True)
            assert name is not None
            self._client.upsert(name, rows)
            self._wrote(version, name, len(rows))
        return sum(len(rows) for rows in by_version.values())

    def _delete(self, event_ids: Sequence[UUID]) -> None:
        for version, name in self._opened():
            self._client.delete(name, ids=[str(i) for i in event_ids])
            self._wrote(version, name, len(event_ids))
            self._settle(name)

    def _vector(self, account_id: UUID | None, event_id: UUID) -> tuple[int, list[float]] | None:
        where = " and ".join(_scoped(account_id, [f"event_id == {_literal(str(event_id))}"]))
        for version, name in self._opened():
            rows = self._client.query(name, filter=where, output_fields=["vector"], consistency_level=CONSISTENCY)
            if rows:
                return version, [float(x) for x in rows[0]["vector"]]
        return None

    def _vectors(self, account_id: UUID | None, event_ids: Sequence[UUID]) -> dict[UUID, tuple[int, list[float]]]:
        found: dict[UUID, tuple[int, list[float]]] = {}
        for version, name in self._opened():
            for start in range(0, len(event_ids), _QUERY_BATCH):
                where = " and ".join(_scoped(account_id, [f"event_id in {_strings(event_ids[start:start + _QUERY_BATCH])}"]))
                for row in self._client.query(name, filter=where, output_fields=["event_id", "vector"],
                                              consistency_level=CONSISTENCY):
                    found[UUID(row["event_id"])] = version, [float(x) for x in row["vector"]]
        return found

    def _search(
        self, account_id: UUID | None, version: int, vectors: Sequence[Sequence[float]],
        filters: EventCandidateFilters, limit: int, threshold: float,
    ) -> list[list[tuple[UUID, float]]]:
        name = self._open(version, create=False)
        if name is None or not vectors or any(v == [] for v in (filters.event_ids, filters.handler_ids, filters.sources,
                                                                 filters.stream_ids, filters.track_ids, filters.external_ids)):
            return [[] for _ in vectors]
        where = " and ".join(_scoped(account_id, candidate_clauses(filters)))
        hits = self._hits(name, version, vectors, limit, where, ["event_id"], threshold)
        return [[(UUID(entity["event_id"]), score) for entity, score in per_vector] for per_vector in hits]


@dataclass
class EventArchive:
    """Events kept together: the warehouse holds the event, Milvus its face descriptor (``faces``) and,
    with ``bodies`` (a ``kind="body"`` store), its body descriptor, for matching."""

    store: LunaEventStore
    faces: EventDescriptorStore
    bodies: EventDescriptorStore | None = None

    def descriptors(self, kind: DescriptorKind) -> EventDescriptorStore:
        """The event descriptors of ``kind``; 45004 for bodies when this archive keeps none."""
        if kind == "face":
            return self.faces
        if self.bodies is None:
            raise SeleneError(SERVICE_UNAVAILABLE, "event body store", "this API keeps no event body descriptors")
        return self.bodies

    async def save(self, events: list[LunaEvent]) -> None:
        """Store events, idempotent on event_id. Descriptors go first and are taken back if the warehouse
        refuses the events, so no descriptor matches an event that was never stored."""
        stores = [self.faces] + ([self.bodies] if self.bodies is not None else [])
        for descriptors in stores:
            await descriptors.upsert(events)
        try:
            await self.store.save(events)
        except BaseException:
            await self.faces.delete([e.event_id for e in events if e.face_descriptor is not None])
            if self.bodies is not None:
                await self.bodies.delete([e.event_id for e in events if e.body_descriptor is not None])
            raise

    async def delete(self, account_id: UUID, event_ids: list[UUID]) -> None:
        """Delete the account's events and their descriptors. Descriptors go first, as in ``save``, so no
        descriptor outlives its event; ids that are gone already are no error."""
        mine = [UUID(e["event_id"]) for e in await self.store.list(
            LunaEventFilters(event_ids=event_ids), {account_id}, 1, max(len(event_ids), 1))] if event_ids else []
        if not mine:
            return
        for descriptors in [self.faces] + ([self.bodies] if self.bodies is not None else []):
            await descriptors.delete(mine)
        await self.store.delete(mine, {account_id})

    async def vector(self, account_id: UUID, event_id: UUID, kind: DescriptorKind = "face") -> tuple[int, list[float]] | None:
        return await self.descriptors(kind).vector(account_id, event_id)

    async def match(
        self, account_id: UUID, version: int, vectors: Sequence[Sequence[float]], filters: EventCandidateFilters,
        limit: int, threshold: float,
    ) -> list[list[EventMatch]]:
        """Per reference vector, the best candidate events in LUNA's event shape (the descriptors of the
        kind of ``version``)."""
        hits = await self.descriptors(DESCRIPTOR_VERSIONS[version].kind).search(
            account_id, version, vectors, filters, limit, threshold)
        ids = sorted({event_id for per_vector in hits for event_id, _ in per_vector})
        found = await self.store.list(LunaEventFilters(event_ids=ids), {account_id}, 1, max(len(ids), 1)) if ids else []
        events = {e["event_id"]: e for e in found}
        return [
            [EventMatch(event=events[str(i)], similarity=round(s, 6)) for i, s in per_vector if str(i) in events]
            for per_vector in hits
        ]
