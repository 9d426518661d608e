"""Detections: the columnar value type every processor consumes and produces (in the spirit of
supervision's ``Detections``), the detections topic's message, and shared value types: bounding boxes,
base64 bytes, track ids.

On Kafka a frame's objects are a JSON list of one object per box (``Detection``, ``TrackedObject``),
as before; in Python they are ``Detections``, numpy columns. ``AsRows`` is the one pair of functions
between the two, applied by pydantic when a message is read or written: a message is converted once, at
the topic boundary, and no processor handles per-box objects.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    GetCoreSchemaHandler,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import CoreSchema, core_schema

from schemas.base import Message
from schemas.frames import FrameEnvelope

TRACK_ID_PATTERN = r"^[a-zA-Z0-9_\-]{1,36}$"
TrackId = Annotated[str, StringConstraints(pattern=TRACK_ID_PATTERN)]
"""LUNA's ``track_id``: ``^[a-zA-Z0-9_\\-]{1,36}$`` (Events DB column ``varchar(36)``)."""


def _from_base64(value: Any) -> Any:
    # bytes stay raw (Python callers); text is base64 (JSON callers).
    if isinstance(value, str):
        try:
            return base64.b64decode(value, validate=True)
        except binascii.Error as e:
            raise ValueError(f"not valid base64: {e}") from None
    return value


def _to_base64(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


B64Bytes = Annotated[
    bytes,
    BeforeValidator(_from_base64),
    PlainSerializer(_to_base64, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "contentEncoding": "base64"}),
]
"""Bytes in Python, base64 text in JSON. Unlike pydantic's ``Base64Bytes``, raw bytes given in Python are
kept as they are, not base64-decoded."""


class BoundingBox(Message):
    """A box in source-frame pixels: LUNA's ``rect`` shape (``x``, ``y`` top-left, ``width``, ``height``)."""

    x: float
    y: float
    width: float = Field(ge=0)
    height: float = Field(ge=0)

    @property
    def x2(self) -> float:
        return self.x + self.width

    @property
    def y2(self) -> float:
        return self.y + self.height

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return self.x + self.width / 2, self.y + self.height / 2

    @property
    def bottom_center(self) -> tuple[float, float]:
        """Where a standing person touches the ground: the point line crossing and zones use."""
        return self.x + self.width / 2, self.y + self.height

    def iou(self, other: BoundingBox) -> float:
        w = min(self.x2, other.x2) - max(self.x, other.x)
        h = min(self.y2, other.y2) - max(self.y, other.y)
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        return inter / (self.area + other.area - inter)

    @classmethod
    def from_xyxy(cls, x1: float, y1: float, x2: float, y2: float) -> BoundingBox:
        return cls(x=x1, y=y1, width=max(0.0, x2 - x1), height=max(0.0, y2 - y1))


class Landmark(Message):
    """A keypoint (eye, nose, mouth corner) in source-frame pixels."""

    x: float
    y: float


class Detection(Message):
    """One row of a frame's detections on the wire (processors hold them as ``Detections``).

    ``crop`` is a small JPEG of the object, attached by the detection stage so that later stages (best
    shots, descriptors) never fetch the frame again; base64 in JSON.
    """

    detection_id: UUID = Field(default_factory=uuid4)
    kind: Literal["person", "face"]
    bbox: BoundingBox
    score: float = Field(ge=0, le=1)
    landmarks: list[Landmark] = Field(default_factory=list)
    crop: B64Bytes | None = Field(default=None, description="JPEG of the object, base64 in JSON.")
    track_id: TrackId | None = None


def objects(values: Iterable[Any]) -> np.ndarray:
    """A 1-D object array of ``values``, each kept whole (an array value stays one cell)."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    values = list(values)
    column = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        column[i] = value
    return column


def _as_column(values: np.ndarray | Iterable[Any]) -> np.ndarray:
    """Numbers and booleans become a typed array, anything else an object column (numpy would turn
    bytes into a fixed-width type that drops trailing NULs, and strings into one that truncates)."""
    if isinstance(values, np.ndarray):
        return values
    values = list(values)
    if values and all(isinstance(v, (bool, int, float, np.number, np.bool_)) for v in values):
        return np.asarray(values)
    return objects(values)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype != object or b.dtype != object:
        return a.shape == b.shape and bool(np.array_equal(a, b))
    return len(a) == len(b) and all(
        np.array_equal(x, y) if isinstance(x, np.ndarray) or isinstance(y, np.ndarray) else x == y
        for x, y in zip(a, b))


class Detections:
    """The objects of one frame as columns, one row per object, in source-frame pixels.

    - ``xyxy`` float32 (N, 4): x1, y1, x2, y2 (top-left and bottom-right corners);
    - ``scores`` float32 (N,); ``kinds`` object (N,): ``"person"`` or ``"face"``;
    - ``track_ids`` object (N,): LUNA's string ``track_id``, None where there is none (the ids are
      strings, so "none" is None rather than -1);
    - ``data``: any other per-row column, an array whose first axis has the N rows: ``landmarks``
      ((N, 5, 2) from a face detector; after a merge with rows that have none, an object column of
      (K, 2) arrays and None), ``crop`` (JPEG bytes), ``detection_id``, and the tracker's ``state``,
      ``age_frames``, ``moving``. Columns named like a field of the wire row reach the wire; others
      stay in the process.

    Select rows with a boolean mask or indices (``dets[dets.kinds == "person"]``) and join parts with
    ``merge``. Treated as immutable: methods return new objects.
    """

    __slots__ = ("data", "kinds", "scores", "track_ids", "xyxy")
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, xyxy: Any, scores: Any, kinds: str | Sequence[str] | np.ndarray,
                 track_ids: Sequence[str | None] | np.ndarray | None = None,
                 data: Mapping[str, np.ndarray | Sequence[Any]] | None = None) -> None:
        self.xyxy = np.asarray(xyxy, np.float32).reshape(-1, 4)
        n = len(self.xyxy)
        self.scores = np.asarray(scores, np.float32).reshape(n)
        self.kinds = objects([kinds] * n if isinstance(kinds, str) else kinds)
        self.track_ids = objects([None] * n if track_ids is None else track_ids)
        self.data = {k: _as_column(v) for k, v in (data or {}).items()}
        lengths = {len(self.kinds), len(self.track_ids), *(len(v) for v in self.data.values())}
        if lengths != {n}:
            raise ValueError(f"every column needs {n} rows, got lengths {sorted(lengths)}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), ())

    @classmethod
    def merge(cls, parts: Iterable[Detections]) -> Detections:
        """The rows of ``parts`` in order. A data column some parts lack is None in their rows."""
        parts = list(parts)
        if not parts:
            return cls.empty()
        data = {}
        for key in dict.fromkeys(k for part in parts for k in part.data):
            columns = [part.data.get(key) for part in parts]
            if any(c is None for c in columns) or len({(c.dtype == object, c.shape[1:]) for c in columns}) > 1:
                columns = [objects([None] * len(p)) if c is None else objects(c) for p, c in zip(parts, columns)]
            data[key] = np.concatenate(columns)
        return cls(np.concatenate([p.xyxy for p in parts]), np.concatenate([p.scores for p in parts]),
                   np.concatenate([p.kinds for p in parts]), np.concatenate([p.track_ids for p in parts]), data)

    def __len__(self) -> int:
        return len(self.scores)

    def __getitem__(self, index: Any) -> Detections:
        """The rows a boolean mask, an index array or a slice selects (an int selects one row)."""
        if isinstance(index, (int, np.integer)):
            index = [index]
        return Detections(self.xyxy[index], self.scores[index], self.kinds[index], self.track_ids[index],
                          {k: v[index] for k, v in self.data.items()})

    def with_data(self, **columns: np.ndarray | Sequence[Any]) -> Detections:
        """The same rows with ``columns`` added or replaced."""
        return Detections(self.xyxy, self.scores, self.kinds, self.track_ids, {**self.data, **columns})

    def box(self, i: int) -> BoundingBox:
        """Row ``i``'s box in LUNA's ``rect`` shape."""
        return BoundingBox.from_xyxy(*(float(v) for v in self.xyxy[i]))

    @property
    def centers(self) -> np.ndarray:
        """(N, 2) float64 box centres: where an object is with respect to LUNA's roi."""
        xyxy = self.xyxy.astype(np.float64)
        return (xyxy[:, :2] + xyxy[:, 2:]) / 2

    @property
    def bottom_centers(self) -> np.ndarray:
        """(N, 2) float64: where a standing person touches the ground (droi, zones, counting lines)."""
        xyxy = self.xyxy.astype(np.float64)
        return np.column_stack([(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 3]])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Detections):
            return NotImplemented
        return (self.data.keys() == other.data.keys() and _same(self.xyxy, other.xyxy)
                and _same(self.scores, other.scores) and _same(self.kinds, other.kinds)
                and _same(self.track_ids, other.track_ids)
                and all(_same(v, other.data[k]) for k, v in self.data.items()))

    def __repr__(self) -> str:
        return f"Detections({len(self)} rows, data={sorted(self.data)})"


_CORE = {"kind", "bbox", "score", "track_id"}  # wire fields held in Detections' own columns


def _column(annotation: Any, values: list[Any]) -> np.ndarray:
    if annotation is bool:
        return np.array(values, bool)
    if annotation is int:
        return np.array(values, np.int64)
    if annotation == list[Landmark]:
        return objects(np.array([(p.x, p.y) for p in v], np.float32).reshape(-1, 2) for v in values)
    return objects(values)


def _cells(annotation: Any, column: np.ndarray) -> list[Any]:
    if annotation == list[Landmark]:
        return [[] if v is None else [Landmark.model_construct(x=x, y=y) for x, y in np.asarray(v, float).tolist()]
                for v in column]
    return column.tolist() if column.dtype != object else list(column)


@dataclass(frozen=True)
class AsRows:
    """A pydantic field annotation: ``Detections`` in Python, a JSON list of ``row`` objects on the wire.

    ``Annotated[Detections, AsRows(Detection)]`` validates the list against ``row`` (errors point at the
    row and its field) and turns it into columns; writing turns the columns back into rows. These two
    functions are the only conversion between the wire and the columns.
    """

    row: type[BaseModel]

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        rows = handler.generate_schema(list[self.row])

        def validate(value: Any, validate_rows: core_schema.ValidatorFunctionWrapHandler) -> Detections:
            return value if isinstance(value, Detections) else self.from_rows(validate_rows(value))

        return core_schema.no_info_wrap_validator_function(
            validate, rows, serialization=core_schema.plain_serializer_function_ser_schema(
                self.to_rows, return_schema=rows))

    def from_rows(self, rows: list[Any]) -> Detections:
        fields = self.row.model_fields
        xyxy = [(r.bbox.x, r.bbox.y, r.bbox.x + r.bbox.width, r.bbox.y + r.bbox.height) for r in rows]
        return Detections(
            np.array(xyxy, np.float64).reshape(-1, 4), [r.score for r in rows], [r.kind for r in rows],
            [r.track_id for r in rows] if "track_id" in fields else None,
            {name: _column(field.annotation, [getattr(r, name) for r in rows])
             for name, field in fields.items() if name not in _CORE},
        )

    def to_rows(self, detections: Detections) -> list[BaseModel]:
        fields = self.row.model_fields
        cells = {name: _cells(fields[name].annotation, column)
                 for name, column in detections.data.items() if name in fields and name not in _CORE}
        scores = detections.scores.tolist()
        rows = []
        for i, (x1, y1, x2, y2) in enumerate(detections.xyxy.astype(np.float64).tolist()):
            values = {name: column[i] for name, column in cells.items()}
            values.update(kind=detections.kinds[i], score=scores[i], bbox=BoundingBox.model_construct(
                x=x1, y=y1, width=max(0.0, x2 - x1), height=max(0.0, y2 - y1)))
            if "track_id" in fields:
                values["track_id"] = detections.track_ids[i]
            rows.append(self.row.model_construct(**values))
        return rows


class DetectionBatch(FrameEnvelope):
    """The detections of one frame, on topic ``selene.detections`` (key ``stream_id``)."""

    detector: str = Field(description="Model that produced the detections, e.g. `nanodet-m`.")
    detections: Annotated[Detections, AsRows(Detection)] = Field(
        default_factory=Detections.empty, description="The frame's objects, one JSON object per box.")
    end_of_stream: bool = Field(False, description="The video is over: no detections; trackers end their tracks.")
    overview: B64Bytes | None = Field(
        default=None, description="Downscaled JPEG of the whole frame, when an analytic wants an overview."
    )
