"""What the analytics see, drawn on a frame: the roi, lines and zones of a stream's analytics, the tracks'
boxes and ids, and the latest counts. Pure functions over a decoded BGR image."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
from pydantic import ValidationError

from schemas.analytics import LineCrossing, Point, Roi, Zone
from schemas.events import CountSample
from schemas.streams import Stream
from schemas.tracks import TrackUpdate

_BOX = (80, 220, 80)  # BGR: confirmed tracks
_TENTATIVE = (0, 200, 255)  # tracks not yet confirmed, and lost ones (predicted boxes)
_LINE = (255, 160, 0)
_ZONE = (255, 0, 200)
_ROI = (200, 200, 200)
_TEXT = (255, 255, 255)


@dataclass(frozen=True)
class Geometry:
    """The regions of a stream's analytics, as given (pixels or percent: resolved per frame size)."""

    rois: tuple[Roi, ...] = ()
    lines: tuple[LineCrossing, ...] = ()
    zones: tuple[Zone, ...] = ()

    @classmethod
    def of(cls, stream: Stream) -> Geometry:
        rois, lines, zones = [], [], []
        for analytic in stream.analytics:
            parameters = analytic.parameters
            try:
                if "roi" in parameters:
                    roi = Roi.model_validate(parameters["roi"])
                    if not roi.is_whole_frame:
                        rois.append(roi)
                lines += [LineCrossing.model_validate(line) for line in parameters.get("lines", [])]
                zones += [Zone.model_validate(zone) for zone in parameters.get("zones", [])]
            except ValidationError:
                continue  # validated when written; a region that no longer parses is not drawn
        return cls(tuple(rois), tuple(lines), tuple(zones))


@dataclass
class Overlay:
    """What is drawn on the next frame: its tracks and the stream's latest counts."""

    geometry: Geometry = field(default_factory=Geometry)
    tracks: TrackUpdate | None = None
    counts: CountSample | None = None


def _pixel(point: Point, mode: str, width: int, height: int) -> tuple[int, int]:
    if mode == "percent":
        return round(point.x * width / 100), round(point.y * height / 100)
    return round(point.x), round(point.y)


def _label(image: np.ndarray, text: str, at: tuple[int, int], color: tuple[int, int, int]) -> None:
    x, y = at
    (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
    y = max(y, h + 4)
    cv2.rectangle(image, (x, y - h - 4), (x + w + 4, y), color, -1)
    cv2.putText(image, text, (x + 2, y - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)


def _regions(image: np.ndarray, geometry: Geometry, counts: CountSample | None) -> None:
    height, width = image.shape[:2]
    for roi in geometry.rois:
        x, y, w, h = roi.to_pixels(width, height)
        cv2.rectangle(image, (x, y), (x + w, y + h), _ROI, 1)
    for zone in geometry.zones:
        points = np.array([_pixel(p, zone.mode, width, height) for p in zone.polygon], np.int32)
        cv2.polylines(image, [points], True, _ZONE, 2)
        inside = counts.zone_counts.get(zone.zone_id) if counts else None
        _label(image, f"{zone.zone_id}: {inside if inside is not None else '-'}", tuple(points.min(0)), _ZONE)
    for line in geometry.lines:
        start, end = _pixel(line.start, line.mode, width, height), _pixel(line.end, line.mode, width, height)
        cv2.line(image, start, end, _LINE, 2)
        crossed = f" in {counts.line_in.get(line.line_id, 0)} out {counts.line_out.get(line.line_id, 0)}" if counts else ""
        _label(image, f"{line.line_id}{crossed}", start, _LINE)


def _tracks(image: np.ndarray, tracks: TrackUpdate) -> None:
    rows = tracks.tracks
    states: Iterable[Any] = rows.data.get("state", ["confirmed"] * len(rows))
    for (x1, y1, x2, y2), track_id, state in zip(rows.xyxy.tolist(), rows.track_ids, states, strict=True):
        if state == "ended":
            continue
        color = _BOX if state == "confirmed" else _TENTATIVE
        cv2.rectangle(image, (round(x1), round(y1)), (round(x2), round(y2)), color, 2)
        _label(image, str(track_id)[:8], (round(x1), round(y1)), color)  # ids are UUIDs: the prefix tells them apart


def draw(image: np.ndarray, overlay: Overlay) -> np.ndarray:
    """``image`` (BGR, modified in place) with the overlay drawn on it."""
    _regions(image, overlay.geometry, overlay.counts)
    if overlay.tracks is not None:
        _tracks(image, overlay.tracks)
    if overlay.counts is not None:
        text = f"people: {overlay.counts.people_count}"
        cv2.putText(image, text, (10, image.shape[0] - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(image, text, (10, image.shape[0] - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.7, _TEXT, 1, cv2.LINE_AA)
    return image
