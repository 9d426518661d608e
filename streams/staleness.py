"""Live streams stay live: a frame of a live source that waited too long is skipped, counted and reported.

A worker over capacity would otherwise fall further behind for as long as the cameras play. Skipping a
stale frame costs only its header, so the worker catches up to the frames that are still fresh (Savant's
real-time mode, Inference's drop-oldest). Files keep every frame: nothing is lost by being late there.

The counts are running totals per stream since the worker started. Every ``report_interval`` the worker
sends them on ``selene.agent-feedback`` as a ``processing`` message under an id of its own; the manager
shows their sum over workers as the stream's ``frames_dropped.processing``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from uuid import UUID

import faust

from infra import metrics
from schemas.agents import AgentMessage, ProcessingReport
from schemas.frames import FrameHeader
from schemas.topics import AGENT_FEEDBACK
from streams.app import topic


class StaleFrames:
    """Tells stale live frames and counts them per stream."""

    def __init__(self, max_age: float) -> None:
        self.max_age = max_age
        self.worker_id = uuid.uuid4()  # the reports' key: totals of another worker (or run) add up apart
        self.counts: Counter[UUID] = Counter()

    def stale(self, header: FrameHeader, now: datetime | None = None) -> bool:
        """Whether to skip the frame (counted when so); never an end-of-video marker or a file's frame."""
        if not header.live or header.encoding == "end":
            return False
        age = ((now or datetime.now(UTC)) - header.timestamp).total_seconds()
        if age <= self.max_age:
            return False
        self.counts[header.stream_id] += 1
        metrics.FRAMES_STALE.labels(str(header.stream_id)).inc()
        return True

    def report(self) -> AgentMessage | None:
        """The totals as a processing report; None while nothing was dropped."""
        if not self.counts:
            return None
        return AgentMessage(
            agent_id=self.worker_id, kind="processing", sent_at=datetime.now(UTC),
            processing=[ProcessingReport(stream_id=s, frames_stale=n) for s, n in self.counts.items()],
        )


def register_reports(app: faust.App, frames: StaleFrames, interval: float) -> None:
    """Send the worker's processing report every ``interval`` seconds."""
    feedback = topic(app, AGENT_FEEDBACK)

    @app.timer(interval, name="processing_report")
    async def send_report() -> None:
        message = frames.report()
        if message is not None:
            await feedback.send(key=str(frames.worker_id).encode(), value=message.model_dump_json().encode())
