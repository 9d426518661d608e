"""Fixtures the video-agent integration tests share: a frame publisher and a frames-topic reader on the
session's real broker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from agents.video_agent.publisher import FramePublisher
from infra.settings import BrokerSettings
from tests.support_agent import FrameReader


@pytest.fixture
async def publisher(broker: BrokerSettings) -> AsyncIterator[FramePublisher]:
    publisher = FramePublisher(broker.bootstrap)
    await publisher.start()
    yield publisher
    await publisher.stop()


@pytest.fixture
async def frames(broker: BrokerSettings) -> AsyncIterator[FrameReader]:
    reader = await FrameReader.start(broker.bootstrap)
    yield reader
    await reader.stop()
