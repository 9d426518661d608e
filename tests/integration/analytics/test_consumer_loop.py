"""The consumer loop the sink and the matcher share (infra.consumer), on the real broker: bad records go to
the dead letter, a failing handle step holds its batch and retries it with backoff, and offsets are
committed only after the step succeeded, so a restarted group handles nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from infra.consumer import ConsumerService, Received
from infra.settings import BrokerSettings
from schemas.events import CountSample
from schemas.topics import COUNTS
from tests.support import dead_letters, eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass(frozen=True)
class Fast:
    batch_size: int = 20
    batch_seconds: float = 0.2
    retry_initial: float = 0.05
    retry_max: float = 0.2


class Flaky(ConsumerService):
    """A handle step whose store is down for its first ``failures`` calls."""

    name = "flaky-test"

    def __init__(self, bootstrap: str, group_id: str, stream_id: uuid.UUID, failures: int) -> None:
        super().__init__(bootstrap, group_id, {COUNTS.name: CountSample}, Fast())
        self.stream_id, self.failures, self.calls = stream_id, failures, 0
        self.handled: list[float] = []

    async def handle(self, topic: str, received: list[Received]) -> None:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise ConnectionError("store down")
        mine = [m for _, m in received if isinstance(m, CountSample) and m.stream_id == self.stream_id]
        self.handled.extend(m.time_offset for m in mine)


def sample(stream_id: uuid.UUID, time_offset: float) -> bytes:
    return CountSample(stream_id=stream_id, account_id=uuid.uuid4(), time_offset=time_offset,
                       timestamp=datetime.now(UTC), people_count=1).model_dump_json().encode()


async def test_bad_records_are_dead_lettered_and_a_failing_batch_is_retried_then_committed(broker: BrokerSettings) -> None:
    stream_id = uuid.uuid4()
    group, key = f"loop-{stream_id.hex[:8]}", str(stream_id).encode()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        for offset in (0.0, 0.1):
            await producer.send_and_wait(COUNTS.name, sample(stream_id, offset), key=key)
        bad = await producer.send_and_wait(COUNTS.name, b'{"not": "a sample"}', key=key)

        service = Flaky(broker.bootstrap, group, stream_id, failures=2)
        await service.start()
        try:
            await eventually(lambda: asyncio.sleep(0, list(service.handled)), lambda h: len(h) >= 2, timeout=30)
        finally:
            await service.stop()
        assert service.handled == [0.0, 0.1]  # held through two failures, then handled once, in order
        assert service.calls >= 3

        # The same group resumes after its commits: only what came since is handled.
        await producer.send_and_wait(COUNTS.name, sample(stream_id, 0.2), key=key)
        again = Flaky(broker.bootstrap, group, stream_id, failures=0)
        await again.start()
        try:
            await eventually(lambda: asyncio.sleep(0, list(again.handled)), lambda h: len(h) >= 1, timeout=30)
            await asyncio.sleep(0.5)  # room for a wrong redelivery to show
        finally:
            await again.stop()
        assert again.handled == [0.2]
    finally:
        await producer.stop()

    letters = await dead_letters(broker.bootstrap)
    [letter] = [x for x in letters if (x.topic, x.partition, x.offset) == (COUNTS.name, bad.partition, bad.offset)]
    assert letter.processor == "flaky-test" and "CountSample" in letter.reason


async def test_a_batch_with_malformed_records_dead_letters_them_and_handles_the_rest_in_order(broker: BrokerSettings) -> None:
    stream_id = uuid.uuid4()
    key = str(stream_id).encode()
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50)  # one produce request: one batch
    await producer.start()
    try:
        sends = [await producer.send(COUNTS.name, sample(stream_id, i / 10), key=key) for i in range(4)]
        sends.append(await producer.send(COUNTS.name, b'{"stream_id": "' + key + b'", "time_off', key=key))  # cut short
        sends += [await producer.send(COUNTS.name, sample(stream_id, i / 10), key=key) for i in range(4, 6)]
        sends.append(await producer.send(COUNTS.name, b'{"stream_id": "' + key + b'", "people_count": -1}', key=key))
        sends += [await producer.send(COUNTS.name, sample(stream_id, i / 10), key=key) for i in range(6, 9)]
        sent = [await s for s in sends]
    finally:
        await producer.stop()
    bad = {(m.partition, m.offset) for m in (sent[4], sent[7])}

    service = Flaky(broker.bootstrap, f"loop-batch-{stream_id.hex[:8]}", stream_id, failures=0)
    await service.start()
    try:
        await eventually(lambda: asyncio.sleep(0, list(service.handled)), lambda h: len(h) >= 9, timeout=30)
    finally:
        await service.stop()
    assert service.handled == [i / 10 for i in range(9)]  # every good record once, in order, around the bad ones

    letters = [x for x in await dead_letters(broker.bootstrap) if x.topic == COUNTS.name and (x.partition, x.offset) in bad]
    assert {(x.partition, x.offset) for x in letters} == bad and len(letters) == 2
    reasons = {x.offset: x.reason for x in letters}
    assert "'json_invalid'" in reasons[sent[4].offset]  # each letter carries its own record's errors
    assert "'greater_than_equal', 'loc': ('people_count',)" in reasons[sent[7].offset]
    assert "json_invalid" not in reasons[sent[7].offset]
    assert all(x.processor == "flaky-test" and "CountSample" in x.reason for x in letters)
