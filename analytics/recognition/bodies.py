"""Bodies: one body row per event in the body store (``FaceStore(kind="body")``), and 1:N body search.

A human-tracking track's body best shots become one row: their descriptors' mean, L2-normalised (each
MobileNetV2 vector is), under ``uuid5(event_id, "body")``, so a replayed track replaces its row. The
row keeps the event's id, stream, track and time: a match says where and when that person was seen.

MobileNetV2's ImageNet features are not trained for re-identification (``trained_for_reid`` False):
a body match is a lead (same clothes, same build), not an identity.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

import numpy as np

from analytics.recognition.face_store import FaceFilters, FaceStore, StoredFace
from analytics.sdk.images import InputImage
from analytics.sdk.service import RemoteSdk, SdkRequest
from infra.media.image import decode_image
from schemas.bodies import (
    BodyCandidates,
    BodyCandidateSetResult,
    BodyImageReference,
    BodyMatch,
    BodyRawDescriptorReference,
    BodyReference,
    BodyReferenceMatches,
    EventReference,
    MatchedEvent,
)
from schemas.descriptor_formats import b64_bytes, common_version, decode_raw, decode_sdk
from schemas.descriptors import DEFAULT_BODY_DESCRIPTOR_VERSION, DESCRIPTOR_VERSIONS
from schemas.errors import (
    BAD_INPUT_DATA,
    MATCH_LIMIT_EXCEEDED,
    MATCH_VERSIONS_DIFFER,
    OBJECT_NOT_FOUND,
    SeleneError,
)
from schemas.events import HumanTrackingEvent
from schemas.faces import MAX_RESULT_CANDIDATES, ReferenceId
from schemas.recognition import TrackDescriptors
from streams.models.estimators.engine import Wanted

_BODY_DESCRIPTOR = Wanted(frozenset({"body_descriptor"}))


def body_row_id(event_id: UUID) -> UUID:
    return uuid.uuid5(event_id, "body")


def event_body(track: TrackDescriptors) -> StoredFace | None:
    """The track's body row, or None when the track has no body descriptor."""
    found = [d for d in track.descriptors if d.kind == "body"]
    if not found:
        return None
    version = found[0].descriptor_version
    mean = np.mean([d.vector for d in found if d.descriptor_version == version], axis=0)
    mean /= max(float(np.linalg.norm(mean)), 1e-12)
    envelope = track.event
    event = envelope.event
    assert isinstance(event, HumanTrackingEvent)
    return StoredFace(
        face_id=body_row_id(envelope.event_id), account_id=envelope.account_id, external_id=None, user_data="",
        avatar="", event_id=envelope.event_id, create_time=envelope.create_time, lists=[],
        descriptor_version=version, vector=[float(x) for x in mean], stream_id=envelope.stream_id,
        track_id=event.track_id,
    )


async def _image_vector(sdk: RemoteSdk, reference: BodyImageReference) -> tuple[int, np.ndarray]:
    raw = b64_bytes(reference.data)
    decode_image(raw)  # 18002 for what is not an image, before the engine is woken up
    [image] = (await sdk.sdk([InputImage(reference.id, raw)], SdkRequest(wanted=_BODY_DESCRIPTOR))).images_estimations
    bodies = [e.body.detection for e in image.estimations if e.body is not None]
    if not bodies:
        raise SeleneError(BAD_INPUT_DATA, f"no body found in image {reference.id!r}")
    largest = max(bodies, key=lambda d: d.rect.width * d.rect.height)
    assert largest.attributes.descriptor is not None and largest.attributes.descriptor.sdk_descriptor is not None
    return decode_sdk(largest.attributes.descriptor.sdk_descriptor)


async def reference_vector(store: FaceStore, sdk: RemoteSdk, account_id: UUID,
                           reference: BodyReference) -> tuple[int, np.ndarray]:
    if isinstance(reference, EventReference):
        rows = await store.query(account_id, FaceFilters(event_ids=[reference.id]), 0, 1, with_vectors=True)
        if not rows or rows[0].vector is None:
            raise SeleneError(OBJECT_NOT_FOUND, f"event bodies with id {reference.id}")
        return rows[0].descriptor_version, np.asarray(rows[0].vector, np.float32)
    if isinstance(reference, BodyRawDescriptorReference):
        found = reference.data.descriptor_version, decode_raw(reference.data.descriptor, reference.data.descriptor_version)
    elif isinstance(reference, BodyImageReference):
        found = await _image_vector(sdk, reference)
    else:
        found = decode_sdk(reference.data)
    if DESCRIPTOR_VERSIONS[found[0]].kind != "body":  # a face descriptor never meets a body
        raise SeleneError(MATCH_VERSIONS_DIFFER, [found[0], DEFAULT_BODY_DESCRIPTOR_VERSION])
    return found


def _filters(candidate: BodyCandidates) -> FaceFilters | None:
    """The store's filters; None when an empty id list leaves no candidate at all."""
    f = candidate.filters
    if [] in (f.event_ids, f.stream_ids, f.track_ids):
        return None
    return FaceFilters(event_ids=f.event_ids, stream_ids=f.stream_ids, track_ids=f.track_ids,
                       create_time__gte=f.create_time__gte, create_time__lt=f.create_time__lt)


def _event(row: StoredFace) -> MatchedEvent:
    assert row.event_id is not None
    return MatchedEvent(event_id=row.event_id, account_id=row.account_id, create_time=row.create_time,
                        stream_id=row.stream_id, track_id=row.track_id)


async def match_bodies(store: FaceStore, sdk: RemoteSdk, account_id: UUID, references: Sequence[BodyReference],
                       candidates: Sequence[BodyCandidates]) -> list[BodyReferenceMatches]:
    """Each reference against each candidate set, best first; 31007 past the result limit, 31005 when
    the references' versions differ."""
    for candidate in candidates:
        if candidate.limit > MAX_RESULT_CANDIDATES:
            raise SeleneError(MATCH_LIMIT_EXCEEDED, MAX_RESULT_CANDIDATES)
    vectors = [await reference_vector(store, sdk, account_id, r) for r in references]
    version = common_version(v for v, _ in vectors)
    per_set = []
    for candidate in candidates:
        filters = _filters(candidate)
        per_set.append([[] for _ in vectors] if filters is None else await store.search(
            account_id, version, [v.tolist() for _, v in vectors], limit=candidate.limit,
            threshold=candidate.threshold, filters=filters,
        ))
    return [
        BodyReferenceMatches(
            reference=ReferenceId(id=str(reference.id), type=reference.type),
            matches=[
                BodyCandidateSetResult(filters=candidate.filters, result=[
                    BodyMatch(event=_event(row), similarity=round(s, 6)) for row, s in per_set[k][i]])
                for k, candidate in enumerate(candidates)
            ],
        )
        for i, reference in enumerate(references)
    ]
