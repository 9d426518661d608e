from __future__ import annotations

import base64

from aiokafka.structs import ConsumerRecord

from infra.dead_letter import MAX_REASON, dead_letter_for
from schemas.errors import MESSAGE_INVALID


def record(value: bytes | None, key: bytes | None = b"stream-1") -> ConsumerRecord:
    return ConsumerRecord(
        topic="selene.analytics-events", partition=3, offset=41, timestamp=0, timestamp_type=0, key=key, value=value,
        checksum=None, serialized_key_size=0, serialized_value_size=0, headers=[("stream_id", b"s-1"), ("bad", b"\xff")],
    )


def test_a_record_keeps_where_it_came_from_and_its_bytes() -> None:
    letter = dead_letter_for(record(b"{not json\xff"), MESSAGE_INVALID, "broken", "video-manager")
    assert (letter.topic, letter.partition, letter.offset, letter.key) == ("selene.analytics-events", 3, 41, "stream-1")
    assert letter.headers == {"stream_id": "s-1", "bad": "\ufffd"}
    assert base64.b64decode(letter.value) == b"{not json\xff"
    assert (letter.error_code, letter.reason, letter.processor) == (MESSAGE_INVALID.code, "broken", "video-manager")


def test_a_record_without_key_or_value_and_a_long_reason() -> None:
    letter = dead_letter_for(record(None, key=None), MESSAGE_INVALID, "x" * (MAX_REASON + 500), "sink")
    assert letter.key is None and letter.value == ""
    assert len(letter.reason) == MAX_REASON
