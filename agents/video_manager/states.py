"""The stream state machine: every transition of a stream record and its analytics' statuses.

Plain functions on records, with the clock passed in: no I/O. The registry applies each one inside its
optimistic transaction (``registry.streams.update(stream_id, fn)``), so a transition sees the record as
stored and may be run again on a retry; a transition that does not apply leaves the record unchanged,
which the registry commits as a no-op.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Literal
from uuid import UUID

from agents.video_manager.registry.records import AgentRecord, StreamRecord
from schemas.agents import StreamReport
from schemas.errors import NO_FREE_AGENT, STREAM_CONNECTION_LOST, ErrorBody
from schemas.status import AgentStatus, AutorestartStatus, StreamStatus
from schemas.streams import (
    Location,
    NotificationPolicy,
    Stream,
    StreamAnalytic,
    StreamCreate,
)

Action = Literal["pause", "resume"]

PAUSABLE = frozenset({StreamStatus.PENDING, StreamStatus.IN_PROGRESS, StreamStatus.RESTART, StreamStatus.HANDLER_LOST})
RESUMABLE = frozenset({StreamStatus.PAUSE})
RUNNING_REPORTS = frozenset({StreamStatus.PENDING, StreamStatus.IN_PROGRESS, StreamStatus.RESTART})


def created(
    stream_id: UUID, account_id: UUID, body: StreamCreate, analytics: list[StreamAnalytic], groups: list[UUID],
    now: datetime,
) -> StreamRecord:
    """A new stream: pending, version 1, with the analytics and groups the body's names resolved to."""
    return StreamRecord(
        stream=Stream(
            account_id=account_id, analytics=analytics, create_time=now, data=body.data, description=body.description,
            groups=groups, location=body.location or Location(), name=body.name,
            notification_policy=body.notification_policy or NotificationPolicy(), source=body.source,
            splittable=body.splittable, stream_id=stream_id,
        )
    )


def replace(
    record: StreamRecord, body: StreamCreate, analytics: list[StreamAnalytic], groups: list[UUID],
    agents: Mapping[UUID, Collection[str]],
) -> None:
    """PUT: the next version, pending again (a paused stream stays paused). ``agents``: the analytic names
    of each registered agent. The agent keeps the stream when it can run the new analytics; it is told to
    start the new version, and its reports of the old one get a stop."""
    old = record.stream
    paused = old.status == StreamStatus.PAUSE
    status = StreamStatus.PAUSE if paused else StreamStatus.PENDING
    record.stream = old.model_copy(
        update={
            "analytics": [a.model_copy(update={"status": status}) for a in analytics],
            "data": body.data, "description": body.description, "groups": groups,
            "location": body.location or Location(), "name": body.name,
            "notification_policy": body.notification_policy or NotificationPolicy(),
            "source": body.source, "splittable": body.splittable, "version": old.version + 1,
            "status": status, "last_error": None,
        }
    )
    runs = agents.get(record.agent_id) if record.agent_id else None
    if paused or runs is None or not {a.analytic_name for a in analytics} <= set(runs):
        release(record)


def allows(record: StreamRecord, action: Action) -> bool:
    """Whether pause (pending, in_progress, restart, handler_lost) or resume (pause) applies."""
    return record.stream.status in (PAUSABLE if action == "pause" else RESUMABLE)


def apply_action(record: StreamRecord, action: Action) -> None:
    """Pause: the stream leaves its agent. Resume: pending, with every autorestart's attempts reset."""
    if not allows(record, action):
        return
    record.schedule_paused = False  # a user's pause stays; a user's resume outside the intervals pauses again
    if action == "pause":
        set_status(record, StreamStatus.PAUSE)
        release(record)
    else:
        set_status(record, StreamStatus.PENDING)
        for analytic in record.stream.analytics:
            analytic.autorestart.current_attempt = 0
    record.restart_at = None


def working(analytic: StreamAnalytic, now: datetime) -> bool:
    """Whether the analytic is inside one of its working intervals ([start, end)); always without any."""
    if not analytic.schedules:
        return True
    return any(interval.start_time <= now < interval.end_time
               for schedule in analytic.schedules for interval in schedule.intervals or ())


def follow_schedule(record: StreamRecord, now: datetime) -> None:
    """Working intervals: a stream none of whose analytics is inside one pauses (LUNA's ``pause``) and
    leaves its agent; when one opens, a stream its schedule paused is pending again. A user's pause is
    never resumed here, and done or failed streams stay as they are."""
    inside = any(working(analytic, now) for analytic in record.stream.analytics)
    status = record.stream.status
    if not inside and status in PAUSABLE:
        set_status(record, StreamStatus.PAUSE)
        release(record)
        record.restart_at = None
        record.schedule_paused = True
    elif inside and status == StreamStatus.PAUSE and record.schedule_paused:
        set_status(record, StreamStatus.PENDING)
        record.schedule_paused = False


def set_status(record: StreamRecord, status: StreamStatus, indexes: Iterable[int] | None = None) -> None:
    """The stream's status, and that of the chosen analytics (all without ``indexes``)."""
    chosen = set(indexes) if indexes is not None else None
    for i, analytic in enumerate(record.stream.analytics):
        if chosen is None or i in chosen:
            analytic.status = status
    record.stream.status = status


def release(record: StreamRecord) -> None:
    """The stream has no agent any more."""
    record.agent_id = None
    forget_start(record)


def forget_start(record: StreamRecord) -> None:
    """The agent must be sent this stream again (it restarted, or the send failed)."""
    record.started_version = None
    record.started_at = None


def mark_started(record: StreamRecord, agent_id: UUID, now: datetime) -> None:
    """The agent is handed the current version (once per version)."""
    if record.agent_id == agent_id and record.started_version != record.stream.version:
        record.started_version = record.stream.version
        record.started_at = now.timestamp()


def take(record: StreamRecord, agent_id: UUID) -> None:
    """Assignment: a pending stream without an agent goes to ``agent_id`` (no longer waiting for one)."""
    if record.stream.status == StreamStatus.PENDING and record.agent_id is None:
        record.agent_id = agent_id
        if record.stream.last_error is not None and record.stream.last_error.error_code == NO_FREE_AGENT.code:
            record.stream.last_error = None


def wait_for_agent(record: StreamRecord, error: ErrorBody) -> None:
    """Assignment found no agent for a pending stream: its ``last_error`` says why."""
    if record.stream.status == StreamStatus.PENDING and record.agent_id is None:
        record.stream.last_error = error


def is_current(record: StreamRecord | None, agent_id: UUID, report: StreamReport) -> bool:
    """Whether the report is of the version this agent holds now (and the stream is not paused);
    any other report of a running stream is answered with a stop."""
    return (
        record is not None and record.agent_id == agent_id and record.stream.version == report.version
        and record.stream.status != StreamStatus.PAUSE
    )


def apply_report(record: StreamRecord, agent_id: UUID, report: StreamReport, now: datetime) -> None:
    """An agent's report of its analytics' status: in_progress, done (the stream is released), or
    failure, where each reported analytic restarts while its autorestart allows."""
    stream = record.stream
    if record.agent_id != agent_id or stream.version != report.version:
        return  # changed since the caller looked: the next report gets its stop
    if report.status.is_terminal and (record.started_at is None or report.time.timestamp() < record.started_at):
        return  # the end of an earlier run of this version, reported before the agent got its new start
    indexes = [i for i in (report.analytic_indexes or range(len(stream.analytics))) if 0 <= i < len(stream.analytics)]
    if report.last_error is not None:
        stream.last_error = report.last_error
    if report.status != StreamStatus.FAILURE:
        set_status(record, report.status, indexes)
        if report.status == StreamStatus.DONE:
            release(record)
        return
    # A lost connection does not use up an attempt (LUNA v5.89).
    lost = report.last_error is not None and report.last_error.error_code == STREAM_CONNECTION_LOST.code
    delays = []
    for i in indexes:
        analytic = stream.analytics[i]
        restart = analytic.autorestart
        if restart.restart and (lost or restart.current_attempt < restart.attempt_count):
            if not lost:
                restart.current_attempt += 1
            restart.last_attempt_time = now
            restart.status = AutorestartStatus.IN_PROGRESS
            analytic.status = StreamStatus.RESTART
            delays.append(restart.delay)
        else:
            restart.status = AutorestartStatus.FAILED if restart.restart else AutorestartStatus.DISABLED
            analytic.status = StreamStatus.FAILURE
    if delays:
        stream.status = StreamStatus.RESTART
        record.restart_at = now.timestamp() + max(delays)
    else:
        stream.status = StreamStatus.FAILURE
    release(record)


def restart_if_due(record: StreamRecord, now: datetime) -> None:
    """Autorestart: once its delay has passed, a restarting stream (and its restarting analytics) is pending."""
    if record.stream.status != StreamStatus.RESTART or record.restart_at is None or record.restart_at > now.timestamp():
        return
    for analytic in record.stream.analytics:
        if analytic.status == StreamStatus.RESTART:
            analytic.status = StreamStatus.PENDING
    record.stream.status = StreamStatus.PENDING
    record.restart_at = None


def handler_lost(record: StreamRecord, agent_id: UUID) -> None:
    """The stream's agent is gone (expired or removed): logged ``handler_lost``, without an agent."""
    if record.agent_id == agent_id:
        set_status(record, StreamStatus.HANDLER_LOST)
        release(record)


def pending_again(record: StreamRecord) -> None:
    """After ``handler_lost``: the stream waits for another agent."""
    if record.stream.status == StreamStatus.HANDLER_LOST and record.agent_id is None:
        set_status(record, StreamStatus.PENDING)


def leave_group(record: StreamRecord, group_id: UUID) -> None:
    record.stream.groups = [g for g in record.stream.groups if g != group_id]


# -- agents ----------------------------------------------------------------------------------------
def touch(record: AgentRecord, now: datetime) -> None:
    """The agent was heard from: ready."""
    record.agent.last_seen = now
    record.agent.status = AgentStatus.READY


def expire(record: AgentRecord, deadline: datetime) -> None:
    """An agent not heard from since before ``deadline`` is not_ready."""
    if record.agent.last_seen < deadline:
        record.agent.status = AgentStatus.NOT_READY
