"""LUNA's ``faces`` tag: faces created from a photo or a descriptor, with filters, count and updates."""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import ValidationError

from analytics.recognition.face_store import FaceFilters
from analytics.recognition.routes.deps import face_attributes, recognition
from analytics.recognition.service import Recognition, face_not_found, to_face
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import Page, PageSize, parse_list, reason, uuid_set
from schemas.attributes import FaceFromAttribute
from schemas.errors import BAD_QUERY, JSON_INVALID, SeleneError
from schemas.faces import (
    Face,
    FaceCreate,
    FaceCreated,
    FacePatch,
    FacesCount,
    FacesDelete,
    FacesPage,
)

router = APIRouter(tags=["faces"])
Caller = Depends(access("face"))
Faces = Depends(recognition)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/bmp", "image/tiff")


class FaceQuery:
    """LUNA's face filters; list filters may be repeated or comma-separated."""

    def __init__(
        self,
        account_id: UUID | None = None,
        face_ids: list[str] | None = Query(None),
        external_ids: list[str] | None = Query(None),
        user_data: str | None = None,
        list_id: UUID | None = None,
        event_id: UUID | None = None,
        create_time__gte: datetime | None = None,
        create_time__lt: datetime | None = None,
        face_id__gte: UUID | None = None,
        face_id__lt: UUID | None = None,
    ) -> None:
        self.account_id = account_id
        ids = uuid_set("face_ids", face_ids)
        self.filters = FaceFilters(
            face_ids=None if ids is None else sorted(ids), external_ids=parse_list("external_ids", external_ids, str),
            user_data=user_data, list_id=list_id, event_id=event_id, create_time__gte=create_time__gte,
            create_time__lt=create_time__lt, face_id__gte=face_id__gte, face_id__lt=face_id__lt,
        )


def _has_attribute(raw: bytes) -> bool:
    try:
        parsed = json.loads(raw)
    except ValueError:
        return False
    return isinstance(parsed, dict) and "attribute" in parsed


def _account(caller: Principal, account_id: UUID | None) -> UUID:
    (account,) = caller.readable(account_id)
    return account


@router.post("/faces", status_code=201, response_model=FaceCreated, summary="Create a face from a photo or a descriptor",
             openapi_extra={"requestBody": {"content": {t: {"schema": {"type": "string", "format": "binary"}} for t in IMAGE_TYPES}}})
async def create_face(request: Request, caller: Principal = Caller, faces: Recognition = Faces) -> FaceCreated:
    """JSON (``FaceCreate``: a raw or SDK-like descriptor, or a Base64 ``image``; or LUNA's ``attribute``:
    ``{"attribute_id": ...}`` of a temporary attribute, or ``face_descriptors`` / ``basic_attributes`` with
    their samples), or the photo itself as the
    body with an image content type and the face's fields as query parameters (``external_id``,
    ``user_data``, ``avatar``, ``list_id``, ``multiface_policy``). A photo must show one face (11038 for
    several unless ``multiface_policy=2``, 4003 for none)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    image, made = None, None
    try:
        if content_type in IMAGE_TYPES:
            image = await request.body()
            query = request.query_params
            body = FaceCreate(
                image="-", external_id=query.get("external_id"), user_data=query.get("user_data", ""),
                avatar=query.get("avatar", ""), lists=parse_list("list_id", query.getlist("list_id"), UUID) or [],
                multiface_policy=int(query.get("multiface_policy", 0)),
            )
        else:
            raw = await request.body() or b"null"
            if _has_attribute(raw):  # LUNA's face made of a temporary attribute or of external attribute data
                made = FaceFromAttribute.model_validate_json(raw)
            else:
                body = FaceCreate.model_validate_json(raw)
    except ValidationError as exc:
        raise SeleneError(JSON_INVALID, reason(exc)) from None
    except ValueError as exc:
        raise SeleneError(BAD_QUERY, str(exc)) from None
    if made is not None:
        face = await face_attributes(request).create_face(caller.account_id, made)
    else:
        face = await faces.create_face(caller.account_id, body, image)
    return FaceCreated(face_id=face.face_id, url=f"/6/faces/{face.face_id}")


@router.get("/faces", response_model=FacesPage, summary="Faces matching the filters, newest first")
async def get_faces(query: FaceQuery = Depends(), page: int = Page, page_size: int = PageSize,
                    caller: Principal = Caller, faces: Recognition = Faces) -> FacesPage:
    found = await faces.store.query(_account(caller, query.account_id), query.filters, (page - 1) * page_size, page_size)
    return FacesPage(faces=[to_face(f) for f in found])


@router.get("/faces/count", response_model=FacesCount, summary="How many faces match the filters")
async def count_faces(query: FaceQuery = Depends(), caller: Principal = Caller, faces: Recognition = Faces) -> FacesCount:
    return FacesCount(faces_count=await faces.store.count(_account(caller, query.account_id), query.filters))


@router.delete("/faces", status_code=204, summary="Delete several faces")
async def delete_faces(body: FacesDelete, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    await faces.store.delete(caller.account_id, body.face_ids)
    return Response(status_code=204)


@router.get("/faces/{face_id}", response_model=Face, response_model_exclude_none=False, summary="One face")
async def get_face(
    face_id: UUID, account_id: UUID | None = None,
    targets: str | None = Query(None, description="`face_descriptor` adds the raw Base64 descriptor."),
    caller: Principal = Caller, faces: Recognition = Faces,
) -> Face:
    with_descriptor = "face_descriptor" in (targets or "")
    return to_face(await faces.face(face_id, _account(caller, account_id), with_descriptor), with_descriptor)


@router.head("/faces/{face_id}", status_code=200, summary="Does the face exist")
async def head_face(face_id: UUID, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    await faces.face(face_id, caller.account_id)
    return Response(status_code=200)


@router.patch("/faces/{face_id}", status_code=204, summary="Change a face's user_data, external_id, event_id or avatar")
async def patch_face(face_id: UUID, body: FacePatch, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    if await faces.store.update(caller.account_id, face_id, **body.model_dump(exclude_unset=True)) is None:
        raise face_not_found(face_id)
    return Response(status_code=204)


@router.delete("/faces/{face_id}", status_code=204, summary="Delete a face; it is never matched again")
async def delete_face(face_id: UUID, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    if not await faces.store.delete(caller.account_id, [face_id]):
        raise face_not_found(face_id)
    return Response(status_code=204)
