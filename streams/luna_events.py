"""Processor analytics-events -> general-events: LUNA's ``luna-event`` callback.

An analytic whose parameters list a ``luna-event`` callback gets each of its events stored as a LUNA
general event (RN v5.86), which the sink writes and ``GET /6/general_events?stream_ids=...`` reads back.
Only the ended message is stored: it carries the whole segment, and a general event is not updated.
"""

from __future__ import annotations

import faust

from infra.dead_letter import validated
from schemas.analytics import LunaEventCallback
from schemas.events import AnalyticsEventMessage, GeneralEventMessage, LineCrossingEvent
from schemas.streams import StreamConfig
from schemas.topics import ANALYTICS_EVENTS, GENERAL_EVENTS
from streams.app import dead_letter_topic, topic
from streams.configs import analytics_of, stream_configs

PROCESSOR = "luna_events"


def luna_event_indexes(config: StreamConfig | None) -> set[int]:
    """The stream's analytics (by index) with an enabled ``luna-event`` callback."""
    return {
        analytic.index
        for analytic, parameters in analytics_of(config)
        if any(isinstance(c, LunaEventCallback) and c.enable for c in parameters.callbacks)
    }


def general_event(message: AnalyticsEventMessage, config: StreamConfig | None) -> GeneralEventMessage | None:
    if message.analytic_index not in luna_event_indexes(config):
        return None
    if not isinstance(message.event, LineCrossingEvent) and message.event.event_status != "ended":
        return None
    return message.to_general_event(
        source=config.source if config else None, location=config.location if config else None
    )


def register(app: faust.App) -> None:
    general_events = topic(app, GENERAL_EVENTS)
    dead_letters = dead_letter_topic(app)
    configs = stream_configs(app)

    @app.agent(topic(app, ANALYTICS_EVENTS), name=PROCESSOR)
    async def luna_events(stream: faust.StreamT) -> None:
        await configs.loaded.wait()
        async for event in stream.events():
            message = await validated(dead_letters, event, AnalyticsEventMessage, PROCESSOR)
            if message is None:
                continue
            stored = general_event(message, configs.get(message.stream_id))
            if stored is not None:
                await general_events.send(key=str(stored.event_id).encode(), value=stored.model_dump_json().encode())
