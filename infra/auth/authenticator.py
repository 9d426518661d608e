"""Who is calling: Basic (login and password), Bearer (a JWT token with permissions) or, when allowed,
LUNA's ``Luna-Account-Id`` header; and what that caller may see and change.

Passwords are kept as scrypt hashes. A verified Basic login is cached for a few seconds (as LUNA's API
does), so that a busy client does not pay scrypt on every request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

import jwt
from fastapi import Request

from infra.auth.store import AccountRecord, AccountStore
from infra.settings import ManagerSettings
from schemas.accounts import Account, AccountType, Right, Token, TokenPermissions
from schemas.errors import (
    ACCOUNT_ID_FILTER_DENIED,
    ACCOUNT_ID_HEADER_DISABLED,
    AUTH_REQUIRED,
    AUTHORIZATION_FAILED,
    PERMISSION_DENIED,
    TOKEN_EXPIRED,
    WRONG_CREDENTIALS,
    SeleneError,
)

ObjectKind = Literal[
    "video_stream", "video_group", "video_analytic", "video_agent", "event", "face", "list",
    "face_sample", "body_sample", "image", "object", "attribute", "handler", "verifier", "task",
]
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}
_CACHE_SECONDS = 10.0
_RIGHT_OF_METHOD: dict[str, Right] = {
    "GET": "view", "HEAD": "view", "POST": "creation", "PUT": "modification", "PATCH": "modification", "DELETE": "deletion",
}


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(candidate.hex(), digest)


@dataclass(frozen=True)
class Principal:
    account_id: UUID
    account_type: AccountType
    permissions: TokenPermissions | None = None  # None: Basic login, every right of the account type
    token_visibility_all: bool = True

    def require(self, kind: ObjectKind, right: Right) -> None:
        if kind == "video_agent" and self.account_type != "admin" and self.permissions is None:
            raise SeleneError(PERMISSION_DENIED, right, kind)  # agents are the platform's, not an account's
        if self.permissions is not None and right not in getattr(self.permissions, kind):
            raise SeleneError(PERMISSION_DENIED, right, kind)

    def readable(self, account_id: UUID | None = None) -> set[UUID]:
        """Accounts whose objects a read may return: one's own, or with ``account_id`` another one's
        for an advanced_user or admin (LUNA's account types)."""
        if account_id is None or account_id == self.account_id:
            return {self.account_id}
        if self.account_type == "user" or not self.token_visibility_all:
            raise SeleneError(ACCOUNT_ID_FILTER_DENIED)
        return {account_id}

    @property
    def writable(self) -> set[UUID]:
        return {self.account_id}


class Authenticator:
    def __init__(self, registry: AccountStore, settings: ManagerSettings) -> None:
        self.registry = registry
        self.settings = settings
        self._basic_cache: dict[tuple[str, bytes], tuple[float, Principal]] = {}

    async def ensure_admin(self) -> None:
        """The first admin, from settings, unless its login exists already."""
        if await self.registry.accounts.id_by_name(self.settings.admin_login) is None:
            try:
                await self.create_account(self.settings.admin_login, self.settings.admin_password, "admin", "first admin")
            except SeleneError:
                pass  # another manager instance created it first

    async def create_account(self, login: str, password: str, account_type: AccountType, description: str | None) -> Account:
        now = datetime.now(UTC)
        account = Account(
            account_id=uuid.uuid4(), login=login, account_type=account_type, description=description,
            create_time=now, last_update_time=now,
        )
        record = AccountRecord(account=account, password_hash=await asyncio.to_thread(hash_password, password))
        await self.registry.accounts.create(account.account_id, record, now, name=login)
        return account

    async def update_account(self, account_id: UUID, login: str | None, password: str | None,
                             description: str | None) -> Account:
        password_hash = None if password is None else await asyncio.to_thread(hash_password, password)
        now = datetime.now(UTC)

        def apply(record: AccountRecord) -> None:
            if description is not None:
                record.account.description = description
            if password_hash is not None:
                record.password_hash = password_hash
            record.account.last_update_time = now

        record = await self.registry.accounts.get(account_id)
        if record is None:
            raise SeleneError(OBJECT_NOT_FOUND, f"account with id {account_id}")
        if login is not None and login != record.account.login:
            old_login = record.account.login
            apply(record)
            record.account.login = login
            await self.registry.accounts.rename(account_id, old_login, login, record)
        else:
            record = await self.registry.accounts.update(account_id, apply)
        # This process forgets the old credentials at once; other API processes within their cache time.
        self._basic_cache = {key: hit for key, hit in self._basic_cache.items() if hit[1].account_id != account_id}
        return record.account

    def issue(self, token: Token) -> str:
        claims: dict[str, object] = {"token_id": str(token.token_id), "account_id": str(token.account_id)}
        if token.expiration_time is not None:
            claims["exp"] = int(token.expiration_time.timestamp())
        return jwt.encode(claims, self.settings.jwt_secret, algorithm="HS256")

    async def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "basic":
            return await self._basic(credentials.strip())
        if scheme.lower() == "bearer":
            return await self._bearer(credentials.strip())
        account_id = request.headers.get("luna-account-id")
        if account_id:
            if not self.settings.allow_account_id_header:
                raise SeleneError(ACCOUNT_ID_HEADER_DISABLED)
            return await self._account_principal(account_id)
        raise SeleneError(AUTH_REQUIRED)

    async def _account_principal(self, account_id: str, permissions: TokenPermissions | None = None, all_: bool = True) -> Principal:
        try:
            record = await self.registry.accounts.get(UUID(account_id))
        except ValueError:
            record = None
        if record is None:
            raise SeleneError(AUTHORIZATION_FAILED, "account not found")
        return Principal(record.account.account_id, record.account.account_type, permissions, all_)

    async def _basic(self, credentials: str) -> Principal:
        try:
            login, _, password = base64.b64decode(credentials, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise SeleneError(AUTHORIZATION_FAILED, "malformed basic credentials") from None
        cache_key = (login, hashlib.sha256(password.encode()).digest())
        cached = self._basic_cache.get(cache_key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        account_id = await self.registry.accounts.id_by_name(login)
        record = await self.registry.accounts.get(account_id) if account_id else None
        # scrypt takes tens of milliseconds by design: keep it off the event loop.
        if record is None or not await asyncio.to_thread(verify_password, password, record.password_hash):
            raise SeleneError(WRONG_CREDENTIALS)
        principal = Principal(record.account.account_id, record.account.account_type)
        self._basic_cache[cache_key] = (time.monotonic() + _CACHE_SECONDS, principal)
        return principal

    async def _bearer(self, credentials: str) -> Principal:
        try:
            claims = jwt.decode(credentials, self.settings.jwt_secret, algorithms=["HS256"])
        except jwt.ExpiredSignatureError:
            raise SeleneError(TOKEN_EXPIRED) from None
        except jwt.PyJWTError as exc:
            raise SeleneError(AUTHORIZATION_FAILED, f"invalid token: {exc}") from None
        token = await self.registry.tokens.get(claims.get("token_id", ""))
        if token is None:
            raise SeleneError(AUTHORIZATION_FAILED, "token revoked or unknown")
        # A replaced token may expire sooner than the JWT issued before the replacement says.
        if token.expiration_time is not None and token.expiration_time <= datetime.now(UTC):
            raise SeleneError(TOKEN_EXPIRED)
        return await self._account_principal(str(token.account_id), token.permissions, token.visibility_area == "all")


def right_of(method: str) -> Right:
    return _RIGHT_OF_METHOD.get(method.upper(), "view")
