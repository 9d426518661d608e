"""Analytic parameters: what a user sets per analytic of a stream, with LUNA's names.

Field names follow LUNA PLATFORM 5's ``/videosdk`` and Video Agent analytics (``probe_count``, ``rate``,
``roi``, ``droi``, ``targets``, ``image_retain_policy``, callbacks of type ``luna-event``); ``lines`` and
``zones`` are Selene extensions. These are REST shapes (``Body``): a typo in a parameter is an error, as
with LUNA's ``validation_schema``. The stream registry stores them merged with defaults as plain dicts
(``StreamConfig.analytics[].parameters``); a processor turns the dict back into a model with
:func:`parameters_for`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Literal, TypeVar
from uuid import UUID

from pydantic import Field, StringConstraints, field_validator, model_validator

from schemas.base import Body

AnalyticName = Literal["people_count", "human_tracking"]
CoordinateMode = Literal["abs", "percent"]
Flag = Literal[0, 1]

# Identifiers a user picks (line and zone ids); the same alphabet as LUNA's track_id.
ObjectId = Annotated[str, StringConstraints(pattern=r"^[a-zA-Z0-9_\-]{1,36}$")]

Polygon = list[tuple[float, float]]
"""One ring of (x, y) vertices."""

_T = TypeVar("_T")


def _check_percent(mode: str, **values: float) -> None:
    if mode != "percent":
        return
    for name, value in values.items():
        if not 0 <= value <= 100:
            raise ValueError(f"{name} must be within 0..100 in percent mode, got {value}")


class Rate(Body):
    """How often frames are processed: every ``period`` frames or seconds (LUNA ``rate``).

    LUNA's client shows ``Rate(unit="second", period=1)``; the frame unit's literal is not printed in
    LUNA's documents, Selene calls it ``"frame"``.
    """

    period: float = Field(gt=0, description="Process one frame every `period` units.")
    unit: Literal["frame", "second"] = Field(description="Unit of `period`.")

    @model_validator(mode="after")
    def _whole_frames(self) -> Rate:
        if self.unit == "frame" and not float(self.period).is_integer():
            raise ValueError(f"period must be a whole number of frames, got {self.period}")
        return self


class Roi(Body):
    """LUNA's ``roi``: a rectangle cut out of the frame before detection; 0x0 means the whole frame."""

    x: float = Field(default=0, ge=0, description="Left edge.")
    y: float = Field(default=0, ge=0, description="Top edge.")
    width: float = Field(default=0, ge=0)
    height: float = Field(default=0, ge=0)
    mode: CoordinateMode = Field(default="abs", description="`abs`: pixels; `percent`: percent of the frame.")

    @model_validator(mode="after")
    def _consistent(self) -> Roi:
        if (self.width == 0) != (self.height == 0):
            raise ValueError("width and height must both be 0 (whole frame) or both be positive")
        _check_percent(self.mode, x=self.x, y=self.y, width=self.width, height=self.height)
        if self.mode == "percent" and (self.x + self.width > 100 or self.y + self.height > 100):
            raise ValueError("roi reaches past the frame: x + width and y + height must be <= 100")
        return self

    @property
    def is_whole_frame(self) -> bool:
        return self.width == 0 and self.height == 0

    def to_pixels(self, frame_width: int, frame_height: int) -> tuple[int, int, int, int]:
        """(x, y, width, height) in pixels of a frame of this size, clipped to it."""
        if self.is_whole_frame:
            return 0, 0, frame_width, frame_height
        x, y, w, h = self.x, self.y, self.width, self.height
        if self.mode == "percent":
            x, w = x * frame_width / 100, w * frame_width / 100
            y, h = y * frame_height / 100, h * frame_height / 100
        x0, y0 = min(int(round(x)), frame_width), min(int(round(y)), frame_height)
        x1, y1 = min(int(round(x + w)), frame_width), min(int(round(y + h)), frame_height)
        return x0, y0, x1 - x0, y1 - y0


class Point(Body):
    """A point in frame coordinates (pixels or percent, per the enclosing object's ``mode``)."""

    x: float
    y: float


class DroiPoint(Point):
    """A vertex of a LUNA ``droi`` polygon."""


_WKT_TOKEN = re.compile(r"\s*(?:(\()|(\))|(,)|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([A-Za-z]+))")


class _WktParser:
    """Just enough WKT for (MULTI)POLYGON, so ``schemas`` needs no shapely."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _WKT_TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise ValueError(f"invalid WKT: unexpected character at position {pos}")
            self.tokens.append(match.group(match.lastindex or 0))
            pos = match.end()
        self.i = 0

    def _take(self, expected: str | None = None) -> str:
        if self.i >= len(self.tokens):
            raise ValueError(f"invalid WKT: text ends early{f', expected {expected!r}' if expected else ''}")
        token = self.tokens[self.i]
        if expected is not None and token != expected:
            raise ValueError(f"invalid WKT: expected {expected!r}, got {token!r}")
        self.i += 1
        return token

    def _number(self) -> float:
        token = self._take()
        try:
            return float(token)
        except ValueError:
            raise ValueError(f"invalid WKT: expected a number, got {token!r}") from None

    def _list(self, item: Callable[[], _T]) -> list[_T]:
        self._take("(")
        items = [item()]
        while self.i < len(self.tokens) and self.tokens[self.i] == ",":
            self._take(",")
            items.append(item())
        self._take(")")
        return items

    def _ring(self) -> Polygon:
        ring = self._list(lambda: (self._number(), self._number()))
        if len(ring) < 3:
            raise ValueError(f"invalid WKT: a ring needs at least 3 points, got {len(ring)}")
        return ring

    def _polygon(self) -> list[Polygon]:
        return self._list(self._ring)

    def parse(self) -> list[list[Polygon]]:
        kind = self._take().upper()
        if kind == "POLYGON":
            result = [self._polygon()]
        elif kind == "MULTIPOLYGON":
            result = self._list(self._polygon)
        else:
            raise ValueError(f"invalid WKT: only POLYGON and MULTIPOLYGON are supported, got {kind!r}")
        if self.i != len(self.tokens):
            raise ValueError(f"invalid WKT: unexpected {self.tokens[self.i]!r} after the geometry")
        return result


def parse_wkt(text: str) -> list[list[Polygon]]:
    """Polygons of a WKT POLYGON/MULTIPOLYGON: each a list of rings, the first the outer one, then holes."""
    return _WktParser(text).parse()


class Droi(Body):
    """LUNA's ``droi``: polygons on the source frame that filter results after detection.

    ``area`` is a list of polygons of ``{x, y}`` vertices, or WKT text (``POLYGON``/``MULTIPOLYGON``,
    holes allowed; LUNA v5.92). Only ``form: "common"`` exists in LUNA.
    """

    area: list[Annotated[list[DroiPoint], Field(min_length=3)]] | str = Field(
        description="Polygons of at least 3 vertices each, or WKT text."
    )
    mode: CoordinateMode = "abs"
    form: Literal["common"] = "common"

    @field_validator("area")
    @classmethod
    def _area(cls, area: list[list[DroiPoint]] | str) -> list[list[DroiPoint]] | str:
        if isinstance(area, str):
            parse_wkt(area)
        elif not area:
            raise ValueError("area needs at least one polygon")
        return area

    @model_validator(mode="after")
    def _percent(self) -> Droi:
        if self.mode == "percent":
            for polygon in self.polygons():
                for ring in polygon:
                    for x, y in ring:
                        _check_percent(self.mode, x=x, y=y)
        return self

    def polygons(
        self, frame_width: int | None = None, frame_height: int | None = None
    ) -> list[list[Polygon]]:
        """Polygons as rings of (x, y); in pixels when a percent-mode droi is given the frame size."""
        if isinstance(self.area, str):
            polygons = parse_wkt(self.area)
        else:
            polygons = [[[(p.x, p.y) for p in polygon]] for polygon in self.area]
        if self.mode == "percent" and frame_width is not None and frame_height is not None:
            sx, sy = frame_width / 100, frame_height / 100
            polygons = [[[(x * sx, y * sy) for x, y in ring] for ring in polygon] for polygon in polygons]
        return polygons


class ImageRetainPolicy(Body):
    """LUNA's ``image_retain_policy``: whether and how event images (overview, best shots) are kept.

    ``ttl`` is in days, as for LUNA Image Store objects (``-1``: forever; absent: the store's default).
    ``max_size`` bounds the larger side of a retained frame in pixels; ``0`` means no rescaling
    (LUNA v5.89, ``X-Luna-Image-Rescale``).
    """

    enable: Flag = 1
    ttl: int | None = Field(default=None, description="Days to keep the images; -1 keeps them forever.")
    max_size: int | None = Field(default=None, ge=0, description="Larger side in pixels; 0: no rescaling.")

    @field_validator("ttl")
    @classmethod
    def _ttl(cls, ttl: int | None) -> int | None:
        if ttl is not None and ttl != -1 and ttl < 1:
            raise ValueError("ttl must be -1 (forever) or at least 1 day")
        return ttl


class CallbackAuthorization(Body):
    """Credentials an HTTP callback sends: basic (``login``, ``password``) or bearer (``token``)."""

    type: Literal["basic", "bearer"]
    login: str | None = None
    password: str | None = None
    token: str | None = None

    @model_validator(mode="after")
    def _credentials(self) -> CallbackAuthorization:
        if self.type == "basic" and (self.login is None or self.password is None):
            raise ValueError("basic authorization needs login and password")
        if self.type == "bearer" and self.token is None:
            raise ValueError("bearer authorization needs token")
        return self


class HttpCallback(Body):
    """POST each result to ``url`` (the shape of LUNA's handler and task ``http`` callbacks)."""

    type: Literal["http"] = "http"
    enable: Flag = 1
    url: str = Field(pattern=r"^https?://\S+$")
    authorization: CallbackAuthorization | None = None
    content_type: Literal["application/json", "application/msgpack"] = "application/json"
    timeout: float = Field(default=60, gt=0, description="Seconds to wait for the receiver.")
    params: dict[str, str] | None = Field(default=None, description="Query parameters added to `url`.")


class LunaEventCallback(Body):
    """LUNA's ``luna-event`` callback: store each result as a general event (LUNA v5.86)."""

    type: Literal["luna-event"] = "luna-event"
    enable: Flag = 1


class WebsocketCallback(Body):
    """Publish each result to the stream's websocket (LUNA's stream events ws / Sender path)."""

    type: Literal["websocket"] = "websocket"
    enable: Flag = 1


AnalyticCallback = Annotated[
    HttpCallback | LunaEventCallback | WebsocketCallback, Field(discriminator="type")
]


class LineCrossing(Body):
    """A counting line (Selene extension): a track crossing it from ``start``→``end``'s right side to
    its left side (in image coordinates, y down) counts as ``in``, the other way as ``out``."""

    line_id: ObjectId
    start: Point
    end: Point
    mode: CoordinateMode = "abs"

    @model_validator(mode="after")
    def _line(self) -> LineCrossing:
        if (self.start.x, self.start.y) == (self.end.x, self.end.y):
            raise ValueError("a line needs two distinct points")
        for p in (self.start, self.end):
            _check_percent(self.mode, x=p.x, y=p.y)
        return self


class Zone(Body):
    """A polygon whose occupancy is counted and whose entries/exits are events (Selene extension)."""

    zone_id: ObjectId
    polygon: list[Point] = Field(min_length=3)
    mode: CoordinateMode = "abs"

    @model_validator(mode="after")
    def _zone(self) -> Zone:
        for p in self.polygon:
            _check_percent(self.mode, x=p.x, y=p.y)
        return self


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for v in values:
        if v in seen:
            raise ValueError(f"duplicate {what} {v!r}")
        seen.add(v)


class PeopleCountParameters(Body):
    """Parameters of LUNA's ``people_count`` analytic.

    An event (LUNA result key ``crowd``) starts on the last of ``probe_count`` consecutive processed
    frames that each show at least ``people_count_threshold`` people. LUNA documents no default for the
    threshold; Selene's is 1, so by default an event spans any period with people in view (raise it for
    crowd alerts). ``probe_count`` defaults to 3 (LUNA's worked example), ``rate`` to every 10 frames
    (LUNA's ``/videosdk`` default).
    """

    people_count_threshold: int = Field(default=1, ge=1)
    probe_count: int = Field(default=3, ge=1)
    rate: Rate = Field(default_factory=lambda: Rate(period=10, unit="frame"))
    roi: Roi = Field(default_factory=Roi)
    droi: Droi | None = None
    targets: list[Literal["coordinates", "overview"]] = Field(
        default_factory=list,
        description="`coordinates`: people's boxes per frame; `overview`: the frame with the most people.",
    )
    image_retain_policy: ImageRetainPolicy | None = None
    callbacks: list[AnalyticCallback] = Field(default_factory=list)
    lines: list[LineCrossing] = Field(default_factory=list, description="Selene extension: counting lines.")
    zones: list[Zone] = Field(default_factory=list, description="Selene extension: occupancy zones.")

    @model_validator(mode="after")
    def _unique_items(self) -> PeopleCountParameters:
        _unique(list(self.targets), "target")
        _unique([line.line_id for line in self.lines], "line_id")
        _unique([zone.zone_id for zone in self.zones], "zone_id")
        return self


class SamplesPolicy(Body):
    """LUNA's ``face_samples`` / ``body_samples``: how many best images a track's estimations use."""

    count: int = Field(default=1, ge=1, le=100)


class BestShotFilters(Body):
    """Which detections may become best shots: minimum ``score`` and head-pose limits in degrees
    (absolute angle), as in LUNA's human tracking best-shot filters. Absent: no limit."""

    score: float | None = Field(default=None, ge=0, le=1)
    head_pitch: float | None = Field(default=None, ge=0, le=180)
    head_roll: float | None = Field(default=None, ge=0, le=180)
    head_yaw: float | None = Field(default=None, ge=0, le=180)


class MatchPolicy(Body):
    """Match each track's face descriptor against watch lists (Selene's take on LUNA's handler
    ``match_policy``). ``threshold`` is the minimum similarity (0..1); absent: the matcher's default
    for the descriptor version."""

    list_ids: list[UUID] = Field(min_length=1)
    threshold: float | None = Field(default=None, ge=0, le=1)
    limit: int = Field(default=3, ge=1, le=30)


HumanTrackingTarget = Literal["face_descriptor", "body_descriptor", "best_shot_images"]


class HumanTrackingParameters(Body):
    """Parameters of LUNA's ``human_tracking`` analytic.

    A track starts when a ``detector_type`` detection is on ``probe_count`` consecutive processed frames
    and ends when detections stop; one event per track. ``rate`` defaults to every frame (LUNA v5.84).
    LUNA does not print the ``detector_type`` literals nor the human-tracking ``targets``; Selene's are
    ``face``/``body``/``face_body`` and ``face_descriptor``/``body_descriptor``/``best_shot_images``.
    """

    detector_type: Literal["face", "body", "face_body"] = "body"
    probe_count: int = Field(default=3, ge=1)
    rate: Rate = Field(default_factory=lambda: Rate(period=1, unit="frame"))
    roi: Roi = Field(default_factory=Roi)
    droi: Droi | None = None
    targets: list[HumanTrackingTarget] = Field(default_factory=list)
    face_samples: SamplesPolicy = Field(default_factory=SamplesPolicy)
    body_samples: SamplesPolicy = Field(default_factory=SamplesPolicy)
    best_shot_filters: BestShotFilters = Field(default_factory=BestShotFilters)
    image_retain_policy: ImageRetainPolicy | None = None
    callbacks: list[AnalyticCallback] = Field(default_factory=list)
    match_policy: MatchPolicy | None = None
    handler_id: UUID | None = Field(default=None, description="LUNA handler that turns tracks into events.")
    source_type: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _consistent(self) -> HumanTrackingParameters:
        _unique(list(self.targets), "target")
        faces = self.detector_type in ("face", "face_body")
        bodies = self.detector_type in ("body", "face_body")
        if "face_descriptor" in self.targets and not faces:
            raise ValueError("target 'face_descriptor' needs detector_type 'face' or 'face_body'")
        if "body_descriptor" in self.targets and not bodies:
            raise ValueError("target 'body_descriptor' needs detector_type 'body' or 'face_body'")
        if self.match_policy is not None and not faces:
            raise ValueError("match_policy matches faces: it needs detector_type 'face' or 'face_body'")
        return self

    @property
    def extracts_face_descriptor(self) -> bool:
        """Matching needs face descriptors even when the target is not asked for."""
        return "face_descriptor" in self.targets or self.match_policy is not None


AnalyticParameters = PeopleCountParameters | HumanTrackingParameters

ANALYTIC_PARAMETERS: dict[str, type[PeopleCountParameters] | type[HumanTrackingParameters]] = {
    "people_count": PeopleCountParameters,
    "human_tracking": HumanTrackingParameters,
}


def parameters_for(analytic_name: str, parameters: dict[str, object]) -> AnalyticParameters:
    """Validate ``parameters`` for a built-in analytic; ``KeyError`` for an analytic Selene does not run."""
    return ANALYTIC_PARAMETERS[analytic_name].model_validate(parameters)
