"""LUNA's ``lists`` tag: lists of faces (watch lists), and attaching faces to them."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from analytics.recognition.routes.deps import recognition
from analytics.recognition.service import Recognition
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import Page, PageSize, page_of, uuid_set
from schemas.faces import (
    FaceList,
    ListCreate,
    ListCreated,
    ListFacesPatch,
    ListPatch,
    ListsCount,
    ListsDelete,
    ListsPage,
)

router = APIRouter(tags=["lists"])
Caller = Depends(access("list"))
Faces = Depends(recognition)
WithFaces = Query(0, ge=0, le=1, description="1: delete the list's faces too.")


class ListQuery:
    def __init__(
        self,
        account_id: UUID | None = None,
        list_ids: list[str] | None = Query(None),
        user_data: str | None = None,
        create_time__gte: datetime | None = None,
        create_time__lt: datetime | None = None,
    ) -> None:
        self.account_id = account_id
        self.ids = uuid_set("list_ids", list_ids)
        self.user_data = user_data
        self.create_time__gte, self.create_time__lt = create_time__gte, create_time__lt

    async def select(self, faces: Recognition, caller: Principal) -> list[FaceList]:
        accounts = caller.readable(self.account_id)
        return [
            fl for fl in await faces.lists.all()
            if fl.account_id in accounts
            and (self.ids is None or fl.list_id in self.ids)
            and (self.user_data is None or self.user_data in fl.user_data)
            and (self.create_time__gte is None or fl.create_time >= self.create_time__gte)
            and (self.create_time__lt is None or fl.create_time < self.create_time__lt)
        ]


@router.post("/lists", status_code=201, response_model=ListCreated, summary="Create a list")
async def create_list(body: ListCreate, caller: Principal = Caller, faces: Recognition = Faces) -> ListCreated:
    face_list = await faces.create_list(caller.account_id, body.user_data)
    return ListCreated(list_id=face_list.list_id, url=f"/6/lists/{face_list.list_id}")


@router.get("/lists", response_model=ListsPage, summary="Lists matching the filters, newest first")
async def get_lists(query: ListQuery = Depends(), page: int = Page, page_size: int = PageSize,
                    caller: Principal = Caller, faces: Recognition = Faces) -> ListsPage:
    chosen = page_of(await query.select(faces, caller), page, page_size, order="desc")
    return ListsPage(lists=[await faces.with_count(fl) for fl in chosen])


@router.get("/lists/count", response_model=ListsCount, summary="How many lists match the filters")
async def count_lists(query: ListQuery = Depends(), caller: Principal = Caller, faces: Recognition = Faces) -> ListsCount:
    return ListsCount(lists_count=len(await query.select(faces, caller)))


@router.delete("/lists", status_code=204, summary="Delete several lists")
async def delete_lists(body: ListsDelete, with_faces: int = WithFaces, caller: Principal = Caller,
                       faces: Recognition = Faces) -> Response:
    chosen = [await faces.face_list(list_id, caller.writable) for list_id in body.list_ids]
    for face_list in chosen:
        await faces.delete_list(face_list, bool(with_faces))
    return Response(status_code=204)


@router.get("/lists/{list_id}", response_model=FaceList, summary="One list, with its number of faces")
async def get_list(list_id: UUID, account_id: UUID | None = None, caller: Principal = Caller,
                   faces: Recognition = Faces) -> FaceList:
    return await faces.with_count(await faces.face_list(list_id, caller.readable(account_id)))


@router.head("/lists/{list_id}", status_code=200, summary="Does the list exist")
async def head_list(list_id: UUID, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    await faces.face_list(list_id, caller.readable())
    return Response(status_code=200)


@router.patch("/lists/{list_id}", status_code=204, summary="Change a list's user_data")
async def patch_list(list_id: UUID, body: ListPatch, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    await faces.face_list(list_id, caller.writable)
    await faces.lists.update(list_id, lambda fl: setattr(fl, "user_data", body.user_data))
    return Response(status_code=204)


@router.delete("/lists/{list_id}", status_code=204, summary="Delete a list, with its faces if with_faces=1")
async def delete_list(list_id: UUID, with_faces: int = WithFaces, caller: Principal = Caller,
                      faces: Recognition = Faces) -> Response:
    await faces.delete_list(await faces.face_list(list_id, caller.writable), bool(with_faces))
    return Response(status_code=204)


@router.patch("/lists/{list_id}/faces", status_code=204, summary="Attach faces to, or detach them from, a list")
async def link_faces(list_id: UUID, body: ListFacesPatch, caller: Principal = Caller, faces: Recognition = Faces) -> Response:
    caller.require("face", "modification")
    await faces.link(await faces.face_list(list_id, caller.writable), body.action, body.face_ids)
    return Response(status_code=204)
