"""Where objects are with respect to an analytic's regions: LUNA's roi and droi, Selene's lines and zones.

Anchors: an object is in the ``roi`` when its box centre is (the roi is where LUNA looks); it is in a
``droi`` polygon or a zone when its bottom centre is (where a standing person touches the ground: the
business-logic regions are drawn on the floor). Polygons are shapely geometries, so WKT holes work.
Every test takes a frame's ``Detections`` and answers with one value per row. Polygons are built once
per frame size, by the analytic's own ``Regions`` and counters, not per frame.
"""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from schemas.analytics import Droi, LineCrossing, Roi, Zone
from schemas.detections import Detections


def _prepared(geometry: BaseGeometry) -> BaseGeometry:
    geometry = shapely.make_valid(geometry)
    shapely.prepare(geometry)
    return geometry


def _covers(area: BaseGeometry, points: np.ndarray) -> np.ndarray:
    if len(points) == 0:
        return np.zeros(0, bool)
    return np.asarray(shapely.covers(area, shapely.points(points)), bool)


def in_roi(dets: Detections, roi: Roi, width: int, height: int) -> np.ndarray:
    """Mask of the rows whose box centre is inside the roi (a 0x0 roi is the whole frame)."""
    if roi.is_whole_frame:
        return np.ones(len(dets), bool)
    x, y, w, h = roi.to_pixels(width, height)
    cx, cy = dets.centers.T
    return (x <= cx) & (cx <= x + w) & (y <= cy) & (cy <= y + h)


def droi_area(droi: Droi, width: int, height: int) -> BaseGeometry:
    """The droi's polygons (holes cut out) in pixels of a ``width`` x ``height`` frame."""
    polygons = [Polygon(rings[0], rings[1:]) for rings in droi.polygons(width, height)]
    return _prepared(MultiPolygon(polygons) if len(polygons) > 1 else polygons[0])


class Regions:
    """One analytic's roi and droi; the droi's polygons are built once per frame size."""

    def __init__(self, roi: Roi, droi: Droi | None) -> None:
        self.roi, self.droi = roi, droi
        self._areas: dict[tuple[int, int], BaseGeometry] = {}

    def inside(self, dets: Detections, width: int, height: int) -> np.ndarray:
        """Mask of the rows centred in the roi and standing in the droi."""
        mask = in_roi(dets, self.roi, width, height)
        if self.droi is not None:
            area = self._areas.get((width, height))
            if area is None:
                area = self._areas[width, height] = droi_area(self.droi, width, height)
            mask &= _covers(area, dets.bottom_centers)
        return mask


def _scale(mode: str, width: int, height: int) -> tuple[float, float]:
    return (width / 100, height / 100) if mode == "percent" else (1.0, 1.0)


def zone_area(zone: Zone, width: int, height: int) -> BaseGeometry:
    sx, sy = _scale(zone.mode, width, height)
    return _prepared(Polygon([(p.x * sx, p.y * sy) for p in zone.polygon]))


def in_zone(area: BaseGeometry, dets: Detections) -> np.ndarray:
    """Mask of the rows standing in the zone."""
    return _covers(area, dets.bottom_centers)


def line_sides(line: LineCrossing, dets: Detections, width: int, height: int) -> np.ndarray:
    """Per row: +1 right of start→end (image coordinates, y down), -1 left, 0 on the line or beyond its ends."""
    sx, sy = _scale(line.mode, width, height)
    x1, y1, x2, y2 = line.start.x * sx, line.start.y * sy, line.end.x * sx, line.end.y * sy
    px, py = dets.bottom_centers.T
    dx, dy = x2 - x1, y2 - y1
    along = ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)
    cross = dx * (py - y1) - dy * (px - x1)
    return np.where((along >= 0) & (along <= 1), np.sign(cross), 0).astype(int)
