"""Accounts and tokens: an admin creates accounts; every account reads itself and manages its tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Request, Response

from infra.auth.authenticator import Authenticator, Principal
from infra.http.deps import Page, PageSize, page_of
from infra.http.mount import Mount
from schemas.accounts import (
    Account,
    AccountCreate,
    AccountCreated,
    Token,
    TokenCreate,
    TokenCreated,
    TokensPage,
)
from schemas.errors import (
    BAD_INPUT_DATA,
    OBJECT_NOT_FOUND,
    PERMISSION_DENIED,
    SeleneError,
)

router = APIRouter(tags=["accounts"])


def _auth(request: Request) -> Authenticator:
    return request.app.state.context.auth


async def caller(request: Request) -> Principal:
    return await _auth(request).authenticate(request)


Caller = Depends(caller)
Auth = Depends(_auth)


@router.post("/accounts", status_code=201, response_model=AccountCreated, summary="Create an account (admin)")
async def create_account(body: AccountCreate, who: Principal = Caller, auth: Authenticator = Auth) -> AccountCreated:
    if who.account_type != "admin" or who.permissions is not None:
        raise SeleneError(PERMISSION_DENIED, "creation", "account")
    account = await auth.create_account(body.login, body.password, body.account_type, body.description)
    return AccountCreated(account_id=account.account_id)


@router.get("/account", response_model=Account, summary="The caller's own account")
async def get_account(who: Principal = Caller, auth: Authenticator = Auth) -> Account:
    record = await auth.registry.accounts.get(who.account_id)
    if record is None:
        raise SeleneError(OBJECT_NOT_FOUND, f"account with id {who.account_id}")
    return record.account


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Create a token (JWT, shown once)")
async def create_token(body: TokenCreate, who: Principal = Caller, auth: Authenticator = Auth) -> TokenCreated:
    if who.permissions is not None:
        raise SeleneError(PERMISSION_DENIED, "creation", "token")  # a token cannot mint tokens
    if body.visibility_area == "all" and who.account_type == "user":
        raise SeleneError(BAD_INPUT_DATA, "a user account's token cannot have visibility_area 'all'")
    token = Token(token_id=uuid.uuid4(), account_id=who.account_id, create_time=datetime.now(UTC), **body.model_dump())
    await auth.registry.tokens.create(token.token_id, token, token.create_time)
    return TokenCreated(token=auth.issue(token), token_id=token.token_id)


async def _own_token(token_id: UUID, who: Principal, auth: Authenticator) -> Token:
    token = await auth.registry.tokens.get(token_id)
    if token is None or token.account_id != who.account_id:
        raise SeleneError(OBJECT_NOT_FOUND, f"token with id {token_id}")
    return token


@router.get("/tokens", response_model=TokensPage, summary="The caller's tokens")
async def get_tokens(page: int = Page, page_size: int = PageSize, who: Principal = Caller, auth: Authenticator = Auth) -> TokensPage:
    tokens = [t for t in await auth.registry.tokens.all() if t.account_id == who.account_id]
    return TokensPage(tokens=page_of(tokens, page, page_size))


@router.get("/tokens/{token_id}", response_model=Token, summary="One of the caller's tokens")
async def get_token(token_id: UUID, who: Principal = Caller, auth: Authenticator = Auth) -> Token:
    return await _own_token(token_id, who, auth)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
async def delete_token(token_id: UUID, who: Principal = Caller, auth: Authenticator = Auth) -> Response:
    await _own_token(token_id, who, auth)
    await auth.registry.tokens.delete(token_id)
    return Response(status_code=204)


MOUNTS = (Mount(router),)
