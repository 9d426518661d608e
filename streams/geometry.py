"""Where an object is with respect to an analytic's regions: LUNA's roi and droi, Selene's lines and zones.

Anchors: an object is in the ``roi`` when its box centre is (the roi is where LUNA looks); it is in a
``droi`` polygon or a zone when its bottom centre is (where a standing person touches the ground: the
business-logic regions are drawn on the floor). Polygons are shapely geometries, so WKT holes work.
"""

from __future__ import annotations

from functools import lru_cache

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.prepared import PreparedGeometry, prep

from schemas.analytics import Droi, LineCrossing, Roi, Zone
from schemas.detections import BoundingBox


def in_roi(box: BoundingBox, roi: Roi, width: int, height: int) -> bool:
    if roi.is_whole_frame:
        return True
    x, y, w, h = roi.to_pixels(width, height)
    cx, cy = box.center
    return x <= cx <= x + w and y <= cy <= y + h


@lru_cache(maxsize=256)
def _droi_area(droi_json: str, width: int, height: int) -> PreparedGeometry:
    droi = Droi.model_validate_json(droi_json)
    polygons = [Polygon(rings[0], rings[1:]) for rings in droi.polygons(width, height)]
    return prep(shapely.make_valid(MultiPolygon(polygons)) if len(polygons) > 1 else shapely.make_valid(polygons[0]))


def droi_area(droi: Droi, width: int, height: int) -> PreparedGeometry:
    """The droi's polygons (holes cut out) in pixels of a ``width`` x ``height`` frame."""
    return _droi_area(droi.model_dump_json(), width, height)


def in_droi(box: BoundingBox, droi: Droi | None, width: int, height: int) -> bool:
    if droi is None:
        return True
    return droi_area(droi, width, height).covers(shapely.Point(box.bottom_center))


def _scale(mode: str, width: int, height: int) -> tuple[float, float]:
    return (width / 100, height / 100) if mode == "percent" else (1.0, 1.0)


def zone_area(zone: Zone, width: int, height: int) -> PreparedGeometry:
    sx, sy = _scale(zone.mode, width, height)
    return prep(shapely.make_valid(Polygon([(p.x * sx, p.y * sy) for p in zone.polygon])))


def in_zone(area: PreparedGeometry, box: BoundingBox) -> bool:
    return area.covers(shapely.Point(box.bottom_center))


def line_side(line: LineCrossing, box: BoundingBox, width: int, height: int) -> int:
    """+1 right of start→end (image coordinates, y down), -1 left, 0 on the line or beyond its ends."""
    sx, sy = _scale(line.mode, width, height)
    x1, y1, x2, y2 = line.start.x * sx, line.start.y * sy, line.end.x * sx, line.end.y * sy
    px, py = box.bottom_center
    dx, dy = x2 - x1, y2 - y1
    along = ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)
    if not 0 <= along <= 1:
        return 0
    cross = dx * (py - y1) - dy * (px - x1)
    return (cross > 0) - (cross < 0)
