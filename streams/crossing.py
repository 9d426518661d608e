"""Selene's extensions of people counting: counting lines (directional, debounced) and occupancy zones.

Both follow tracks, so they see each person once however long they stay in view. A track's anchor is
its box's bottom centre (see ``streams.geometry``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schemas.analytics import LineCrossing, Zone
from schemas.tracks import TrackedObject
from streams.geometry import in_zone, line_side, zone_area


@dataclass
class _Side:
    confirmed: int = 0
    candidate: int = 0
    streak: int = 0


@dataclass(frozen=True)
class Crossing:
    line_id: str
    track: TrackedObject
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

    def update(self, tracks: list[TrackedObject], width: int, height: int) -> list[Crossing]:
        crossings = []
        for track in tracks:
            if track.state == "ended":
                self.sides.pop(track.track_id, None)
                continue
            if track.detection_id is None:
                continue  # predicted positions of lost tracks are guesses
            side = line_side(self.line, track.bbox, width, height)
            if side == 0:
                continue
            state = self.sides.setdefault(track.track_id, _Side())
            if state.confirmed == 0:
                state.confirmed = side
            elif side == state.confirmed:
                state.candidate, state.streak = 0, 0
            else:
                state.streak = state.streak + 1 if state.candidate == side else 1
                state.candidate = side
                if state.streak >= self.debounce:
                    # Right (+1) to left (-1) of start→end is "in".
                    direction = "in" if state.confirmed > 0 else "out"
                    state.confirmed, state.candidate, state.streak = side, 0, 0
                    if direction == "in":
                        self.in_count += 1
                    else:
                        self.out_count += 1
                    crossings.append(Crossing(self.line.line_id, track, direction))
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

    def update(self, tracks: list[TrackedObject], width: int, height: int) -> list[ZoneChange]:
        area = zone_area(self.zone, width, height)
        now = set(self.inside)
        for track in tracks:
            if track.state == "ended":
                now.discard(track.track_id)
            elif track.detection_id is not None:
                if in_zone(area, track.bbox):
                    now.add(track.track_id)
                else:
                    now.discard(track.track_id)
        entered, left = sorted(now - self.inside), sorted(self.inside - now)
        self.inside = now
        self.entries += len(entered)
        return ([ZoneChange(self.zone.zone_id, t, False, len(now)) for t in left]
                + [ZoneChange(self.zone.zone_id, t, True, len(now)) for t in entered])
