"""Processor frames -> detections: people (NanoDet) and, where an analytic needs them, faces (SCRFD).

Frames are micro-batched across streams (``take_events(n, within=t)``) and decoded and run through the
detectors in a worker thread, so the event loop keeps consuming and committing meanwhile. A frame is
detected only when one of its stream's analytics is due by its ``rate``, only inside the union of the
analytics' ``roi`` rectangles (LUNA's roi saves work; each analytic still filters by its own), and faces
only for human tracking with a face ``detector_type``. Small JPEG crops ride along with the detections
only when a human-tracking analytic wants best-shot images or descriptors.

Claim-checked frames (``encoding="claim-check"``) are fetched from Redis by their key; one whose TTL ran
out goes to dead letter. The agent's end-of-video marker passes through as an empty, final batch.

Person detections go down to ``person_low_score_threshold`` for the tracker's second pass; consumers
that count detections directly should apply ``person_score_threshold``.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from uuid import UUID

import cv2
import faust
import numpy as np
from redis.exceptions import RedisError

from infra.claimcheck import ClaimCheck
from infra.dead_letter import send_dead_letter, validated
from infra.media.jpeg import encode_jpeg
from infra.settings import InferenceSettings, RedisSettings
from schemas.analytics import HumanTrackingParameters, PeopleCountParameters
from schemas.detections import BoundingBox, Detection, DetectionBatch, Landmark
from schemas.errors import (
    ANALYTICS_PROCESSING_FAILED,
    MESSAGE_UNDECODABLE,
    SERVICE_UNAVAILABLE,
    SeleneError,
)
from schemas.frames import FrameHeader
from schemas.rate import RateGate
from schemas.streams import StreamConfig
from schemas.topics import DETECTIONS, FRAMES
from streams.app import dead_letter_topic, topic
from streams.configs import analytics_of, stream_configs
from streams.models.detectors import Found, PersonDetector
from streams.models.face_hog import HogFaceDetector
from streams.models.faces import FaceDetector, face_detector

PROCESSOR = "detection"
OVERVIEW_SIZE = 640  # larger side of the overview JPEG: enough to see a crowd, small enough for Kafka

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """What to do with one due frame."""

    faces: bool
    persons: bool
    crops: bool
    region: tuple[int, int, int, int] | None  # x, y, width, height; None: the whole frame
    overview: bool = False


def plan_for(params: list, width: int, height: int) -> Plan:
    """What a frame's analytics need from detection."""
    tracking = [p for p in params if isinstance(p, HumanTrackingParameters)]
    faces = any(p.detector_type in ("face", "face_body") for p in tracking)
    persons = any(isinstance(p, PeopleCountParameters) or p.detector_type != "face" for p in params)
    crops = any(p.targets or p.match_policy is not None for p in tracking)
    rois = [p.roi for p in params]
    region = None
    if rois and not any(r.is_whole_frame for r in rois):
        rects = [r.to_pixels(width, height) for r in rois]
        x0, y0 = min(r[0] for r in rects), min(r[1] for r in rects)
        x1, y1 = max(r[0] + r[2] for r in rects), max(r[1] + r[3] for r in rects)
        if x1 > x0 and y1 > y0:
            region = (x0, y0, x1 - x0, y1 - y0)
    overview = any(isinstance(p, PeopleCountParameters) and "overview" in p.targets for p in params)
    return Plan(faces, persons, crops, region, overview)


class Scheduler:
    """Decides which frames to detect: per stream, a rate gate per analytic; rebuilt on a config change."""

    def __init__(self) -> None:
        self.streams: dict[UUID, tuple[tuple, list, list[RateGate]]] = {}

    def plan(self, header: FrameHeader, config: StreamConfig | None) -> Plan | None:
        """The frame's plan, or None when no analytic is due (or the frame is of an older version)."""
        analytics = analytics_of(config)
        key = (header.version, config.version if config else None, tuple(a.index for a, _ in analytics))
        current = self.streams.get(header.stream_id)
        if current is not None and current[0][0] > header.version:
            return None
        if current is None or current[0] != key:
            params = [p for _, p in analytics]
            current = self.streams[header.stream_id] = (key, params, [RateGate(p.rate) for p in params])
        _, params, gates = current
        due = [p for p, gate in zip(params, gates) if gate.due(header.frame_number, header.time_offset)]
        return plan_for(due, header.width, header.height) if due else None


def _crop(image: np.ndarray, box: np.ndarray, size: int) -> bytes:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    patch = image[max(y1, 0):max(y2, y1 + 1), max(x1, 0):max(x2, x1 + 1)]
    scale = size / max(patch.shape[:2])
    if scale < 1:
        patch = cv2.resize(patch, (max(1, int(patch.shape[1] * scale)), max(1, int(patch.shape[0] * scale))))
    return encode_jpeg(patch, quality=85)


class Detector:
    """Runs the detectors over a batch of frames; synchronous, meant for a worker thread."""

    def __init__(self, settings: InferenceSettings | None = None) -> None:
        self.settings = settings or InferenceSettings()
        self.persons = PersonDetector(self.settings)
        self._faces: FaceDetector | HogFaceDetector | None = None

    @property
    def faces(self) -> FaceDetector | HogFaceDetector:
        if self._faces is None:  # loaded on first need: most streams never ask for faces
            self._faces = face_detector(self.settings)
        return self._faces

    def name(self, plan: Plan) -> str:
        names = ([self.persons.name] if plan.persons else []) + ([self.settings.face_detector] if plan.faces else [])
        return "+".join(names) or self.persons.name

    def detect(self, frames: list[tuple[FrameHeader, np.ndarray, Plan]]) -> list[DetectionBatch]:
        crops = []
        for _, image, plan in frames:
            if plan.region is None:
                crops.append((image, 0, 0))
            else:
                x, y, w, h = plan.region
                crops.append((image[y:y + h, x:x + w], x, y))
        person_idx = [i for i, (_, _, p) in enumerate(frames) if p.persons]
        face_idx = [i for i, (_, _, p) in enumerate(frames) if p.faces]
        low = self.settings.person_low_score_threshold
        found_persons = dict(zip(person_idx, self.persons.detect([crops[i][0] for i in person_idx], low)))
        found_faces = dict(zip(face_idx, self.faces.detect([crops[i][0] for i in face_idx]))) if face_idx else {}
        batches = []
        for i, (header, image, plan) in enumerate(frames):
            _, dx, dy = crops[i]
            detections = []
            for kind, found in (("person", found_persons.get(i)), ("face", found_faces.get(i))):
                if found is not None:
                    detections += self._detections(kind, found, dx, dy, image if plan.crops else None)
            batches.append(DetectionBatch(
                stream_id=header.stream_id, version=header.version, frame_number=header.frame_number,
                time_offset=header.time_offset, timestamp=header.timestamp, width=header.width,
                height=header.height, detector=self.name(plan), detections=detections,
                overview=_crop(image, np.array([0, 0, header.width, header.height]), OVERVIEW_SIZE) if plan.overview else None,
            ))
        return batches

    def _detections(self, kind: str, found: Found, dx: int, dy: int, image: np.ndarray | None) -> list[Detection]:
        offset = np.array([dx, dy, dx, dy], np.float32)
        result = []
        for j in range(len(found)):
            box = found.boxes[j] + offset
            landmarks = []
            if found.landmarks is not None:
                landmarks = [Landmark(x=float(px + dx), y=float(py + dy)) for px, py in found.landmarks[j]]
            result.append(Detection(
                kind=kind, bbox=BoundingBox.from_xyxy(*map(float, box)), score=float(min(found.scores[j], 1.0)),
                landmarks=landmarks,
                crop=_crop(image, box, self.settings.crop_size) if image is not None else None,
            ))
        return result


async def fetch_claimed(claims: ClaimCheck, key: str) -> bytes:
    """A claim-checked frame's bytes; SeleneError when there are none (expired: 45002, Redis unreachable:
    45004), which the caller turns into a dead letter: a Redis outage costs frames, not the agent."""
    try:
        data = await claims.get(key)
    except RedisError as exc:
        raise SeleneError(SERVICE_UNAVAILABLE, "claim-check store", exc) from None
    if not data:
        raise SeleneError(MESSAGE_UNDECODABLE, f"claim-checked frame {key} expired")
    return data


def end_of_stream(header: FrameHeader) -> DetectionBatch:
    return DetectionBatch(
        stream_id=header.stream_id, version=header.version, frame_number=header.frame_number,
        time_offset=header.time_offset, timestamp=header.timestamp, width=header.width, height=header.height,
        detector="none", end_of_stream=True,
    )


def decode(jpeg: bytes, header: FrameHeader) -> np.ndarray:
    """The frame's pixels; ValueError when the bytes are not an image of the header's size."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) if jpeg else None
    if image is None:
        raise ValueError("not a decodable JPEG")
    if image.shape[:2] != (header.height, header.width):
        raise ValueError(f"image is {image.shape[1]}x{image.shape[0]}, header says {header.width}x{header.height}")
    return image


def _decode_and_detect(detector: Detector, items: list[tuple[FrameHeader, bytes, Plan]]
                       ) -> tuple[list[DetectionBatch], dict[int, str]]:
    """Detections of the decodable frames, and the reason each other frame (by position) failed."""
    good, failed = [], {}
    for i, (header, jpeg, plan) in enumerate(items):
        try:
            good.append((header, decode(jpeg, header), plan))
        except ValueError as exc:
            failed[i] = str(exc)
    return detector.detect(good), failed


def register(app: faust.App, settings: InferenceSettings | None = None) -> None:
    settings = settings or InferenceSettings()
    detections_topic = topic(app, DETECTIONS)
    dead_letters = dead_letter_topic(app)
    configs = stream_configs(app)
    scheduler = Scheduler()
    detector = Detector(settings)
    claims: ClaimCheck | None = None  # Redis, opened on the first claim-checked frame

    @app.agent(topic(app, FRAMES), name=PROCESSOR)
    async def detection(stream: faust.StreamT) -> None:
        nonlocal claims
        await configs.loaded.wait()  # a registered stream must not be processed with the defaults
        async for events in stream.take_events(settings.batch_size, within=settings.batch_window_ms / 1000):
            items, sources, ends = [], [], []
            for event in events:
                header = await validated(dead_letters, event, FrameHeader, PROCESSOR)
                if header is None:
                    continue
                if header.encoding == "end":
                    ends.append(end_of_stream(header))
                    continue
                plan = scheduler.plan(header, configs.get(header.stream_id))
                if plan is None:
                    continue
                data = event.value or b""
                if header.encoding == "claim-check":
                    claims = claims or ClaimCheck(RedisSettings().url)
                    try:
                        data = await fetch_claimed(claims, header.claim_key or "")
                    except SeleneError as exc:
                        await send_dead_letter(dead_letters, event, exc.error, exc.body.detail, PROCESSOR)
                        continue
                items.append((header, data, plan))
                sources.append(event)
            try:
                batches, undecodable = await asyncio.to_thread(_decode_and_detect, detector, items) if items else ([], {})
                failed = {i: (MESSAGE_UNDECODABLE, MESSAGE_UNDECODABLE.body(r).detail) for i, r in undecodable.items()}
            except Exception as exc:  # noqa: BLE001 - a model failure loses this batch to dead letter, not the agent
                log.exception("detection failed on a batch")
                detail = ANALYTICS_PROCESSING_FAILED.body(exc).detail
                batches, failed = [], {i: (ANALYTICS_PROCESSING_FAILED, detail) for i in range(len(items))}
            for i, (error, detail) in failed.items():
                await send_dead_letter(dead_letters, sources[i], error, detail, PROCESSOR)
            for batch in batches + ends:  # a stream's end follows its last frames (one partition per stream)
                await detections_topic.send(key=str(batch.stream_id).encode(), value=batch.model_dump_json().encode())
