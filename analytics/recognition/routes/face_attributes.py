"""LUNA's ``face attributes`` tag: a face's attribute (descriptor, basic attributes, samples) replaced,
read, and its samples listed; and how many faces have attributes."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from analytics.recognition.attributes import targets
from analytics.recognition.face_attributes import FaceAttributes
from analytics.recognition.routes.deps import face_attributes
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas.attributes import FACE_ATTRIBUTE_TARGETS, AttributeSamples, AttributeSet, FaceAttributeResponse
from schemas.errors import FACE_KEEPS_DESCRIPTOR, SeleneError
from schemas.faces import FacesCount

router = APIRouter(tags=["face attributes"])
Caller = Depends(access("face"))
Service = Depends(face_attributes)


@router.get("/faces/attributes/count", response_model=FacesCount, summary="How many faces have attributes")
async def count_faces_with_attributes(account_id: UUID | None = None, caller: Principal = Caller,
                                      service: FaceAttributes = Service) -> FacesCount:
    (account,) = caller.readable(account_id)
    return FacesCount(faces_count=await service.count(account))


@router.put("/faces/{face_id}/attributes", status_code=204, summary="Replace a face's attribute")
async def put_face_attribute(face_id: UUID, body: AttributeSet, caller: Principal = Caller,
                             service: FaceAttributes = Service) -> Response:
    """By a temporary attribute's ``attribute_id`` (it then made this face: 22001 if it made another),
    or by ``face_descriptors`` / ``basic_attributes`` with their samples. The descriptor is replaced."""
    await service.put(caller.account_id, face_id, body)
    return Response(status_code=204)


@router.get("/faces/{face_id}/attributes", response_model=FaceAttributeResponse, response_model_exclude_unset=True,
            summary="A face's attribute")
async def get_face_attribute(
    face_id: UUID, account_id: UUID | None = None,
    targets_: str | None = Query(None, alias="targets", description="Comma-separated: "
                                 + ", ".join(FACE_ATTRIBUTE_TARGETS) + " (default: all)."),
    descriptor_version: int | None = Query(None, ge=1), caller: Principal = Caller, service: FaceAttributes = Service,
) -> FaceAttributeResponse:
    chosen = targets(targets_, FACE_ATTRIBUTE_TARGETS)
    found = await service.get(caller.readable(account_id), face_id, chosen, descriptor_version)
    return FaceAttributeResponse(attributes=found)


@router.delete("/faces/{face_id}/attributes", status_code=204, summary="Refused: a Selene face keeps its descriptor")
async def delete_face_attribute(face_id: UUID, caller: Principal = Caller, service: FaceAttributes = Service) -> Response:
    """LUNA keeps a face without attributes; a Selene face is a row of a descriptor collection and cannot
    be without its descriptor, so this answers 45031 for an existing face (11020 for an unknown one):
    delete the face, or replace its attribute with PUT."""
    await service.recognition.face(face_id, caller.account_id)
    raise SeleneError(FACE_KEEPS_DESCRIPTOR, face_id)


@router.get("/faces/{face_id}/attributes/samples", response_model=AttributeSamples,
            summary="The samples of a face's attribute")
async def get_face_attribute_samples(face_id: UUID, caller: Principal = Caller,
                                     service: FaceAttributes = Service) -> AttributeSamples:
    return await service.samples(caller.account_id, face_id)
