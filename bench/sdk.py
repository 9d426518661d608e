"""``/6/sdk`` latency: ms per image with each estimator alone, against bare face (or body) detection in
the same run, and a batch of images in one multipart request against one request per image.

Run: ``.venv/bin/python -m bench.sdk``. The route, its request parsing, the service's inference thread
and LUNA's response are the API's own (the router mounted on a bare app over httpx's ASGI transport, so no
broker or store is needed); images: the four face photos of tests/data/faces and two vtest frames.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import httpx
import numpy as np
from fastapi import FastAPI

from analytics.sdk.routes import sdk
from analytics.sdk.service import RemoteSdk
from bench.common import record, table
from infra.http import errors
from infra.settings import InferenceSettings
from streams.models.estimators.color_type import face_color_type
from streams.models.estimators.detect import Detectors
from streams.models.estimators.eyes import eyes
from streams.models.estimators.head_pose import head_pose
from streams.models.estimators.landmarks68 import Landmarks68
from streams.models.estimators.mouth import mouth_opened
from streams.models.estimators.quality import quality
from streams.models.estimators.warp import face_warp
from streams.models.face_descriptor import FaceExtractor
from streams.models.runtime import inference_backend

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FACES = [DATA / "faces" / f"{n}.jpg" for n in ("astronaut", "messi", "basketball", "megamind_frame12")]
FRAMES = [DATA / "vtest_0000.jpg", DATA / "vtest_0100.jpg"]
ROUNDS = 6
NO_DESCRIPTOR = "estimate_face_descriptor=0&estimate_body_descriptor=0"
FACE_ROWS = [
    ("bare face detection (baseline)", "detect_face=1"),
    ("landmarks68", "estimate_landmarks68=1"),
    ("head_pose", "estimate_head_pose=1"),
    ("quality", "estimate_quality=1"),
    ("eyes", "estimate_eyes_attributes=1"),
    ("mouth_attributes", "estimate_mouth_attributes=1"),
    ("face_warp", "estimate_face_warp=1"),
    ("face_descriptor", "estimate_face_descriptor=1"),
    ("all face estimators", "estimate_head_pose=1&estimate_quality=1&estimate_eyes_attributes=1"
     "&estimate_mouth_attributes=1&estimate_face_warp=1&estimate_landmarks68=1&estimate_face_descriptor=1"),
]
BODY_ROWS = [
    ("bare body detection (baseline)", "detect_body=1"),
    ("people_count", "estimate_people_count=1&people_count_coordinates=1"),
    ("body_warp", "estimate_body_warp=1"),
    ("body_descriptor", "estimate_body_descriptor=1"),
]


def _app(service: RemoteSdk) -> FastAPI:
    app = FastAPI()
    app.state.context = type("Context", (), {"sdk": service})()
    errors.install(app)
    app.include_router(sdk.router, prefix="/6")
    return app


async def _request(client: httpx.AsyncClient, query: str, images: list[bytes], batched: bool) -> float:
    """Seconds for the images: in one multipart request, or one request per image."""
    started = time.perf_counter()
    if batched:
        files = [("image", (f"{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)]
        response = await client.post(f"/6/sdk?{query}", files=files)
        assert response.status_code == 200, response.text
    for data in () if batched else images:
        response = await client.post(f"/6/sdk?{query}", content=data, headers={"content-type": "image/jpeg"})
        assert response.status_code == 200, response.text
    return time.perf_counter() - started


async def _paired(client: httpx.AsyncClient, baseline: str, query: str, images: list[bytes],
                  batched: bool) -> tuple[float, float]:
    """Median ms per image of the baseline and of the query, run alternately round by round so that the
    load of a shared machine weighs on both alike (after a warm-up, which also loads the models)."""
    await _request(client, query, images, batched)
    base, row = [], []
    for _ in range(ROUNDS):
        base.append(await _request(client, baseline, images, batched))
        row.append(await _request(client, query, images, batched))
    scale = 1000 / len(images)
    return statistics.median(base) * scale, statistics.median(row) * scale


def per_face() -> list[list[str]]:
    """ms per face of each estimator's own work, in-process: the minimum over rounds, the figure a busy
    shared machine disturbs least."""
    settings = InferenceSettings()
    detectors, landmarks, faces = Detectors(settings), Landmarks68(settings), FaceExtractor(settings)
    images = [cv2.imread(str(p)) for p in FACES]
    found = [(image, face) for image, boxes in zip(images, detectors.faces(images)) for face in boxes]
    rgb = {id(image): np.ascontiguousarray(image[:, :, ::-1]) for image in images}
    points = [landmarks(rgb[id(i)], f.box, f.landmarks5) for i, f in found]
    warps = [face_warp(i, f.landmarks5) for i, f in found]
    work: list[tuple[str, Callable[[], object]]] = [
        ("face detection (SCRFD), per image", lambda: detectors.faces(images)),
        ("landmarks68 (dlib)", lambda: [landmarks(rgb[id(i)], f.box, f.landmarks5) for i, f in found]),
        ("head_pose (solvePnP)", lambda: [head_pose(p, (640, 480)) for p in points]),
        ("eyes + mouth (landmark geometry)", lambda: [(eyes(p), mouth_opened(p)) for p in points]),
        ("face_warp", lambda: [face_warp(i, f.landmarks5) for i, f in found]),
        ("quality", lambda: [quality(w) for w in warps]),
        ("face_color_type", lambda: [face_color_type(w) for w in warps]),
        ("face_descriptor (dlib ResNet)", lambda: [faces.describe(i, f.box[None], f.landmarks5[None]) for i, f in found]),
    ]
    rows = []
    for name, run in work:
        run()
        best = min(_timed(run) for _ in range(ROUNDS))
        count = len(images) if "per image" in name else len(found)
        rows.append([name, f"{best / count * 1000:.2f}"])
    return rows


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


async def main() -> None:
    service = RemoteSdk()
    load = os.getloadavg()[0]
    faces, frames = [p.read_bytes() for p in FACES], [p.read_bytes() for p in FRAMES]
    rows = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(service)), base_url="http://bench",
                                 timeout=120) as client:
        for images, kind, table_rows in ((faces, "face photo", FACE_ROWS), (frames, "vtest frame", BODY_ROWS)):
            baseline = f"{table_rows[0][1]}&{NO_DESCRIPTOR}"
            for name, flags in table_rows:
                query = flags if "descriptor=1" in flags else f"{flags}&{NO_DESCRIPTOR}"
                base, alone = await _paired(client, baseline, query, images, batched=False)
                _, batch = await _paired(client, baseline, query, images, batched=True)
                rows.append([kind, name, f"{alone:.1f}", f"{batch:.1f}", f"{alone / base:.2f}",
                             f"{alone - base:+.1f}"])
    service.close()
    record("Estimators, ms per face (bench/sdk.py)", table(["estimator", "ms per face, in-process, best of rounds"],
                                                         per_face()),
           f"The 5 faces of {len(FACES)} photos in tests/data/faces; minimum over {ROUNDS} rounds.")
    record(
        "Remote SDK /6/sdk (bench/sdk.py)",
        table(["images", "estimator", "ms / image, one request each", f"ms / image, {len(faces)} per multipart",
               "ratio to bare detection", "ms over bare detection"], rows),
        f"{len(faces)} face photos of tests/data/faces (5 faces, 180-480 px wide) and {len(frames)} vtest frames "
        f"(768x576); each row asks for one estimator (its detection implied), face and body descriptors off "
        f"unless the row is theirs; median of {ROUNDS} rounds after a warm-up, each row's rounds alternating with bare detection's; the API's route over httpx's ASGI "
        f"transport; backend {inference_backend()}, dlib on the CPU. 1-minute load average {load:.2f} before, "
        f"{os.getloadavg()[0]:.2f} after (other work on a shared machine inflates every row; compare the ratios).",
    )


if __name__ == "__main__":
    asyncio.run(main())
