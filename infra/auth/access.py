"""The route dependency that authenticates the caller and checks its right on a kind of object."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request

from infra.auth.authenticator import ObjectKind, Principal, Right, right_of


def access(kind: ObjectKind, right: Right | None = None) -> Callable[[Request], Awaitable[Principal]]:
    """Authenticate, and require ``right`` on ``kind`` (default: the right the HTTP method needs)."""

    async def dependency(request: Request) -> Principal:
        principal = await request.app.state.context.auth.authenticate(request)
        principal.require(kind, right or right_of(request.method))
        return principal

    return dependency
