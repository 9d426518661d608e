"""LUNA's ``samples`` tag, ``POST /6/detector`` ("detect faces"): detect faces, store their warps as
samples (always: LUNA has no switch for it here), and answer the estimations asked for."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from analytics.recognition.detection import DetectPolicy, Detector, ImageResult, sample_detection
from analytics.recognition.routes.deps import detector
from analytics.sdk.images import parse_images
from analytics.sdk.routes.sdk import IMAGE_BODY
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas.detector import (
    DetectorImage,
    DetectorResponse,
    FilteredDetections,
    FilteredFace,
    ImageDetections,
)
from schemas.errors import BAD_QUERY, ESTIMATOR_NOT_INITIALIZED, SUCCESS, SeleneError
from streams.models.estimators.registry import BY_FLAG

router = APIRouter(tags=["samples"])
Flag = Annotated[int, Query(ge=0, le=1)]
Angle = Annotated[int | None, Query(ge=0, le=180, description="Largest |angle| kept, degrees; 180: no filter.")]
# Flags of /detector and the registry estimators they name; the landmarks, the head pose and the gaze
# need the face in the photo, not an aligned warp (LUNA refuses them with warped_image=1 too).
_FLAGS = ("estimate_head_pose", "estimate_emotions", "estimate_mask", "detect_landmarks68", "extract_exif",
          "estimate_quality", "estimate_gaze", "estimate_eyes_attributes", "estimate_mouth_attributes")
_NOT_ON_WARPS = frozenset({"head_pose", "landmarks68", "gaze"})


class DetectorQuery:
    """LUNA's ``detect faces`` query."""

    def __init__(
        self, multiface_policy: Annotated[int, Query(ge=0, le=2)] = 1,
        estimate_head_pose: Flag = 0, estimate_emotions: Flag = 0, estimate_mask: Flag = 0,
        detect_landmarks68: Flag = 0, extract_exif: Flag = 0, estimate_quality: Flag = 0, estimate_gaze: Flag = 0,
        estimate_eyes_attributes: Flag = 0, estimate_mouth_attributes: Flag = 0,
        pitch_threshold: Angle = None, roll_threshold: Angle = None, yaw_threshold: Angle = None,
        warped_image: Flag = 0, use_exif_info: Flag = 1, estimate_face_quality: Flag = 0,
    ) -> None:
        given = locals()
        names = frozenset(BY_FLAG[flag].name for flag in _FLAGS if given[flag])
        if estimate_face_quality:  # LUNA's custom ISO checks: Selene answers the ISO profile at /6/iso only
            raise SeleneError(ESTIMATOR_NOT_INITIALIZED, "face_quality", "custom face quality checks are not "
                              "implemented; POST /6/iso answers the ISO/IEC 19794-5 checks")
        angles = tuple(180.0 if t is None else float(t) for t in (pitch_threshold, roll_threshold, yaw_threshold))
        policy = DetectPolicy(multiface_policy=multiface_policy, estimators=names, image_type=warped_image,
                              use_exif=bool(use_exif_info), max_angles=angles)  # type: ignore[arg-type]
        if warped_image and (names & _NOT_ON_WARPS or policy.filters_pose):
            refused = sorted(names & _NOT_ON_WARPS) or ["pose thresholds"]
            raise SeleneError(BAD_QUERY, f"{', '.join(refused)} not supported with warped images")
        self.policy = policy


def _image(result: ImageResult) -> DetectorImage:
    if result.error is not None:
        return DetectorImage(filename=result.image.filename, status=0, error=result.error.body)
    return DetectorImage(
        filename=result.image.filename, status=1, error=SUCCESS.body(),
        detections=ImageDetections(
            samples=[sample_detection(person) for person in result.people],
            filtered_detections=FilteredDetections(face_detections=[
                FilteredFace(detection=f.face.detection, filter_reasons=f.reasons) for f in result.filtered]),
        ),
    )


@router.post("/detector", status_code=201, response_model=DetectorResponse, response_model_exclude_none=True,
             openapi_extra=IMAGE_BODY, summary="Detect faces, store their samples and estimate their properties")
async def detect_faces(
    request: Request, query: DetectorQuery = Depends(), caller: Principal = Depends(access("face_sample", "creation")),
    faces: Detector = Depends(detector),
) -> DetectorResponse:
    """The body: one image (``image/*``, or ``image/x-*-base64``), several in ``multipart/form-data``, or
    JSON ``{"images": [{"image": "<Base64>", "filename": "...", "face_bounding_boxes": [{"x", "y",
    "width", "height"}]}]}``. In multipart, an ``application/json`` part ``{"face_bounding_boxes": [...]}``
    gives the boxes of the image part of the same name. A given box is redetected (the face's landmarks
    are needed for its sample); an estimator Selene lacks (emotions, mask, gaze, EXIF, face quality) is
    refused with 200005. Each image succeeds or fails on its own (``status``, ``error``)."""
    images = parse_images(request.headers.get("content-type", ""), await request.body())
    results = await faces.detect(images, query.policy)
    await faces.store_samples(caller.account_id, results)
    return DetectorResponse(images=[_image(r) for r in results])
