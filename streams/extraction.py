"""Processor best-shots -> descriptors: a finished track's best-shot crops become face (dlib 128-D) and
body (MobileNetV2, not re-ID-trained) descriptors, sent with the track's event to the matcher.

Descriptor ids are derived from the event id and the shot's place, so a replayed message yields the
same ids and the stores downstream stay idempotent. A crop that cannot be decoded, or in which no face
is found again, simply gets no descriptor.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import cv2
import faust
import numpy as np

from infra.logs import for_stream
from infra.settings import InferenceSettings
from schemas.descriptors import Descriptor
from schemas.events import BestShot, HumanTrackingEvent
from schemas.recognition import BestShotsMessage, TrackDescriptors
from schemas.topics import BEST_SHOTS, DESCRIPTORS
from streams.models.body_descriptor import BodyExtractor
from streams.models.face_descriptor import FaceExtractor
from streams.processor import Outcome, Publish, Received, processor

PROCESSOR = "extraction"

log = logging.getLogger(__name__)


def _pixels(jpeg: bytes) -> np.ndarray | None:
    return cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) if jpeg else None


class Extraction:
    """The processor's logic, without Kafka. Models load on first use; call from one thread only."""

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self._faces: FaceExtractor | None = None
        self._bodies: BodyExtractor | None = None

    def _vector(self, shot: BestShot, message: BestShotsMessage) -> tuple[int, list[float], bool] | None:
        image = _pixels(shot.image or b"")
        if image is None:
            return None
        if shot.kind == "face" and message.face_descriptor:
            self._faces = self._faces or FaceExtractor(self.settings)
            sample = self._faces.describe_crop(image)
            if sample is None:
                return None
            return self._faces.descriptor_version, sample.descriptor.tolist(), True
        if shot.kind == "body" and message.body_descriptor:
            self._bodies = self._bodies or BodyExtractor(self.settings)
            vector = self._bodies.describe([image])[0]
            return self._bodies.descriptor_version, vector.tolist(), self._bodies.trained_for_reid
        return None

    def run(self, message: BestShotsMessage) -> TrackDescriptors:
        envelope = message.event
        event = envelope.event
        assert isinstance(event, HumanTrackingEvent)
        descriptors: list[Descriptor] = []
        shots: list[BestShot] = []
        for place, shot in enumerate(event.best_shots):
            found = self._vector(shot, message)
            descriptor_id = None
            if found is not None:
                version, vector, reid = found
                descriptor_id = uuid.uuid5(envelope.event_id, f"best-shot-{place}")
                descriptors.append(Descriptor(
                    descriptor_id=descriptor_id, kind=shot.kind, descriptor_version=version, vector=vector,
                    account_id=envelope.account_id, stream_id=envelope.stream_id, track_id=event.track_id,
                    event_id=envelope.event_id, create_time=envelope.end_time or envelope.create_time,
                    trained_for_reid=reid,
                ))
            shots.append(shot.model_copy(update={
                "descriptor_id": descriptor_id, "image": shot.image if message.keep_images else None,
            }))
        published = envelope.model_copy(update={"event": event.model_copy(update={"best_shots": shots})})
        return TrackDescriptors(stream_id=message.stream_id, event=published, descriptors=descriptors,
                                match_policy=message.match_policy)


def register(app: faust.App) -> None:
    extraction = Extraction()
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extraction")  # dlib wants one thread

    async def logic(batch: list[Received[BestShotsMessage]]) -> list[Outcome]:
        # One track at a time (no batch option): a track that fails goes to dead letter alone.
        [item] = batch
        result = await asyncio.get_running_loop().run_in_executor(thread, extraction.run, item.message)
        for_stream(log, item.message.stream_id).info(
            "track descriptors extracted",
            extra={"event_id": str(item.message.event.event_id), "descriptors": len(result.descriptors)},
        )
        return [[Publish(DESCRIPTORS, item.message.stream_id, result)]]

    processor(app, PROCESSOR, BEST_SHOTS, BestShotsMessage, logic, outputs=(DESCRIPTORS,))
