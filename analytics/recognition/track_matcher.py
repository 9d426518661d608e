"""Watch lists on streams: each track's face descriptor is matched against its stream's ``match_policy``
lists, and hits become a ``TrackMatches`` result (topic ``selene.matches``, which the stream websocket and
the analytic's callbacks deliver) plus a general event of type ``match`` (stored by the sink). The track
event itself is not re-published: each consumer of ``selene.analytics-events`` sees it once.

It runs where the face store is (the API process in embedded mode: Milvus Lite allows one process per
file) and reads ``selene.descriptors`` in its own consumer group. Delivery is at-least-once: offsets are
committed after the results are sent, and both results carry the same deterministic id
(``uuid5(event_id, "match")``) and content, so a replay replaces rather than duplicates them.

With an event archive, each track with body descriptors is also saved as a LUNA event with its body
descriptor (``bodies.track_event``; idempotent on event_id: a replay keeps one event), so
``/6/matcher/bodies`` and ``/6/events`` find the people human tracking has seen.
"""

from __future__ import annotations

import logging
import uuid

from analytics.recognition.bodies import track_event
from analytics.recognition.event_descriptors import EventArchive
from analytics.recognition.face_store import FaceStore
from infra.consumer import ConsumerService, Received
from infra.logs import for_stream
from infra.settings import MatcherSettings
from schemas.descriptors import Descriptor
from schemas.events import GeneralEventMessage, HumanTrackingEvent, ListMatch
from schemas.recognition import (
    DEFAULT_MATCH_THRESHOLD,
    MATCH_EVENT_TYPE,
    TrackDescriptors,
    TrackMatches,
)
from schemas.topics import DESCRIPTORS, GENERAL_EVENTS, MATCHES

log = logging.getLogger(__name__)
PROCESSOR = "matcher"


def best_face(track: TrackDescriptors) -> Descriptor | None:
    """The descriptor of the track's best face shot (best shots are kept best first)."""
    faces = {d.descriptor_id: d for d in track.descriptors if d.kind == "face"}
    event = track.event.event
    assert isinstance(event, HumanTrackingEvent)
    for shot in event.best_shots:
        if shot.descriptor_id in faces:
            return faces[shot.descriptor_id]
    return None


async def match_track(store: FaceStore, track: TrackDescriptors) -> list[ListMatch]:
    policy = track.match_policy
    face = best_face(track)
    if policy is None or face is None:
        return []
    threshold = DEFAULT_MATCH_THRESHOLD if policy.threshold is None else policy.threshold
    [hits] = await store.search(
        track.event.account_id, face.descriptor_version, [face.vector], list_ids=policy.list_ids, face_ids=None,
        limit=policy.limit, threshold=threshold,
    )
    wanted = set(policy.list_ids)
    return [
        ListMatch(list_id=list_id, face_id=stored.face_id, similarity=round(similarity, 6))
        for stored, similarity in hits
        for list_id in stored.lists
        if list_id in wanted
    ]


def results(track: TrackDescriptors, matches: list[ListMatch]) -> tuple[TrackMatches, GeneralEventMessage]:
    """The match result for live delivery, and the ``match`` general event an operator is alerted by."""
    envelope = track.event
    event = envelope.event
    assert isinstance(event, HumanTrackingEvent)
    match_id = uuid.uuid5(envelope.event_id, MATCH_EVENT_TYPE)
    result = TrackMatches(
        match_id=match_id, stream_id=envelope.stream_id, account_id=envelope.account_id, version=envelope.version,
        analytic_index=envelope.analytic_index, event_id=envelope.event_id, track_id=event.track_id,
        time=envelope.end_time or envelope.create_time, matches=matches,
    )
    alert = GeneralEventMessage(
        event_id=match_id, event_type=MATCH_EVENT_TYPE,
        account_id=envelope.account_id, event_create_time=envelope.create_time, event_end_time=envelope.end_time,
        stream_id=envelope.stream_id, track_id=event.track_id,
        event={
            "track_event_id": str(envelope.event_id),
            "matches": [m.model_dump(mode="json") for m in matches],
            "best_shot": next((s.model_dump(mode="json", exclude={"image"}) for s in event.best_shots), None),
        },
    )
    return result, alert


class TrackMatcher(ConsumerService):
    """The service: consume track descriptors, match, publish."""

    name = PROCESSOR

    def __init__(self, bootstrap: str, group_id: str, store: FaceStore, settings: MatcherSettings | None = None,
                 events: EventArchive | None = None) -> None:
        super().__init__(bootstrap, group_id, {DESCRIPTORS.name: TrackDescriptors}, settings or MatcherSettings())
        self.store = store
        self.events = events

    async def handle(self, topic: str, received: list[Received]) -> None:
        # Store and match the whole batch before publishing anything: a store outage then re-sends nothing.
        found = []
        for _, track in received:
            assert isinstance(track, TrackDescriptors)
            await self.save_body(track)
            found.append((track, await match_track(self.store, track)))
        for track, matches in found:
            if matches:
                await self._publish(track, matches)

    async def save_body(self, track: TrackDescriptors) -> None:
        if self.events is not None and (event := track_event(track)) is not None:
            await self.events.save([event])

    async def _publish(self, track: TrackDescriptors, matches: list[ListMatch]) -> None:
        assert self._producer is not None
        result, alert = results(track, matches)
        await self._producer.send_and_wait(MATCHES.name, result.model_dump_json().encode(), key=str(track.stream_id).encode())
        await self._producer.send_and_wait(GENERAL_EVENTS.name, alert.model_dump_json().encode(), key=str(alert.event_id).encode())
        for_stream(log, track.stream_id).info(
            "watch-list match", extra={"event_id": str(track.event.event_id), "faces": [str(m.face_id) for m in matches]}
        )
