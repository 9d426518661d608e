"""LUNA's ``verifiers`` tag: verifier CRUD and count, ``verifications`` (photos or descriptors against
faces) and ``raw`` (descriptors against descriptors). A verifier is visible to its own account only."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TypeVar
from uuid import UUID

import numpy as np
from fastapi import APIRouter, Depends, Query, Request, Response

from analytics.images.samples import SampleStore
from analytics.recognition.routes.deps import attribute_store, recognition
from analytics.recognition.service import Recognition
from analytics.recognition.similarity import pairwise
from analytics.recognition.verification import (
    DescriptorInput,
    Input,
    VerificationRun,
    candidate_attributes,
    candidate_events,
    candidate_faces,
)
from analytics.recognition.verifier_policies import (
    new_verifier,
    open_verifiers,
    replace_verifier,
    verifier_of,
)
from analytics.sdk.images import BASE64_TYPES, IMAGE_TYPES, parse_images
from analytics.sdk.routes.sdk import remote_sdk
from analytics.sdk.service import RemoteSdk
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import MAX_PAGE_SIZE, Page, page_of, parse_list
from schemas.descriptor_formats import common_version, decode_descriptor
from schemas.errors import BAD_QUERY, SeleneError
from schemas.faces import MAX_FACE_IDS, RawMatchRequest
from schemas.verifiers import (
    RawReferenceVerifications,
    RawVerification,
    RawVerificationResponse,
    VerificationResponse,
    Verifier,
    VerifierCreate,
    VerifierCreated,
    VerifiersCount,
    VerifierVersion,
)

T = TypeVar("T")
router = APIRouter(tags=["verifiers"])
Caller = Depends(access("verifier"))
Verifying = Depends(access("verifier", "view"))
Faces = Depends(recognition)
Sdk = Depends(remote_sdk)
PageSize = Query(10, ge=1, le=MAX_PAGE_SIZE, description="Verifiers per page (LUNA's default 10).")
Flag = Query(ge=0, le=1)
SDK_DESCRIPTOR = "application/x-sdk-descriptor"
SDK_DESCRIPTOR_BASE64 = "application/x-sdk-descriptor-base64"
_BODY_TYPES = (*IMAGE_TYPES, *BASE64_TYPES, "multipart/form-data", SDK_DESCRIPTOR, SDK_DESCRIPTOR_BASE64)
INPUT_BODY = {"requestBody": {"required": True, "content": {
    t: {"schema": {"type": "string", "format": "binary"}} for t in _BODY_TYPES}}}


def samples_store(request: Request) -> SampleStore | None:
    found: SampleStore | None = request.app.state.context.samples
    return found


async def _select(faces: Recognition, caller: Principal, account_id: UUID | None, description: str | None) -> list[Verifier]:
    accounts = caller.readable(account_id)
    return [v for v in await open_verifiers(faces).all()
            if v.account_id in accounts and (description is None or description in v.description)]


@router.post("/verifiers", status_code=201, response_model=VerifierCreated, summary="Create a verifier")
async def create_verifier(body: VerifierCreate, caller: Principal = Caller, faces: Recognition = Faces) -> VerifierCreated:
    """Policies: ``verification_threshold`` (default 0.5), ``detect_policy``, ``extract_policy`` and
    ``storage_policy`` (face samples; attributes are not stored). A flag naming an estimator Selene has no
    model for is refused here with 200005; ``GET /6/features`` lists the available ones."""
    verifier = new_verifier(caller.account_id, body)
    await open_verifiers(faces).create(verifier.verifier_id, verifier, verifier.create_time)
    return VerifierCreated(verifier_id=verifier.verifier_id, url=f"/6/verifiers/{verifier.verifier_id}")


@router.get("/verifiers", response_model=list[Verifier], summary="Verifiers matching the filters, newest first")
async def get_verifiers(account_id: UUID | None = None, description: str | None = None, page: int = Page,
                        page_size: int = PageSize, caller: Principal = Caller, faces: Recognition = Faces) -> list[Verifier]:
    return page_of(await _select(faces, caller, account_id, description), page, page_size, order="desc")


@router.get("/verifiers/count", response_model=VerifiersCount, summary="How many verifiers match the filters")
async def count_verifiers(account_id: UUID | None = None, description: str | None = None, caller: Principal = Caller,
                          faces: Recognition = Faces) -> VerifiersCount:
    return VerifiersCount(verifiers_count=len(await _select(faces, caller, account_id, description)))


@router.get("/verifiers/{verifier_id}", response_model=Verifier, summary="One verifier")
async def get_verifier(verifier_id: UUID, caller: Principal = Caller, faces: Recognition = Faces) -> Verifier:
    return await verifier_of(open_verifiers(faces), verifier_id, caller.readable())


@router.head("/verifiers/{verifier_id}", status_code=200, summary="Does the verifier exist")
async def head_verifier(verifier_id: UUID, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    await verifier_of(open_verifiers(faces), verifier_id, caller.readable())
    return Response(status_code=200)


@router.put("/verifiers/{verifier_id}", response_model=VerifierVersion,
            summary="Replace a verifier's description and policies")
async def put_verifier(verifier_id: UUID, body: VerifierCreate, caller: Principal = Caller,
                       faces: Recognition = Faces) -> VerifierVersion:
    verifiers = open_verifiers(faces)
    await verifier_of(verifiers, verifier_id, caller.writable)
    replaced = await verifiers.update(verifier_id, lambda v: replace_verifier(v, body))
    return VerifierVersion(version=replaced.version)


@router.delete("/verifiers/{verifier_id}", status_code=204, summary="Delete a verifier")
async def delete_verifier(verifier_id: UUID, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    verifiers = open_verifiers(faces)
    await verifier_of(verifiers, verifier_id, caller.writable)
    await verifiers.delete(verifier_id)
    return Response(status_code=204)


def _inputs(content_type: str, body: bytes) -> list[Input]:
    media = content_type.split(";")[0].strip().lower()
    if media == SDK_DESCRIPTOR:
        return [DescriptorInput("descriptor", base64.b64encode(body).decode("ascii"))]
    if media == SDK_DESCRIPTOR_BASE64:
        return [DescriptorInput("descriptor", body.decode("ascii", "replace").strip())]
    return list(parse_images(content_type, body))


def _ids(name: str, values: str | None, convert: Callable[[str], T]) -> list[T] | None:
    parsed = parse_list(name, [values] if values else None, convert)
    if parsed is not None and len(parsed) > MAX_FACE_IDS:
        raise SeleneError(BAD_QUERY, f"{name}: at most {MAX_FACE_IDS} ids")
    return parsed


@router.post("/verifiers/{verifier_id}/verifications", response_model=VerificationResponse,
             response_model_exclude_none=True, openapi_extra=INPUT_BODY,
             summary="Verify photos or descriptors against faces")
async def verify(
    request: Request, verifier_id: UUID,
    face_ids: str | None = Query(None, description="Comma-separated face ids."),
    event_ids: str | None = Query(None, description="Comma-separated event ids: their face descriptors."),
    attribute_ids: str | None = Query(None, description="Comma-separated temporary attribute ids."),
    external_ids: str | None = Query(None, description="Comma-separated external ids: their faces."),
    image_type: int = Query(0, ge=0, le=1, description="0: a photo; 1: a face warp."),
    use_exif_info: int = Query(1, ge=0, le=1),
    caller: Principal = Verifying, faces: Recognition = Faces, sdk: RemoteSdk = Sdk,
    samples: SampleStore | None = Depends(samples_store),
) -> VerificationResponse:
    """The body: a photo (``image/*``, ``image/x-*-base64``), several in ``multipart/form-data``, JSON
    ``{"images": [{"image": "<Base64>"}]}``, or a descriptor (``application/x-sdk-descriptor`` and its
    ``-base64`` form). Exactly one candidate set: ``face_ids``, ``external_ids``, ``event_ids`` or
    ``attribute_ids`` (events and temporary attributes by their face descriptor). Each detected face gets
    ``verifications``: per candidate its ``similarity`` and ``status`` (similarity greater than the
    verifier's ``verification_threshold``)."""
    sets = {"face_ids": face_ids, "event_ids": event_ids, "attribute_ids": attribute_ids, "external_ids": external_ids}
    given = [name for name, value in sets.items() if value]
    if len(given) != 1:
        raise SeleneError(BAD_QUERY, "give exactly one of " + ", ".join(sets))
    candidate_ids, candidate_external_ids = _ids("face_ids", face_ids, UUID), _ids("external_ids", external_ids, str)
    event_list, attribute_list = _ids("event_ids", event_ids, UUID), _ids("attribute_ids", attribute_ids, UUID)
    verifier = await verifier_of(open_verifiers(faces), verifier_id, caller.readable())
    if event_list is not None:
        candidates = await candidate_events(faces, caller.account_id, event_list)
    elif attribute_list is not None:
        candidates = await candidate_attributes(attribute_store(request), caller.account_id, attribute_list)
    else:
        candidates = await candidate_faces(faces, caller.account_id, candidate_ids, candidate_external_ids)
    inputs = _inputs(request.headers.get("content-type", ""), await request.body())
    run = VerificationRun(sdk, samples, verifier, caller.account_id, candidates)
    return VerificationResponse(images=await run.run(inputs, image_type, bool(use_exif_info)))


@router.post("/verifiers/{verifier_id}/raw", response_model=RawVerificationResponse,
             summary="Verify descriptors against descriptors")
async def verify_raw(verifier_id: UUID, body: RawMatchRequest, caller: Principal = Verifying,
                     faces: Recognition = Faces) -> RawVerificationResponse:
    """Every reference against every candidate (raw or SDK-like descriptors of one version), in the
    candidates' order, with the verifier's ``verification_threshold``; nothing is stored or looked up."""
    verifier = await verifier_of(open_verifiers(faces), verifier_id, caller.readable())
    references = [decode_descriptor(e.data) for e in body.references]
    candidates = [decode_descriptor(e.data) for e in body.candidates]
    version = common_version(v for v, _ in references + candidates)
    scores = pairwise(np.stack([v for _, v in references]), np.stack([v for _, v in candidates]), version)
    threshold = verifier.policies.verification_threshold
    return RawVerificationResponse(matches=[
        RawReferenceVerifications(reference_id=reference.id, matches=[
            RawVerification(candidate_id=candidate.id, similarity=round(float(scores[i, j]), 6),
                            status=bool(scores[i, j] > threshold))
            for j, candidate in enumerate(body.candidates)
        ])
        for i, reference in enumerate(body.references)
    ])
