"""LUNA's ``handlers`` tag: static and dynamic handlers, their count and the policies validator."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response

from analytics.recognition.handlers import Handlers
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import Page, page_of
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError
from schemas.handlers import (
    Handler,
    HandlerCreate,
    HandlerCreated,
    HandlersCount,
    PoliciesValidation,
)

router = APIRouter(tags=["handlers"])
Caller = Depends(access("handler"))
HandlersPageSize = Query(10, ge=1, le=1000, description="Handlers per page.")
TypeFilter = Query(None, ge=0, le=2, description="0 static, 1 dynamic, 2 lambda; wins over is_dynamic.")
DynamicFilter = Query(None, ge=0, le=1, description="Deprecated: 1 dynamic, 0 not.")


def handlers(request: Request) -> Handlers:
    found = request.app.state.context.handlers
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "handlers", "this API runs without the face store")
    return found


Registry = Depends(handlers)


class HandlerQuery:
    def __init__(self, account_id: UUID | None = None, description: str | None = Query(None, max_length=128),
                 handler_type: int | None = TypeFilter, is_dynamic: int | None = DynamicFilter) -> None:
        self.account_id = account_id
        self.description = description
        self.handler_type = handler_type if handler_type is not None else is_dynamic

    async def select(self, registry: Handlers, caller: Principal) -> list[Handler]:
        return await registry.select(caller.readable(self.account_id), self.handler_type, self.description)


def _created(handler: Handler) -> HandlerCreated:
    return HandlerCreated(handler_id=handler.handler_id, url=f"/6/handlers/{handler.handler_id}")


@router.post("/handlers", status_code=201, response_model=HandlerCreated, summary="Create a handler")
async def create_handler(body: HandlerCreate, caller: Principal = Caller, registry: Handlers = Registry) -> HandlerCreated:
    """Static (``handler_type`` 0, with ``policies``; the defaults of every policy LUNA's) or dynamic (1, no
    policies: they come with each ``generate events`` request). Policies that need an estimator Selene
    lacks are refused with 200005, a list that is not the account's with 22005, a match ``limit`` over 100
    with 34005; lambda handlers (2) with 11072."""
    return _created(await registry.create(caller.account_id, body))


@router.get("/handlers", response_model=list[Handler], summary="Handlers matching the filters, oldest first")
async def get_handlers(query: HandlerQuery = Depends(), page: int = Page, page_size: int = HandlersPageSize,
                       caller: Principal = Caller, registry: Handlers = Registry) -> list[Handler]:
    return page_of(await query.select(registry, caller), page, page_size)


@router.get("/handlers/count", response_model=HandlersCount, summary="How many handlers match the filters")
async def count_handlers(query: HandlerQuery = Depends(), caller: Principal = Caller,
                         registry: Handlers = Registry) -> HandlersCount:
    return HandlersCount(handlers_count=len(await query.select(registry, caller)))


@router.post("/handlers/validator", status_code=204, summary="Check handler policies without creating a handler")
async def validate_policies(body: PoliciesValidation, caller: Principal = Caller, registry: Handlers = Registry) -> Response:
    """204 when a handler with these policies could be created (or a dynamic handler run with them);
    otherwise the error creating it would give."""
    await registry.checker.check(body.policies, caller.account_id)
    return Response(status_code=204)


@router.get("/handlers/{handler_id}", response_model=Handler, summary="One handler")
async def get_handler(handler_id: UUID, account_id: UUID | None = None, caller: Principal = Caller,
                      registry: Handlers = Registry) -> Handler:
    return await registry.get(handler_id, caller.readable(account_id))


@router.head("/handlers/{handler_id}", status_code=200, summary="Does the handler exist")
async def head_handler(handler_id: UUID, caller: Principal = Caller, registry: Handlers = Registry) -> Response:
    await registry.get(handler_id, caller.readable())
    return Response(status_code=200)


@router.put("/handlers/{handler_id}", response_model=HandlerCreated, summary="Replace a handler (all its fields)")
async def replace_handler(handler_id: UUID, body: HandlerCreate, caller: Principal = Caller,
                          registry: Handlers = Registry) -> HandlerCreated:
    return _created(await registry.replace(handler_id, caller.account_id, body))


@router.delete("/handlers/{handler_id}", status_code=204, summary="Delete a handler")
async def delete_handler(handler_id: UUID, caller: Principal = Caller, registry: Handlers = Registry) -> Response:
    await registry.delete(handler_id, caller.account_id)
    return Response(status_code=204)

