"""Bodies: human tracking's tracks as LUNA events with a body descriptor, and 1:N body search among the
events (``EventArchive`` with its ``kind="body"`` descriptor store).

An ended track whose best shots got body descriptors becomes one LUNA event under the track event's
id: its body detections (box, offset and time of each body best shot), ``stream_id``, ``track_id``,
start and end, and as its body descriptor the mean of the shots' descriptors, L2-normalised as each
MobileNetV2 vector is. Saving is idempotent on ``event_id``, so a replayed track stays one event.

MobileNetV2's ImageNet features are not trained for re-identification (``trained_for_reid`` False):
a body match is a lead (same clothes, same build), not an identity.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

import numpy as np

from analytics.recognition.event_descriptors import EventArchive
from analytics.sdk.images import InputImage
from analytics.sdk.service import RemoteSdk, SdkRequest
from infra.media.image import decode_image
from schemas.bodies import (
    BodyEventReference,
    BodyImageReference,
    BodyRawDescriptorReference,
    BodyReference,
    BodyReferenceMatches,
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
from schemas.faces import MAX_RESULT_CANDIDATES, EventCandidates, EventCandidateSetResult, ReferenceId
from schemas.luna_events import DetectionBox, EventDescriptor, EventDetection, LunaEvent
from schemas.recognition import TrackDescriptors
from schemas.sdk import Rect
from streams.models.estimators.engine import Wanted

_BODY_DESCRIPTOR = Wanted(frozenset({"body_descriptor"}))


def track_event(track: TrackDescriptors) -> LunaEvent | None:
    """The track as a LUNA event with its body descriptor; None when no best shot got one."""
    envelope = track.event
    event = envelope.event
    assert isinstance(event, HumanTrackingEvent)
    bodies = {d.descriptor_id: d for d in track.descriptors if d.kind == "body"}
    shots = [(s, bodies[s.descriptor_id]) for s in event.best_shots
             if s.descriptor_id is not None and s.descriptor_id in bodies]
    if not shots:
        return None
    version = shots[0][1].descriptor_version
    mean = np.mean([d.vector for _, d in shots if d.descriptor_version == version], axis=0)
    mean /= max(float(np.linalg.norm(mean)), 1e-12)
    start = event.video_segment.start_time_offset
    detections = [EventDetection(
        detect_time=envelope.create_time + timedelta(seconds=max(0.0, s.time_offset - start)), detect_ts=s.time_offset,
        detection=DetectionBox(rect=Rect(x=s.bbox.x, y=s.bbox.y, width=s.bbox.width, height=s.bbox.height)),
    ) for s, _ in shots]
    return LunaEvent(
        event_id=envelope.event_id, account_id=envelope.account_id, create_time=envelope.create_time,
        end_time=envelope.end_time, stream_id=envelope.stream_id, track_id=event.track_id, body_detections=detections,
        body_descriptor=EventDescriptor(vector=[float(x) for x in mean], descriptor_version=version),
    )


async def _image_vector(sdk: RemoteSdk, reference: BodyImageReference) -> tuple[int, np.ndarray]:
    raw = b64_bytes(reference.data)
    decode_image(raw)  # 18002 for what is not an image, before the engine is woken up
    [image] = (await sdk.sdk([InputImage(reference.id, raw)], SdkRequest(wanted=_BODY_DESCRIPTOR))).images_estimations
    found = [e.body.detection for e in image.estimations if e.body is not None]
    if not found:
        raise SeleneError(BAD_INPUT_DATA, f"no body found in image {reference.id!r}")
    largest = max(found, key=lambda d: d.rect.width * d.rect.height)
    assert largest.attributes.descriptor is not None and largest.attributes.descriptor.sdk_descriptor is not None
    return decode_sdk(largest.attributes.descriptor.sdk_descriptor)


async def reference_vector(archive: EventArchive, sdk: RemoteSdk, account_id: UUID,
                           reference: BodyReference) -> tuple[int, np.ndarray]:
    if isinstance(reference, BodyEventReference):
        stored = await archive.vector(account_id, reference.id, kind="body")
        if stored is None:  # unknown, another account's, or an event without a body descriptor
            raise SeleneError(OBJECT_NOT_FOUND, f"event with id {reference.id} and a body descriptor")
        return stored[0], np.asarray(stored[1], np.float32)
    if isinstance(reference, BodyRawDescriptorReference):
        data = reference.data
        found = data.descriptor_version, decode_raw(data.descriptor, data.descriptor_version)
    elif isinstance(reference, BodyImageReference):
        found = await _image_vector(sdk, reference)
    else:
        found = decode_sdk(reference.data)
    if DESCRIPTOR_VERSIONS[found[0]].kind != "body":  # a face descriptor never meets a body
        raise SeleneError(MATCH_VERSIONS_DIFFER, [found[0], DEFAULT_BODY_DESCRIPTOR_VERSION])
    return found


async def match_bodies(archive: EventArchive, sdk: RemoteSdk, account_id: UUID, references: Sequence[BodyReference],
                       candidates: Sequence[EventCandidates]) -> list[BodyReferenceMatches]:
    """Each reference against each candidate set of events, best first; 31007 past the result limit,
    31005 when the references' versions differ."""
    for candidate in candidates:
        if candidate.limit > MAX_RESULT_CANDIDATES:
            raise SeleneError(MATCH_LIMIT_EXCEEDED, MAX_RESULT_CANDIDATES)
    archive.descriptors("body")
    vectors = [await reference_vector(archive, sdk, account_id, r) for r in references]
    version = common_version(v for v, _ in vectors)
    plain = [v.tolist() for _, v in vectors]
    per_set: list[list[EventCandidateSetResult]] = [[] for _ in references]
    for candidate in candidates:
        try:
            found = await archive.match(account_id, version, plain, candidate.filters, candidate.limit, candidate.threshold)
        except ValueError as exc:  # a filter Milvus cannot express (control characters)
            raise SeleneError(BAD_INPUT_DATA, str(exc)) from None
        for i, events in enumerate(found):
            per_set[i].append(EventCandidateSetResult(filters=candidate.filters, result=events))
    return [BodyReferenceMatches(reference=ReferenceId(id=str(r.id), type=r.type), matches=per_set[i])
            for i, r in enumerate(references)]
