"""The websocket pieces every Selene websocket shares: a slow client's bounded queue, and the token
query parameter as credentials."""

from __future__ import annotations

from prometheus_client import REGISTRY
from starlette.requests import HTTPConnection

from infra.http.websocket import Close, MessageQueue, with_token


def _dropped(socket: str) -> float:
    return REGISTRY.get_sample_value("selene_ws_messages_dropped_total", {"socket": socket}) or 0.0


async def test_a_slow_client_loses_its_oldest_messages_counted_in_metrics() -> None:
    before = _dropped("unit")
    queue = MessageQueue(2, "unit", {"stream_id": "s"})
    for text in ("a", "b", "c"):
        queue.put(text)
    queue.put(Close(1001))
    assert queue.dropped == 2
    assert _dropped("unit") - before == 2
    assert [await queue.get(), await queue.get()] == ["c", Close(1001)]


def test_a_token_parameter_becomes_a_bearer_header_unless_one_is_set() -> None:
    bare = HTTPConnection({"type": "websocket", "headers": []})
    assert with_token(bare, "jwt").headers["authorization"] == "Bearer jwt"
    basic = HTTPConnection({"type": "websocket", "headers": [(b"authorization", b"Basic abc")]})
    assert with_token(basic, "jwt").headers["authorization"] == "Basic abc"
    assert "authorization" not in with_token(bare, None).headers
