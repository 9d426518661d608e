"""Processor frames -> detections: people (NanoDet) and, where an analytic needs them, faces (SCRFD).

Frames are micro-batched across streams (``take_events(n, within=t)``) and decoded and run through the
detectors in a worker thread, so the event loop keeps consuming and committing meanwhile. A frame is
detected only when one of its stream's analytics is due by its ``rate``, only inside the union of the
analytics' ``roi`` rectangles (LUNA's roi saves work; each analytic still filters by its own), and faces
only for human tracking with a face ``detector_type``. Small JPEG crops ride along with the detections
only when a human-tracking analytic wants best-shot images or descriptors.

A live source's frame that waited longer than the stale-frame age is skipped and counted
(``streams.staleness``), so that a worker over capacity stays live instead of falling behind for good.

Claim-checked frames (``encoding="claim-check"``) are fetched from Redis by their key; one whose TTL ran
out goes to dead letter. The agent's end-of-video marker passes through as an empty, final batch.

Person detections go down to ``person_low_score_threshold`` for the tracker's second pass; consumers
that count detections directly should apply ``person_score_threshold``.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

import cv2
import faust
import numpy as np
from redis.exceptions import RedisError

from infra.claimcheck import ClaimCheck
from infra.media.jpeg import encode_jpeg
from infra.settings import InferenceSettings, RedisSettings, WorkerSettings
from schemas.analytics import (
    AnalyticParameters,
    HumanTrackingParameters,
    PeopleCountParameters,
)
from schemas.detections import DetectionBatch, Detections, objects
from schemas.errors import (
    ANALYTICS_PROCESSING_FAILED,
    MESSAGE_UNDECODABLE,
    SERVICE_UNAVAILABLE,
    SeleneError,
)
from schemas.frames import FrameHeader
from schemas.rate import RateGate
from schemas.topics import DETECTIONS, FRAMES
from streams.configs import PerStream, StreamSetup, stream_configs
from streams.models.detectors import PersonDetector
from streams.models.face_hog import HogFaceDetector
from streams.models.faces import FaceDetector, face_detector
from streams.processor import Failed, Outcome, Publish, Received, processor
from streams.staleness import StaleFrames, register_reports

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


def plan_for(params: list[AnalyticParameters], width: int, height: int) -> Plan:
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
    """Decides which frames to detect: per stream, a rate gate per analytic, built again when the
    stream's setup or version changes."""

    def __init__(self) -> None:
        self.streams: PerStream[StreamSetup, list[tuple[AnalyticParameters, RateGate]]] = PerStream(self._build)

    @staticmethod
    def _build(stream_id: UUID, version: int, setup: StreamSetup) -> list[tuple[AnalyticParameters, RateGate]]:
        return [(p, RateGate(p.rate)) for _, p in setup.analytics]

    def plan(self, header: FrameHeader, setup: StreamSetup) -> Plan | None:
        """The frame's plan, or None when no analytic is due (or the frame is of an older version)."""
        gates, _ = self.streams.get(header, setup)
        due = [p for p, gate in gates or () if gate.due(header.frame_number, header.time_offset)]
        return plan_for(due, header.width, header.height) if due else None


def _crop(image: np.ndarray, box: np.ndarray, size: int) -> bytes:
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    patch = image[max(y1, 0):max(y2, y1 + 1), max(x1, 0):max(x2, x1 + 1)]
    scale = size / max(patch.shape[:2])
    if scale < 1:
        patch = cv2.resize(patch, (max(1, int(patch.shape[1] * scale)), max(1, int(patch.shape[0] * scale))))
    return encode_jpeg(patch, quality=85)


def _placed(found: Detections, dx: int, dy: int) -> Detections:
    """A region's detections in frame pixels, scores capped at the wire's bound of 1."""
    shift = np.array([dx, dy], np.float32)
    data = dict(found.data)
    if "landmarks" in data:
        data["landmarks"] = data["landmarks"] + shift
    return Detections(found.xyxy + np.tile(shift, 2), np.minimum(found.scores, 1.0), found.kinds, found.track_ids,
                      data)


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
            found = [_placed(f, dx, dy) for f in (found_persons.get(i), found_faces.get(i)) if f is not None]
            detections = Detections.merge(found)
            detections = detections.with_data(detection_id=objects(uuid.uuid4() for _ in range(len(detections))))
            if plan.crops:
                size = self.settings.crop_size
                detections = detections.with_data(crop=objects(_crop(image, box, size) for box in detections.xyxy))
            overview = None
            if plan.overview:
                overview = _crop(image, np.array([0, 0, header.width, header.height]), OVERVIEW_SIZE)
            batches.append(DetectionBatch.for_frame(header, detector=self.name(plan), detections=detections,
                                                    overview=overview))
        return batches


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
    return DetectionBatch.for_frame(header, detector="none", end_of_stream=True)


def decode(jpeg: bytes, header: FrameHeader) -> np.ndarray:
    """The frame's pixels; ValueError when the bytes are not an image of the header's size."""
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR) if jpeg else None
    if image is None:
        raise ValueError("not a decodable JPEG")
    if image.shape[:2] != (header.height, header.width):
        raise ValueError(f"image is {image.shape[1]}x{image.shape[0]}, header says {header.width}x{header.height}")
    return image


def _decode_and_detect(detector: Detector, items: list[tuple[FrameHeader, bytes, Plan]]) -> list[DetectionBatch | str]:
    """Per frame, its detections, or the reason it could not be decoded."""
    decoded: list[tuple[FrameHeader, np.ndarray, Plan] | str] = []
    for header, jpeg, plan in items:
        try:
            decoded.append((header, decode(jpeg, header), plan))
        except ValueError as exc:
            decoded.append(str(exc))
    batches = iter(detector.detect([d for d in decoded if not isinstance(d, str)]))
    return [d if isinstance(d, str) else next(batches) for d in decoded]


class FrameDetection:
    """The processor's logic on a micro-batch of frames, without Kafka: each frame's detection batch
    (an empty list when no analytic is due, an end-of-stream batch for the agent's marker) or the reason
    it failed. Decoding and inference run in a worker thread. With ``stale``, stale live frames are skipped."""

    def __init__(self, detector: Detector, setups: Callable[[UUID], StreamSetup],
                 stale: StaleFrames | None = None) -> None:
        self.detector = detector
        self.setups = setups
        self.stale = stale
        self.scheduler = Scheduler()
        self._claims: ClaimCheck | None = None  # Redis, opened on the first claim-checked frame

    async def __call__(self, frames: list[Received[FrameHeader]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        work: list[tuple[int, FrameHeader, bytes, Plan]] = []
        for frame in frames:
            header, data = frame.message, frame.value
            outcomes.append([])
            if header.encoding == "end":
                outcomes[-1] = [Publish(DETECTIONS, header.stream_id, end_of_stream(header))]
                continue
            if self.stale is not None and self.stale.stale(header):
                continue
            plan = self.scheduler.plan(header, self.setups(header.stream_id))
            if plan is None:
                continue
            if header.encoding == "claim-check":
                self._claims = self._claims or ClaimCheck(RedisSettings().url)
                try:
                    data = await fetch_claimed(self._claims, header.claim_key or "")
                except SeleneError as exc:
                    outcomes[-1] = Failed(exc.error, exc.body.detail)
                    continue
            work.append((len(outcomes) - 1, header, data, plan))
        if not work:
            return outcomes
        try:
            results = await asyncio.to_thread(_decode_and_detect, self.detector, [w[1:] for w in work])
        except Exception as exc:  # noqa: BLE001 - a model failure loses these frames to dead letter, not the others
            log.exception("detection failed on a batch")
            failed = Failed(ANALYTICS_PROCESSING_FAILED, ANALYTICS_PROCESSING_FAILED.body(exc).detail)
            results = [failed] * len(work)
        for (position, *_), result in zip(work, results, strict=True):
            if isinstance(result, str):
                outcomes[position] = Failed(MESSAGE_UNDECODABLE, MESSAGE_UNDECODABLE.body(result).detail)
            elif isinstance(result, Failed):
                outcomes[position] = result
            else:
                outcomes[position] = [Publish(DETECTIONS, result.stream_id, result)]
        return outcomes


def register(app: faust.App, settings: InferenceSettings | None = None, worker: WorkerSettings | None = None) -> None:
    settings = settings or InferenceSettings()
    worker = worker or WorkerSettings()
    configs = stream_configs(app)
    stale = StaleFrames(worker.stale_frame_seconds)
    register_reports(app, stale, worker.report_interval)
    logic = FrameDetection(Detector(settings), configs.get, stale)
    processor(app, PROCESSOR, FRAMES, FrameHeader, logic, outputs=(DETECTIONS,), configs=configs,
              batch=(settings.batch_size, settings.batch_window_ms / 1000))
