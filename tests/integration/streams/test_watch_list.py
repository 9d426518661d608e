"""Watch lists end to end on the real broker, the real models and Milvus Lite: a face enrolled from a
Megamind frame is matched when the clip plays as a stream, as a match result on ``selene.matches`` and a
general event of type ``match``, while the track event is published once, without matches. Roxanne is on
screen to the clip's last frame: the end-of-video marker is what ends her track."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import pytest

from analytics.recognition.face_store import FaceStore, StoredFace
from analytics.recognition.track_matcher import TrackMatcher
from infra.settings import BrokerSettings, MatcherSettings, MilvusSettings
from schemas.events import AnalyticsEventMessage, GeneralEventMessage
from schemas.recognition import TrackMatches
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData
from schemas.topics import ANALYTICS_EVENTS, GENERAL_EVENTS, MATCHES
from streams import extraction
from streams.models.face_descriptor import FaceExtractor
from streams.runner import running
from tests.integration.streams.conftest import (
    TopicReader,
    publish_clip,
    publish_config,
    tracking_app,
)
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

DATA = Path(__file__).resolve().parents[2] / "data"
ACCOUNT, STREAM, LIST = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


async def enrol_roxanne(store: FaceStore) -> uuid.UUID:
    """Frame 12 is the clip's first non-black frame; Roxanne's is its largest face."""
    faces = FaceExtractor().extract(cv2.imread(str(DATA / "faces" / "megamind_frame12.jpg")))
    roxanne = max(faces, key=lambda f: f.area)
    face = StoredFace(
        face_id=uuid.uuid4(), account_id=ACCOUNT, external_id="roxanne", user_data="", avatar="", event_id=None,
        create_time=datetime.now(UTC), lists=[LIST], descriptor_version=1001, vector=roxanne.descriptor.tolist(),
    )
    await store.insert(face)
    return face.face_id


@pytest.fixture(scope="module")
async def pipeline(broker: BrokerSettings, milvus_client: Any) -> AsyncIterator[tuple[FaceStore, uuid.UUID]]:
    store = FaceStore(milvus_client, MilvusSettings(collection_prefix=f"w{uuid.uuid4().hex[:8]}_"))
    face_id = await enrol_roxanne(store)
    config = StreamConfig(
        stream_id=STREAM, account_id=ACCOUNT, version=1, data=StreamData(type="videofile", reference="megamind.mp4"),
        analytics=[StreamConfigAnalytic(index=0, analytic_name="human_tracking", parameters={
            "detector_type": "face", "probe_count": 2, "match_policy": {"list_ids": [str(LIST)]}})],
    )
    await publish_config(broker.bootstrap, config)
    app = tracking_app("watch", broker)
    extraction.register(app)
    matcher = TrackMatcher(broker.bootstrap, f"matcher-{uuid.uuid4().hex[:8]}", store, MatcherSettings())
    await matcher.start()
    try:
        async with running(app):
            yield store, face_id
    finally:
        await matcher.stop()


async def test_an_enrolled_face_is_matched_when_the_clip_plays(pipeline: tuple[FaceStore, uuid.UUID], broker: BrokerSettings) -> None:
    _, face_id = pipeline
    await publish_clip(broker.bootstrap, DATA / "megamind_clip.mp4", STREAM, every=2, limit=48, end=True)
    key = str(STREAM).encode()
    async with TopicReader(broker.bootstrap, GENERAL_EVENTS.name) as general, \
            TopicReader(broker.bootstrap, MATCHES.name) as results, \
            TopicReader(broker.bootstrap, ANALYTICS_EVENTS.name) as analytics:
        alerts = await eventually(
            general.poll, lambda r: any(b'"match"' in v and key in v for _, v in r), timeout=180)
        found = await eventually(results.poll, lambda r: any(k == key for k, _ in r), timeout=30)
        [result] = [TrackMatches.model_validate_json(v) for k, v in found if k == key]
        marker = str(result.event_id).encode()
        await eventually(analytics.poll, lambda r: any(k == key and marker in v and b'"ended"' in v for k, v in r), timeout=30)
        events = await analytics.poll()  # anything published after the ended event, too
    [alert] = [a for a in (GeneralEventMessage.model_validate_json(v) for _, v in alerts)
               if a.event_type == "match" and a.stream_id == STREAM]
    assert alert.account_id == ACCOUNT and alert.track_id is not None
    [hit] = [m for m in alert.event["matches"] if m["face_id"] == str(face_id)]
    assert hit["list_id"] == str(LIST) and 0.5 <= hit["similarity"] <= 1

    assert str(result.event_id) == alert.event["track_event_id"] and result.match_id == alert.event_id
    assert [m.model_dump(mode="json") for m in result.matches] == alert.event["matches"]
    assert (result.account_id, result.track_id, result.analytic_index) == (ACCOUNT, alert.track_id, 0)

    # The matched track's event went out as the tracker sent it (started, then ended), and was not re-sent.
    tracked = [AnalyticsEventMessage.model_validate_json(v) for k, v in events if k == key]
    matched = [m for m in tracked if m.event_id == result.event_id]
    assert [m.event.event_status for m in matched] == ["started", "ended"]  # type: ignore[union-attr]
    assert matched[-1].event.best_shots[0].image is None  # type: ignore[union-attr]  # no best_shot_images target
