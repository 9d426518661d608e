"""The http side of the sender: a consumer group over ``selene.event-notifications`` (each event is
handled by one API instance) POSTs every event to the handler's ``http`` callbacks whose filters it
meets, once per callback that differs only in filters.

A callback is tried ``callback_attempts`` times, with jittered exponential backoff between tries; after
the last failure the notification goes to the dead-letter topic, with the callback's URL and the
last failure (LUNA's HTTP client codes: 9 timeout, 11 connection, 22 answer not 2xx, 23 other). A new
consumer group starts at the topic's end; start() returns once it holds its positions. The
offset is committed once every callback of the batch is sent or dead-lettered, so a crash resends:
delivery is at least once and a receiver dedupes on ``event.event_id``.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import msgpack
from aiokafka import ConsumerRecord

from analytics.sender.filters import EventFacts, to_deliver
from analytics.sender.message import sender_message
from infra import metrics
from infra.backoff import Backoff
from infra.consumer import ConsumerService, Received
from infra.settings import SenderSettings
from schemas.callbacks import HttpEventCallback
from schemas.errors import (
    CLIENT_CONNECTION_ERROR,
    CLIENT_HTTP_ERROR,
    CLIENT_REQUEST_TIMEOUT,
    CLIENT_RESPONSE_ERROR,
    SENDER_MESSAGE_INVALID,
    ErrorCode,
)
from schemas.notifications import EventNotification
from schemas.topics import EVENT_NOTIFICATIONS

log = logging.getLogger(__name__)
Failure = tuple[ErrorCode, str]  # the error and its detail


def encoded(document: object, content_type: str) -> bytes:
    if content_type == "application/msgpack":
        return msgpack.packb(document)  # type: ignore[no-any-return]
    return json.dumps(document).encode()


class CallbackDelivery(ConsumerService):
    name = "sender"
    invalid_error = SENDER_MESSAGE_INVALID
    # A new group (the first deployment, a renamed group) does not replay a day of old events to the
    # receivers; after its first commit it resumes where it stopped.
    offset_reset = "latest"

    def __init__(self, bootstrap: str, group_id: str, settings: SenderSettings) -> None:
        super().__init__(bootstrap, group_id, {EVENT_NOTIFICATIONS.name: EventNotification}, settings)
        self.sender_settings = settings
        self._slots = asyncio.Semaphore(settings.callback_concurrency)
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        self._http = httpx.AsyncClient(follow_redirects=False)
        try:
            await super().start()
            await self.hold_positions()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        await super().stop()
        await self._close_http()

    async def _close_http(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def handle(self, topic: str, received: list[Received]) -> None:
        deliveries = []
        for record, notification in received:
            assert isinstance(notification, EventNotification)
            for callback in to_deliver(notification.callbacks, HttpEventCallback, EventFacts.of(notification)):
                deliveries.append(self._deliver(record, notification, callback))
        await asyncio.gather(*deliveries)

    async def _deliver(self, record: ConsumerRecord, notification: EventNotification, callback: HttpEventCallback) -> None:
        body = encoded(sender_message(notification), callback.params.content_type)
        settings = self.sender_settings
        backoff = Backoff(settings.callback_retry_initial, settings.callback_retry_max, jitter=True)
        for attempt in range(1, settings.callback_attempts + 1):
            failure = await self._post(callback, body)
            if failure is None:
                metrics.SENDER_CALLBACKS.labels("sent").inc()
                return
            if attempt < settings.callback_attempts:
                metrics.SENDER_CALLBACKS.labels("retried").inc()
                log.warning("http callback failed, retrying", extra={
                    "url": callback.url, "attempt": attempt, "error": failure[1], "retry_in": backoff.upcoming})
                await backoff.wait()
        assert failure is not None  # callback_attempts >= 1
        metrics.SENDER_CALLBACKS.labels("dead_letter").inc()
        error, detail = failure
        await self.dead_letter(
            record, error, f"http callback {callback.url} failed {settings.callback_attempts} times, last: {detail}")

    async def _post(self, callback: HttpEventCallback, body: bytes) -> Failure | None:
        """One try: None when the receiver answered 2xx, else why not."""
        assert self._http is not None
        auth = callback.authorization
        headers = {**callback.params.headers, "Content-Type": callback.params.content_type}
        try:
            async with self._slots:
                response = await self._http.post(
                    callback.url, content=body, headers=headers, timeout=callback.params.timeout,
                    auth=(auth.login, auth.password) if auth is not None else None,
                )
        except httpx.TimeoutException:
            return CLIENT_REQUEST_TIMEOUT, CLIENT_REQUEST_TIMEOUT.body(callback.url, "POST").detail
        except httpx.TransportError as exc:
            return CLIENT_CONNECTION_ERROR, CLIENT_CONNECTION_ERROR.body(f"{callback.url}: {str(exc) or type(exc).__name__}").detail
        except httpx.HTTPError as exc:
            return CLIENT_HTTP_ERROR, CLIENT_HTTP_ERROR.body(f"{callback.url}: {str(exc) or type(exc).__name__}").detail
        if response.is_success:
            return None
        return CLIENT_RESPONSE_ERROR, CLIENT_RESPONSE_ERROR.body(f"{callback.url}: HTTP {response.status_code}").detail
