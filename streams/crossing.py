"""Selene's extensions of people counting: counting lines (directional, debounced) and occupancy zones.

Both follow tracks, so they see each person once however long they stay in view. A track's anchor is
its box's bottom centre (see ``streams.geometry``). Both take a frame's person tracks (``Detections``
with the track columns of ``schemas.tracks``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

from schemas.analytics import LineCrossing, Zone
from schemas.detections import BoundingBox, Detections
from schemas.tracks import detected
from streams.geometry import in_zone, line_sides, zone_area


@dataclass
class _Side:
    confirmed: int = 0
    candidate: int = 0
    streak: int = 0


@dataclass(frozen=True)
class Crossing:
    line_id: str
    track_id: str
    bbox: BoundingBox
    direction: str  # "in" or "out"


class LineCounter:
    """In/out counts of one line. A crossing counts once the track has stayed ``debounce`` processed
    frames on the new side, so a box jittering on the line counts nothing."""

    def __init__(self, line: LineCrossing, debounce: int) -> None:
        self.line = line
        self.debounce = debounce
        self.sides: dict[str, _Side] = {}
        self.in_count = 0
        self.out_count = 0

    def update(self, tracks: Detections, width: int, height: int) -> list[Crossing]:
        crossings = []
        sides = line_sides(self.line, tracks, width, height)
        seen = detected(tracks)  # predicted positions of lost tracks are guesses
        for i, (track_id, state) in enumerate(zip(tracks.track_ids, tracks.data["state"])):
            if state == "ended":
                self.sides.pop(track_id, None)
                continue
            side = int(sides[i])
            if not seen[i] or side == 0:
                continue
            memory = self.sides.setdefault(track_id, _Side())
            if memory.confirmed == 0:
                memory.confirmed = side
            elif side == memory.confirmed:
                memory.candidate, memory.streak = 0, 0
            else:
                memory.streak = memory.streak + 1 if memory.candidate == side else 1
                memory.candidate = side
                if memory.streak >= self.debounce:
                    # Right (+1) to left (-1) of start→end is "in".
                    direction = "in" if memory.confirmed > 0 else "out"
                    memory.confirmed, memory.candidate, memory.streak = side, 0, 0
                    if direction == "in":
                        self.in_count += 1
                    else:
                        self.out_count += 1
                    crossings.append(Crossing(self.line.line_id, track_id, tracks.box(i), direction))
        return crossings


@dataclass
class ZoneChange:
    zone_id: str
    track_id: str
    entered: bool
    occupancy: int


@dataclass
class ZoneCounter:
    """Who is in one zone now, and how many entered so far."""

    zone: Zone
    inside: set[str] = field(default_factory=set)
    entries: int = 0
    _areas: dict[tuple[int, int], BaseGeometry] = field(default_factory=dict)

    def update(self, tracks: Detections, width: int, height: int) -> list[ZoneChange]:
        area = self._areas.get((width, height))
        if area is None:
            area = self._areas[width, height] = zone_area(self.zone, width, height)
        here, seen = in_zone(area, tracks), detected(tracks)
        now = set(self.inside)
        for i, (track_id, state) in enumerate(zip(tracks.track_ids, tracks.data["state"])):
            if state == "ended":
                now.discard(track_id)
            elif seen[i]:
                if here[i]:
                    now.add(track_id)
                else:
                    now.discard(track_id)
        entered, left = sorted(now - self.inside), sorted(self.inside - now)
        self.inside = now
        self.entries += len(entered)
        return ([ZoneChange(self.zone.zone_id, t, False, len(now)) for t in left]
                + [ZoneChange(self.zone.zone_id, t, True, len(now)) for t in entered])
