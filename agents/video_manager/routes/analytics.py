"""The analytics registry (LUNA ``createAnalytic``...): built-ins are shared and read-only; an account's
own analytics are its alone."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from agents.video_manager.manager import VideoManager
from agents.video_manager.parameters import check_schema
from agents.video_manager.routes.deps import manager
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import Page, PageSize, page_of, parse_list, uuid_set
from schemas.errors import BAD_INPUT_DATA, SeleneError
from schemas.streams import (
    Analytic,
    AnalyticCreate,
    AnalyticCreated,
    AnalyticIds,
    AnalyticsPage,
)

router = APIRouter(tags=["analytics"])
Caller = Depends(access("video_analytic"))
Manager = Depends(manager)


@router.post("/analytics", status_code=201, response_model=AnalyticCreated, summary="Register an analytic")
async def create_analytic(body: AnalyticCreate, caller: Principal = Caller, vm: VideoManager = Manager) -> AnalyticCreated:
    return AnalyticCreated(analytic_id=(await vm.create_analytic(caller.account_id, body)).analytic_id)


@router.get("/analytics", response_model=AnalyticsPage, summary="Registered analytics, built-ins included")
async def get_analytics(
    analytic_ids: list[str] | None = Query(None),
    analytic_names: list[str] | None = Query(None),
    account_id: UUID | None = None,
    order: Literal["asc", "desc"] = "asc",
    page: int = Page,
    page_size: int = PageSize,
    caller: Principal = Caller,
    vm: VideoManager = Manager,
) -> AnalyticsPage:
    accounts = caller.readable(account_id)
    ids = uuid_set("analytic_ids", analytic_ids)
    names = parse_list("analytic_names", analytic_names, str)
    found = [
        a
        for a in await vm.registry.analytics.all()
        if (a.account_id is None or a.account_id in accounts)
        and (ids is None or a.analytic_id in ids)
        and (names is None or a.analytic_name in names)
    ]
    return AnalyticsPage(analytics=page_of(found, page, page_size, order))


@router.get("/analytics/{analytic_id}", response_model=Analytic, summary="One analytic")
async def get_analytic(
    analytic_id: UUID, account_id: UUID | None = None, caller: Principal = Caller, vm: VideoManager = Manager
) -> Analytic:
    return await vm.analytic(analytic_id, caller.readable(account_id))


@router.put("/analytics/{analytic_id}", status_code=204, summary="Replace an analytic of one's own")
async def replace_analytic(
    analytic_id: UUID, body: AnalyticCreate, caller: Principal = Caller, vm: VideoManager = Manager
) -> Response:
    current = await vm.own_analytic(analytic_id, caller.account_id)
    if body.analytic_name != current.analytic_name:
        raise SeleneError(BAD_INPUT_DATA, "analytic_name cannot be changed")
    check_schema(body.validation_schema)

    def replace(a: Analytic) -> None:
        a.analytic_version, a.description = body.analytic_version, body.description
        a.default_parameters, a.validation_schema = body.default_parameters, body.validation_schema

    await vm.registry.analytics.update(analytic_id, replace)
    return Response(status_code=204)


@router.delete("/analytics", status_code=204, summary="Delete analytics of one's own")
async def delete_analytics(body: AnalyticIds, caller: Principal = Caller, vm: VideoManager = Manager) -> Response:
    for analytic_id in body.analytic_ids:
        analytic = await vm.own_analytic(analytic_id, caller.account_id)
        await vm.registry.analytics.delete(analytic_id, name=f"{caller.account_id}:{analytic.analytic_name}")
    return Response(status_code=204)
