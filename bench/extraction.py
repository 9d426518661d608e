"""Descriptor extraction: ms per face for FaceExtractor (SCRFD + dlib landmarks + ResNet, and the dlib part
alone) and ms per person crop for BodyExtractor, against the bare SCRFD detector in the same run.

Run: ``.venv/bin/python -m bench.extraction``. Images: tests/data/faces (5 faces on 4 images) and the
people NanoDet finds on tests/data/vtest_*.jpg.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from bench.common import record, table
from infra.settings import InferenceSettings
from streams.models.body_descriptor import BodyExtractor
from streams.models.detectors import PersonDetector
from streams.models.face_descriptor import FaceExtractor

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
FACE_IMAGES = ("megamind_frame12", "astronaut", "messi", "basketball")
ROUNDS = 20


def timed(run: Callable[[], object], rounds: int = ROUNDS) -> float:
    """Seconds per round, after one warm-up round."""
    run()
    started = time.perf_counter()
    for _ in range(rounds):
        run()
    return (time.perf_counter() - started) / rounds


def person_crops(settings: InferenceSettings) -> list[np.ndarray]:
    detector = PersonDetector(settings)
    crops = []
    for path in sorted(DATA.glob("vtest_*.jpg"))[:8]:
        image = cv2.imread(str(path))
        [found] = detector.detect([image])
        crops += [image[int(y1):int(y2), int(x1):int(x2)] for x1, y1, x2, y2 in found.xyxy]
    return crops


def main() -> None:
    load_before = os.getloadavg()[0]
    settings = InferenceSettings()
    faces = FaceExtractor(settings)
    images = [cv2.imread(str(DATA / "faces" / f"{name}.jpg")) for name in FACE_IMAGES]
    found = [faces.detector.detect([image])[0] for image in images]
    count = sum(len(f) for f in found)

    t_detect = timed(lambda: [faces.detector.detect([image]) for image in images]) / count
    t_extract = timed(lambda: [faces.extract(image) for image in images]) / count
    t_describe = timed(lambda: [faces.describe(image, f.xyxy, f.data["landmarks"]) for image, f in zip(images, found)]) / count

    bodies = BodyExtractor(settings)
    crops = person_crops(settings)
    t_body_batch = timed(lambda: bodies.describe(crops)) / len(crops)
    t_body_single = timed(lambda: [bodies.describe([crop]) for crop in crops]) / len(crops)

    def row(path: str, seconds: float) -> list[str]:
        return [path, f"{seconds * 1000:.1f}", f"{seconds / t_detect:.2f}"]

    body = table(["path", "ms per face / crop", "ratio to bare SCRFD per face"], [
        row("bare SCRFD detector (baseline), one image at a time", t_detect),
        row("FaceExtractor.extract: SCRFD + dlib 5-point landmarks + chip + ResNet", t_extract),
        row("FaceExtractor.describe: landmarks + chip + ResNet on SCRFD's boxes", t_describe),
        row(f"BodyExtractor.describe, batch of {len(crops)} crops", t_body_batch),
        row("BodyExtractor.describe, one crop at a time", t_body_single),
    ])
    notes = (
        f"{count} faces on {len(images)} images of tests/data/faces (largest side 340-480 px, faces 30-110 px); "
        f"{len(crops)} NanoDet person crops from 8 vtest frames; mean of {ROUNDS} rounds after a warm-up; "
        f"{settings.threads} onnxruntime threads, backend {faces.detector.session.backend}. dlib runs on the CPU "
        f"(dlib-bin is built without CUDA) whatever the onnxruntime backend. 1-minute load average "
        f"{load_before:.2f} before, {os.getloadavg()[0]:.2f} after (other work on a shared machine inflates "
        f"every row; compare the ratios)."
    )
    record("Descriptor extraction (bench/extraction.py)", body, notes)


if __name__ == "__main__":
    main()
