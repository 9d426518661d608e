"""LUNA's ``sdk``, ``iso`` and ``liveness`` tags. None needs authorization (as LUNA's defaults): they
store nothing and read no account's data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from analytics.sdk.images import BASE64_TYPES, IMAGE_TYPES, InputImage, parse_images
from analytics.sdk.service import RemoteSdk, SdkRequest
from schemas.errors import (
    BAD_INPUT_DATA,
    BAD_QUERY,
    ESTIMATOR_NOT_INITIALIZED,
    SERVICE_UNAVAILABLE,
    SeleneError,
)
from schemas.sdk import IsoResponse, LivenessResponse, SdkResponse
from streams.models.estimators.engine import Wanted
from streams.models.estimators.registry import BY_FLAG, ESTIMATORS, require

router = APIRouter(tags=["sdk"])
Flag = Annotated[int, Query(ge=0, le=1)]
Policy = Annotated[int, Query(ge=0, le=2)]
Angle = Annotated[int | None, Query(ge=0, le=180)]
_BODY_TYPES = (*IMAGE_TYPES, *BASE64_TYPES, "multipart/form-data", "application/json")
IMAGE_BODY = {"requestBody": {"required": True, "content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in _BODY_TYPES if t != "application/json"}}}
# LUNA's defaults: descriptors are extracted for whatever is detected unless turned off.
# On a warp the landmarks are the template's and the roll is aligned away: LUNA refuses these there.
_NOT_ON_WARPS = frozenset({"head_pose", "landmarks5", "landmarks68"})
_DEFAULT_ON = ("estimate_face_descriptor", "estimate_body_descriptor")


def remote_sdk(request: Request) -> RemoteSdk:
    found = request.app.state.context.sdk
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "remote sdk", "this API runs without the estimators")
    return found


Sdk = Depends(remote_sdk)


async def _images(request: Request) -> list[InputImage]:
    images = parse_images(request.headers.get("content-type", ""), await request.body())
    if any(image.face_boxes is not None for image in images):  # refused, never silently ignored
        raise SeleneError(BAD_INPUT_DATA, "face_bounding_boxes are accepted by /6/detector only")
    return images


class SdkQuery:
    """LUNA's ``/sdk`` query: every estimator flag 0/1, the policies and the head-pose filters."""

    def __init__(
        self, request: Request, image_type: Policy = 0, multiface_policy: Policy = 1,
        detect_face: Flag = 0, detect_body: Flag = 0, estimate_head_pose: Flag = 0, estimate_landmarks5: Flag = 0,
        estimate_landmarks68: Flag = 0, estimate_quality: Flag = 0, estimate_eyes_attributes: Flag = 0,
        estimate_mouth_attributes: Flag = 0, estimate_face_warp: Flag = 0, estimate_body_warp: Flag = 0,
        estimate_face_descriptor: Flag = 1, estimate_body_descriptor: Flag = 1, estimate_people_count: Flag = 0,
        people_count_coordinates: Flag = 0, estimate_basic_attributes: Flag = 0, estimate_emotions: Flag = 0,
        estimate_mask: Flag = 0, estimate_glasses: Flag = 0, estimate_gaze: Flag = 0, estimate_liveness: Flag = 0,
        estimate_deepfake: Flag = 0, estimate_face_occlusion: Flag = 0, estimate_body_basic_attributes: Flag = 0,
        estimate_upper_body: Flag = 0, estimate_lower_body: Flag = 0, estimate_accessories: Flag = 0,
        extract_exif: Flag = 0, aggregate_attributes: Flag = 0, use_exif_info: Flag = 1,
        pitch_threshold: Angle = None, roll_threshold: Angle = None, yaw_threshold: Angle = None,
    ) -> None:
        given = {name: value for name, value in locals().items() if name in BY_FLAG}
        explicit = {name: value for name, value in given.items() if name not in _DEFAULT_ON or name in request.query_params}
        names = frozenset(BY_FLAG[name].name for name, value in explicit.items() if value)
        wanted = Wanted(names - {"face_detector", "body_detector"}, detect_face=bool(detect_face) or "face_detector" in names,
                        detect_body=bool(detect_body) or "body_detector" in names, image_type=image_type)
        if image_type and names & _NOT_ON_WARPS:
            raise SeleneError(BAD_QUERY, f"{', '.join(sorted(names & _NOT_ON_WARPS))} not supported with warped images")
        defaults = frozenset(BY_FLAG[name].name for name in _DEFAULT_ON if name not in request.query_params)
        defaults = frozenset(n for n in defaults if (n == "face_descriptor" and wanted.faces)
                             or (n == "body_descriptor" and wanted.bodies))
        self.request = SdkRequest(
            wanted=Wanted(wanted.estimators | defaults, wanted.detect_face, wanted.detect_body, image_type),
            multiface_policy=multiface_policy, aggregate=bool(aggregate_attributes),
            people_coordinates=bool(people_count_coordinates), use_exif=bool(use_exif_info),
            max_angles=tuple(180.0 if t is None else float(t) for t in (pitch_threshold, roll_threshold, yaw_threshold)),
        )


@router.post("/sdk", response_model=SdkResponse, response_model_exclude_none=True, openapi_extra=IMAGE_BODY,
             summary="Detect faces and bodies and estimate their attributes; nothing is stored")
async def sdk(request: Request, query: SdkQuery = Depends(), service: RemoteSdk = Sdk) -> SdkResponse:
    """The body: one image (``image/*``, or ``image/x-*-base64``), several in ``multipart/form-data``, or
    JSON ``{"images": [{"image": "<Base64>", "filename": "..."}]}``. An estimator Selene does not have
    (basic attributes, emotions, mask, glasses, gaze, liveness, deepfake, body attributes, EXIF) is
    refused with 200005; ``GET /6/features`` lists what is available."""
    require(query.request.wanted.estimators)
    return await service.sdk(await _images(request), query.request)


@router.post("/iso", response_model=IsoResponse, openapi_extra=IMAGE_BODY,
             summary="ISO/IEC 19794-5 portrait checks; the checks Selene cannot compute are listed as not estimated")
async def check_iso(request: Request, image_type: Flag = 0, multiface_policy: Policy = 0,
                    extract_exif: Flag = 0, service: RemoteSdk = Sdk) -> IsoResponse:
    if extract_exif:
        require({"exif"})
    return await service.iso(await _images(request), multiface_policy, image_type)


@router.post("/liveness", response_model=LivenessResponse, openapi_extra=IMAGE_BODY,
             summary="Liveness: answers 200005 until a liveness model is accepted (see the README)")
async def liveness(request: Request, aggregate: Flag = 0) -> LivenessResponse:
    """LUNA's request (images as for ``/sdk``) and response shape. No offline liveness model meets the bar
    (a measured attack set, a license, a source), so every well-formed request gets 200005."""
    await _images(request)  # a malformed request is told so first, as any other
    spec = ESTIMATORS["liveness"]
    raise SeleneError(ESTIMATOR_NOT_INITIALIZED, spec.name, spec.reason)
