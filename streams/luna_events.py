"""Processor analytics-events -> general-events: LUNA's ``luna-event`` callback.

An analytic whose parameters list a ``luna-event`` callback gets each of its events stored as a LUNA
general event (RN v5.86), which the sink writes and ``GET /6/general_events?stream_ids=...`` reads back.
Only the ended message is stored: it carries the whole segment, and a general event is not updated.
"""

from __future__ import annotations

import faust

from schemas.events import AnalyticsEventMessage, GeneralEventMessage, LineCrossingEvent
from schemas.topics import ANALYTICS_EVENTS, GENERAL_EVENTS
from streams.configs import StreamSetup, stream_configs
from streams.processor import Publish, each, processor

PROCESSOR = "luna_events"


def general_event(message: AnalyticsEventMessage, setup: StreamSetup) -> GeneralEventMessage | None:
    if message.analytic_index not in setup.luna_event_indexes:
        return None
    if not isinstance(message.event, LineCrossingEvent) and message.event.event_status != "ended":
        return None
    config = setup.config
    return message.to_general_event(
        source=config.source if config else None, location=config.location if config else None
    )


def register(app: faust.App) -> None:
    configs = stream_configs(app)

    def logic(message: AnalyticsEventMessage) -> list[Publish]:
        stored = general_event(message, configs.get(message.stream_id))
        return [] if stored is None else [Publish(GENERAL_EVENTS, stored.event_id, stored)]

    processor(app, PROCESSOR, ANALYTICS_EVENTS, AnalyticsEventMessage, each(logic),
              outputs=(GENERAL_EVENTS,), configs=configs)
