"""The /6/ws subscribers: an event goes to its account's subscribers whose filters it meets, a slow one
loses its oldest messages (counted), and a closed subscription gets nothing more."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from prometheus_client import REGISTRY

from analytics.sender.fanout import WsFanout
from analytics.sender.subscribers import Subscribers
from infra.http.websocket import Close
from schemas.callbacks import EventFilters
from schemas.notifications import EventNotification


def notification(account: uuid.UUID, tags: list[str], ws: bool = True) -> EventNotification:
    return EventNotification.model_validate({
        "account_id": account, "event": {"event_id": str(uuid.uuid4()), "tags": tags},
        "event-create-time": datetime.now(UTC), "event-end-time": datetime.now(UTC),
        "callbacks": [{"type": "luna-ws-notification"}] if ws else [],
    })


async def test_events_go_to_the_accounts_matching_subscribers_and_a_slow_one_drops_the_oldest() -> None:
    before = REGISTRY.get_sample_value("selene_ws_messages_dropped_total", {"socket": "events"}) or 0.0
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    subscribers = Subscribers(queue_size=2)
    fanout = WsFanout("127.0.0.1:1", subscribers)  # never started: publish() is the delivery step alone
    with subscribers.subscribe(mine, EventFilters()) as every, \
            subscribers.subscribe(mine, EventFilters(tags=["vip"])) as vip, \
            subscribers.subscribe(theirs, EventFilters()) as other:
        assert len(subscribers) == 3
        sent = [notification(mine, t) for t in (["vip"], [], ["vip"], ["vip"])]
        assert [fanout.publish(n) for n in sent] == [2, 1, 2, 2]
        assert fanout.publish(notification(mine, ["vip"], ws=False)) == 0  # no ws callback: nobody
        assert every.dropped == 2 and vip.dropped == 1 and other.dropped == 0
        ids = [json.loads(str(await every.get()))["event"]["event_id"] for _ in range(2)]
        assert ids == [sent[2].event["event_id"], sent[3].event["event_id"]]
        subscribers.close_all(Close(1001))
    assert len(subscribers) == 0
    assert fanout.publish(notification(mine, ["vip"])) == 0
    after = REGISTRY.get_sample_value("selene_ws_messages_dropped_total", {"socket": "events"})
    assert after == before + 4  # vip's queue was full again when the Close came: one more dropped
