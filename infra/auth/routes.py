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
    AccountPatch,
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


@router.patch("/account", status_code=204, summary="Change the caller's login, password or description")
async def patch_account(body: AccountPatch, who: Principal = Caller, auth: Authenticator = Auth) -> Response:
    if not body.model_fields_set:
        raise SeleneError(BAD_INPUT_DATA, "at least one field must be specified")
    if who.permissions is not None:
        raise SeleneError(PERMISSION_DENIED, "modification", "account")  # a token cannot change its account
    if body.account_type is not None and body.account_type != who.account_type:
        raise SeleneError(PERMISSION_DENIED, "modification of the type", "account")
    await auth.update_account(who.account_id, body.login, body.password, body.description)
    return Response(status_code=204)


def _check_token_body(body: TokenCreate, who: Principal) -> None:
    if who.permissions is not None:
        raise SeleneError(PERMISSION_DENIED, "creation", "token")  # a token cannot mint tokens
    if body.visibility_area == "all" and who.account_type == "user":
        raise SeleneError(BAD_INPUT_DATA, "a user account's token cannot have visibility_area 'all'")


@router.post("/tokens", status_code=201, response_model=TokenCreated, summary="Create a token (JWT, shown once)")
async def create_token(body: TokenCreate, who: Principal = Caller, auth: Authenticator = Auth) -> TokenCreated:
    _check_token_body(body, who)
    token = Token(token_id=uuid.uuid4(), account_id=who.account_id, create_time=datetime.now(UTC), **body.model_dump())
    await auth.registry.tokens.create(token.token_id, token, token.create_time)
    return _created(token, auth)


def _created(token: Token, auth: Authenticator) -> TokenCreated:
    return TokenCreated(token=auth.issue(token), token_id=token.token_id, url=f"/6/tokens/{token.token_id}")


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


@router.put("/tokens/{token_id}", response_model=TokenCreated, summary="Replace a token (every field; a new JWT)")
async def replace_token(token_id: UUID, body: TokenCreate, who: Principal = Caller, auth: Authenticator = Auth) -> TokenCreated:
    _check_token_body(body, who)
    await _own_token(token_id, who, auth)

    def replace(token: Token) -> None:
        for name in TokenCreate.model_fields:
            setattr(token, name, getattr(body, name))

    # The old JWT stays valid under the new permissions and expiry: both are read from the stored token.
    return _created(await auth.registry.tokens.update(token_id, replace), auth)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke a token")
async def delete_token(token_id: UUID, who: Principal = Caller, auth: Authenticator = Auth) -> Response:
    await _own_token(token_id, who, auth)
    await auth.registry.tokens.delete(token_id)
    return Response(status_code=204)


MOUNTS = (Mount(router),)
