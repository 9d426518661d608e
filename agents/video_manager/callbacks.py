"""HTTP callbacks: POST a JSON document to a receiver, off the caller's path.

Stream status notifications (``notification_policy``, sent by ``StatusCallbacks``) and live analytics
results each send through a ``CallbackSender``: a receiver that is slow or down costs at most ``callback_concurrency`` requests
in flight and ``callback_backlog`` waiting, never the caller's time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

import httpx

from infra.logs import for_stream
from infra.settings import ManagerSettings
from schemas.analytics import HttpCallback
from schemas.streams import Stream

log = logging.getLogger(__name__)


class CallbackSender:
    def __init__(self, settings: ManagerSettings, what: str) -> None:
        self._what = what  # names the kind of callback in logs: "status callback", "result callback"
        self._timeout = settings.callback_timeout
        self._backlog = settings.callback_backlog
        self._slots = asyncio.Semaphore(settings.callback_concurrency)
        self._http = httpx.AsyncClient(timeout=settings.callback_timeout)
        self._pending: set[asyncio.Task[None]] = set()

    def send(self, stream_id: UUID, callback: HttpCallback, payload: Mapping[str, object]) -> None:
        """Queue one POST and return at once; a full backlog drops it, with a warning."""
        if not callback.enable:
            return
        if len(self._pending) >= self._backlog:
            for_stream(log, stream_id).warning(
                f"{self._what} dropped, too many pending", extra={"url": callback.url, "pending": len(self._pending)}
            )
            return
        task = asyncio.create_task(self._post(stream_id, callback, payload))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _post(self, stream_id: UUID, callback: HttpCallback, payload: Mapping[str, object]) -> None:
        auth = callback.authorization
        headers = {"Authorization": f"Bearer {auth.token}"} if auth is not None and auth.type == "bearer" else {}
        basic = (auth.login or "", auth.password or "") if auth is not None and auth.type == "basic" else None
        async with self._slots:
            try:
                response = await self._http.post(
                    callback.url, json=payload, params=callback.params, headers=headers, auth=basic,
                    timeout=min(callback.timeout, self._timeout),
                )
                response.raise_for_status()
            except Exception as exc:  # noqa: BLE001 - a receiver's failure never affects the stream
                for_stream(log, stream_id).warning(
                    f"{self._what} failed", extra={"url": callback.url, "error": str(exc) or type(exc).__name__}
                )

    async def close(self) -> None:
        """Let the pending POSTs finish (each is bounded by the timeout), then close the connections."""
        await asyncio.gather(*self._pending, return_exceptions=True)
        await self._http.aclose()


class StatusCallbacks:
    """A stream's ``notification_policy``: its HTTP callbacks are told of every status change."""

    def __init__(self, settings: ManagerSettings) -> None:
        self._sender = CallbackSender(settings, "status callback")

    def notify(self, stream: Stream, now: datetime) -> None:
        policy = stream.notification_policy
        if not policy.enable:
            return
        payload = {
            "stream_id": str(stream.stream_id), "account_id": str(stream.account_id), "version": stream.version,
            "status": stream.status.luna_name, "time": now.isoformat(),
            "error": stream.last_error.model_dump() if stream.last_error else None,
        }
        for callback in policy.stream_callbacks:
            if isinstance(callback, HttpCallback):
                self._sender.send(stream.stream_id, callback, payload)

    async def close(self) -> None:
        await self._sender.close()
