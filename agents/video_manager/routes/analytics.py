"""The analytics registry (LUNA ``createAnalytic``...): built-ins are shared and read-only; an account's
own analytics are its alone."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Response

from agents.video_manager.analytic_service import AnalyticService
from agents.video_manager.routes import deps
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import Page, PageSize, page_of, parse_list, uuid_set
from schemas.streams import (
    Analytic,
    AnalyticCreate,
    AnalyticCreated,
    AnalyticIds,
    AnalyticsPage,
)

router = APIRouter(tags=["analytics"])
Caller = Depends(access("video_analytic"))
Analytics = Depends(deps.analytics)


@router.post("/analytics", status_code=201, response_model=AnalyticCreated, summary="Register an analytic")
async def create_analytic(body: AnalyticCreate, caller: Principal = Caller, service: AnalyticService = Analytics) -> AnalyticCreated:
    return AnalyticCreated(analytic_id=(await service.create(caller.account_id, body)).analytic_id)


@router.get("/analytics", response_model=AnalyticsPage, summary="Registered analytics, built-ins included")
async def get_analytics(
    analytic_ids: list[str] | None = Query(None),
    analytic_names: list[str] | None = Query(None),
    account_id: UUID | None = None,
    order: Literal["asc", "desc"] = "asc",
    page: int = Page,
    page_size: int = PageSize,
    caller: Principal = Caller,
    service: AnalyticService = Analytics,
) -> AnalyticsPage:
    ids = uuid_set("analytic_ids", analytic_ids)
    names = parse_list("analytic_names", analytic_names, str)
    found = [
        a
        for a in await service.visible(caller.readable(account_id))
        if (ids is None or a.analytic_id in ids) and (names is None or a.analytic_name in names)
    ]
    return AnalyticsPage(analytics=page_of(found, page, page_size, order))


@router.get("/analytics/{analytic_id}", response_model=Analytic, summary="One analytic")
async def get_analytic(
    analytic_id: UUID, account_id: UUID | None = None, caller: Principal = Caller, service: AnalyticService = Analytics
) -> Analytic:
    return await service.get(analytic_id, caller.readable(account_id))


@router.put("/analytics/{analytic_id}", status_code=204, summary="Replace an analytic of one's own")
async def replace_analytic(
    analytic_id: UUID, body: AnalyticCreate, caller: Principal = Caller, service: AnalyticService = Analytics
) -> Response:
    await service.replace(analytic_id, caller.account_id, body)
    return Response(status_code=204)


@router.delete("/analytics", status_code=204, summary="Delete analytics of one's own")
async def delete_analytics(body: AnalyticIds, caller: Principal = Caller, service: AnalyticService = Analytics) -> Response:
    await service.delete(body.analytic_ids, caller.account_id)
    return Response(status_code=204)
