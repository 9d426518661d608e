"""Send a message Selene could not process to the dead-letter topic, with the reason."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas.deadletter import DeadLetter
from schemas.errors import MESSAGE_INVALID, ErrorCode
from schemas.frames import FrameHeader

if TYPE_CHECKING:  # only for annotations: the API builds dead letters without Faust, which takes ~0.5 s to import
    import faust
    from faust.types import EventT

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
MAX_REASON = 2000


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def dead_letter_for(message: Any, error: ErrorCode, reason: str, processor: str) -> DeadLetter:
    """Every dead letter Selene sends is built here, from a Faust message or an aiokafka record (both
    carry topic, partition, offset, key, value, headers). The reason is cut to ``MAX_REASON`` characters:
    a validation error can list every field of a large message."""
    headers = message.headers.items() if isinstance(message.headers, dict) else (message.headers or [])
    raw = message.value if isinstance(message.value, bytes) else str(message.value or "").encode()
    return DeadLetter(
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key=_text(message.key),
        headers={k: _text(v) or "" for k, v in headers},
        value=base64.b64encode(raw).decode(),
        error_code=error.code,
        reason=reason[:MAX_REASON],
        processor=processor,
        failed_at=datetime.now(UTC),
    )


async def send_dead_letter(
    dead_letters: faust.TopicT, event: EventT, error: ErrorCode, reason: str, processor: str
) -> DeadLetter:
    letter = dead_letter_for(event.message, error, reason, processor)
    log.warning(
        "message sent to dead letter",
        extra={"topic": letter.topic, "offset": letter.offset, "reason": reason, "processor": processor},
    )
    await dead_letters.send(key=letter.topic.encode(), value=letter.model_dump_json().encode())
    return letter


async def validated(dead_letters: faust.TopicT, event: EventT, model: type[M], processor: str) -> M | None:
    """The event as ``model`` (a FrameHeader from the headers, anything else from the JSON value), or
    None once it went to the dead-letter topic with the reason."""
    try:
        if model is FrameHeader:
            return FrameHeader.from_kafka_headers(event.headers)  # type: ignore[return-value]
        return model.model_validate_json(event.value)
    except ValidationError as exc:
        reason = MESSAGE_INVALID.body(model.__name__, exc.errors(include_url=False)).detail
        await send_dead_letter(dead_letters, event, MESSAGE_INVALID, reason, processor)
        return None
