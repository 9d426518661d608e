"""LUNA's ``POST /6/videosdk``: a whole video analysed while the client waits, with the JSON of
``selene analyze`` (``streams.pipeline.analyze``, the processors' own logic, without Kafka).

The video is a URL in LUNA's body (``{"video": {"url": ...}, "analytics": [...]}``) or the request body
itself (an upload: a ``video/*`` or ``application/octet-stream`` body, the analytics as JSON in the
``analytics`` query parameter). The models run in a worker thread, one analysis at a time per API
process, so the event loop keeps serving. LUNA's deferred mode (a task with progress) waits for the
tasks service.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path
from typing import Any, Literal

import av
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, ValidationError

from infra.auth.authenticator import Principal
from infra.http.mount import Mount
from schemas.analytics import ANALYTIC_PARAMETERS
from schemas.errors import ANALYTICS_BAD_INPUT, UNSUPPORTED_ANALYTICS, VIDEO_DECODE_ERROR, SeleneError
from streams.detection import Detector
from streams.pipeline import analyze

UPLOAD_TYPES = ("video/", "application/octet-stream")


class VideoSdkVideo(BaseModel):
    url: str = Field(min_length=1, description="The video: an http(s) URL or a path the server can read.")


class VideoSdkAnalytic(BaseModel):
    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    targets: list[Literal["coordinates", "overview"]] | None = None


class VideoSdkInput(BaseModel):
    video: VideoSdkVideo
    analytics: list[VideoSdkAnalytic] = Field(min_length=1)


def _inlined(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with its ``$defs`` inlined: the OpenAPI document resolves a ``$ref`` from its
    own root, where ``#/$defs/...`` does not exist (ReDoc then renders nothing)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[1]])
            return {key: resolve(value) for key, value in node.items()}
        return [resolve(item) for item in node] if isinstance(node, list) else node

    return resolve(schema)


async def _caller(request: Request) -> Principal:
    return await request.app.state.context.auth.authenticate(request)


class _Analyzer:
    """The detector's models, loaded on the first request, and the lock that gives them to one video at a time."""

    def __init__(self) -> None:
        self._detector: Detector | None = None
        self._lock = asyncio.Lock()

    async def run(self, reference: str, shown_as: str, analytics: list[VideoSdkAnalytic]) -> dict[str, Any]:
        unknown = [a.name for a in analytics if a.name not in ANALYTIC_PARAMETERS]
        if unknown:
            raise SeleneError(UNSUPPORTED_ANALYTICS, ", ".join(unknown))
        pairs = [(a.name, {**a.parameters, **({"targets": a.targets} if a.targets is not None else {})})
                 for a in analytics]
        async with self._lock:
            try:
                return await asyncio.to_thread(self._analyze, reference, pairs)
            except ValidationError as exc:
                raise SeleneError(ANALYTICS_BAD_INPUT, str(exc)) from None
            except (av.FFmpegError, OSError) as exc:
                raise SeleneError(VIDEO_DECODE_ERROR, f"{shown_as}: {exc}") from None

    def _analyze(self, reference: str, pairs: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
        if self._detector is None:
            self._detector = Detector()
        return analyze(reference, pairs, detector=self._detector)


def _router() -> APIRouter:
    router = APIRouter(tags=["videosdk"])
    analyzer = _Analyzer()

    @router.post("/videosdk", summary="Analyse a video (URL or upload) and answer with the results (LUNA's videosdk)",
                 openapi_extra={"requestBody": {"content": {
                     "application/json": {"schema": _inlined(VideoSdkInput)},
                     "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    async def videosdk(
        request: Request,
        analytics: str | None = Query(None, description="With an upload: the analytics, as LUNA's JSON list."),
        caller: Principal = Depends(_caller),
    ) -> dict[str, Any]:
        """``analytics[].result.<key>.events[]`` (key ``crowd`` for people_count, ``human_tracking``) and
        ``video_data``, as ``selene analyze`` prints them. Errors: 43006 for an unknown analytic, 43008 for
        bad parameters, 43004 for a video that cannot be read."""
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(UPLOAD_TYPES):
            try:
                wanted = [VideoSdkAnalytic.model_validate(a) for a in json.loads(analytics or "[]")]
            except (ValueError, ValidationError, TypeError) as exc:
                raise SeleneError(ANALYTICS_BAD_INPUT, f"analytics: {exc}") from None
            if not wanted:
                raise SeleneError(ANALYTICS_BAD_INPUT, "analytics: give at least one, as a JSON list")
            with tempfile.TemporaryDirectory(prefix="selene-videosdk-") as folder:
                upload = Path(folder) / "upload"
                upload.write_bytes(await request.body())
                return await analyzer.run(str(upload), "upload", wanted)
        try:
            body = VideoSdkInput.model_validate_json(await request.body())
        except ValidationError as exc:
            raise SeleneError(ANALYTICS_BAD_INPUT, str(exc)) from None
        return await analyzer.run(body.video.url, body.video.url, body.analytics)

    return router


MOUNTS = (Mount(_router()),)
