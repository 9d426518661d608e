"""The stream state machine on plain records: no Redis, the clock passed in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from agents.video_manager import states
from agents.video_manager.registry import AgentRecord, StreamRecord
from schemas.agents import Agent, StreamReport
from schemas.errors import STREAM_CONNECTION_LOST, ErrorBody
from schemas.status import AgentStatus, AutorestartStatus, StreamStatus
from schemas.streams import AnalyticSchedule, Autorestart, StreamAnalytic, StreamCreate

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
AGENT = uuid.uuid4()


def body(**extra: Any) -> StreamCreate:
    return StreamCreate.model_validate(
        {"data": {"type": "videofile", "reference": "file:///v.mp4"}, "analytics": [{"name": "people_count"}], **extra}
    )


def analytics(*names: str, restart: int = 0, attempts: int = 2, delay: int = 10) -> list[StreamAnalytic]:
    return [
        StreamAnalytic(analytic_name=n, autorestart=Autorestart(restart=restart, attempt_count=attempts, delay=delay))
        for n in names
    ]


def record(*names: str, **restart: int) -> StreamRecord:
    return states.created(uuid.uuid4(), uuid.uuid4(), body(), analytics(*(names or ("people_count",)), **restart), [], T0)


def running(*names: str, started: datetime = T0, **restart: int) -> StreamRecord:
    """A stream its agent has been handed at ``started`` and runs."""
    r = record(*names, **restart)
    states.take(r, AGENT)
    states.mark_started(r, AGENT, started)
    states.set_status(r, StreamStatus.IN_PROGRESS)
    return r


def report(r: StreamRecord, status: StreamStatus, at: datetime, **extra: Any) -> StreamReport:
    return StreamReport(stream_id=r.stream.stream_id, status=status, version=r.stream.version, time=at, **extra)


def lost_connection() -> ErrorBody:
    return STREAM_CONNECTION_LOST.body("rtsp://cam")


def statuses(r: StreamRecord) -> tuple[StreamStatus, list[StreamStatus]]:
    return r.stream.status, [a.status for a in r.stream.analytics]


# -- create, replace ---------------------------------------------------------------------------------
def test_a_new_stream_is_pending_version_one_without_an_agent() -> None:
    group = uuid.uuid4()
    r = states.created(uuid.uuid4(), uuid.uuid4(), body(name="gate"), analytics("people_count"), [group], T0)
    assert (r.stream.status, r.stream.version, r.agent_id, r.stream.groups) == (StreamStatus.PENDING, 1, None, [group])
    assert (r.stream.name, r.stream.create_time) == ("gate", T0)


def test_replace_bumps_the_version_and_keeps_an_agent_that_runs_the_new_analytics() -> None:
    r = running()
    r.stream.last_error = lost_connection()
    states.replace(r, body(name="new"), analytics("people_count"), [], {AGENT: ["people_count", "human_tracking"]})
    assert (r.stream.version, r.stream.name, r.stream.last_error) == (2, "new", None)
    assert statuses(r) == (StreamStatus.PENDING, [StreamStatus.PENDING])
    assert r.agent_id == AGENT and r.started_version == 1  # the agent is sent version 2 as a new start


def test_replace_releases_the_stream_from_an_agent_that_cannot_run_it_or_is_gone() -> None:
    for agents in ({AGENT: ["people_count"]}, {}):
        r = running()
        states.replace(r, body(), analytics("human_tracking"), [], agents)
        assert (r.agent_id, r.started_version, r.started_at) == (None, None, None)


def test_replace_keeps_a_paused_stream_paused_and_without_an_agent() -> None:
    r = running()
    states.apply_action(r, "pause")
    states.replace(r, body(), analytics("people_count", "people_count"), [], {AGENT: ["people_count"]})
    assert statuses(r) == (StreamStatus.PAUSE, [StreamStatus.PAUSE, StreamStatus.PAUSE])
    assert r.agent_id is None


# -- pause, resume -----------------------------------------------------------------------------------
@pytest.mark.parametrize("status", list(StreamStatus))
def test_pause_applies_to_pending_in_progress_restart_and_handler_lost_only(status: StreamStatus) -> None:
    r = running()
    states.set_status(r, status)
    r.restart_at = 5.0
    before = r.model_copy(deep=True)
    states.apply_action(r, "pause")
    pausable = status in {StreamStatus.PENDING, StreamStatus.IN_PROGRESS, StreamStatus.RESTART, StreamStatus.HANDLER_LOST}
    assert states.allows(before, "pause") is pausable
    if pausable:
        assert statuses(r) == (StreamStatus.PAUSE, [StreamStatus.PAUSE])
        assert (r.agent_id, r.started_version, r.restart_at) == (None, None, None)
    else:
        assert r == before


@pytest.mark.parametrize("status", list(StreamStatus))
def test_resume_applies_to_a_paused_stream_only_and_resets_the_attempts(status: StreamStatus) -> None:
    r = record(restart=1)
    states.set_status(r, status)
    r.stream.analytics[0].autorestart.current_attempt = 2
    before = r.model_copy(deep=True)
    states.apply_action(r, "resume")
    if status == StreamStatus.PAUSE:
        assert statuses(r) == (StreamStatus.PENDING, [StreamStatus.PENDING])
        assert r.stream.analytics[0].autorestart.current_attempt == 0
    else:
        assert r == before


# -- reports -----------------------------------------------------------------------------------------
def test_in_progress_report_sets_the_reported_analytics_and_the_stream() -> None:
    r = record("people_count", "human_tracking")
    states.take(r, AGENT)
    states.mark_started(r, AGENT, T0)
    states.apply_report(r, AGENT, report(r, StreamStatus.IN_PROGRESS, T0, analytic_indexes=[1, 7]), T0)
    assert statuses(r) == (StreamStatus.IN_PROGRESS, [StreamStatus.PENDING, StreamStatus.IN_PROGRESS])


def test_done_report_releases_the_stream() -> None:
    r = running()
    states.apply_report(r, AGENT, report(r, StreamStatus.DONE, T0 + timedelta(seconds=1)), T0)
    assert statuses(r) == (StreamStatus.DONE, [StreamStatus.DONE])
    assert r.agent_id is None


def test_a_report_keeps_its_last_error() -> None:
    r = running()
    error = lost_connection()
    states.apply_report(r, AGENT, report(r, StreamStatus.IN_PROGRESS, T0, last_error=error), T0)
    assert r.stream.last_error == error


def test_the_end_of_an_earlier_run_is_ignored() -> None:
    """A done or failure dated before the agent got its (new) start belongs to an earlier run."""
    started = T0 + timedelta(seconds=30)
    for status in (StreamStatus.DONE, StreamStatus.FAILURE):
        r = running(started=started)
        before = r.model_copy(deep=True)
        states.apply_report(r, AGENT, report(r, status, started - timedelta(seconds=1)), started)
        assert r == before
    never_started = record()
    states.take(never_started, AGENT)
    before = never_started.model_copy(deep=True)
    states.apply_report(never_started, AGENT, report(never_started, StreamStatus.DONE, T0), T0)
    assert never_started == before


def test_a_report_of_another_agent_or_version_changes_nothing() -> None:
    r = running()
    before = r.model_copy(deep=True)
    states.apply_report(r, uuid.uuid4(), report(r, StreamStatus.DONE, T0 + timedelta(seconds=1)), T0)
    old = report(r, StreamStatus.DONE, T0 + timedelta(seconds=1)).model_copy(update={"version": 2})
    states.apply_report(r, AGENT, old, T0)
    assert r == before


def test_is_current_only_for_the_holding_agent_the_current_version_and_not_paused() -> None:
    r = running()
    now = report(r, StreamStatus.IN_PROGRESS, T0)
    assert states.is_current(r, AGENT, now)
    assert not states.is_current(None, AGENT, now)
    assert not states.is_current(r, uuid.uuid4(), now)
    assert not states.is_current(r, AGENT, now.model_copy(update={"version": 2}))
    states.set_status(r, StreamStatus.PAUSE)
    assert not states.is_current(r, AGENT, now)


# -- failure and autorestart -------------------------------------------------------------------------
def test_failure_without_autorestart_is_final() -> None:
    r = running(restart=0)
    states.apply_report(r, AGENT, report(r, StreamStatus.FAILURE, T0 + timedelta(seconds=1)), T0)
    assert statuses(r) == (StreamStatus.FAILURE, [StreamStatus.FAILURE])
    assert r.stream.analytics[0].autorestart.status == AutorestartStatus.DISABLED
    assert (r.agent_id, r.restart_at) == (None, None)


def test_failure_restarts_after_the_delay_until_the_attempts_are_used_up() -> None:
    r = running(restart=1, attempts=2, delay=10)
    for attempt, at in ((1, T0 + timedelta(seconds=1)), (2, T0 + timedelta(seconds=100))):
        states.take(r, AGENT)
        states.mark_started(r, AGENT, at - timedelta(seconds=1))
        states.apply_report(r, AGENT, report(r, StreamStatus.FAILURE, at), at)
        restart = r.stream.analytics[0].autorestart
        assert statuses(r) == (StreamStatus.RESTART, [StreamStatus.RESTART])
        assert (restart.current_attempt, restart.status, restart.last_attempt_time) == (attempt, AutorestartStatus.IN_PROGRESS, at)
        assert (r.agent_id, r.restart_at) == (None, at.timestamp() + 10)
        states.restart_if_due(r, at + timedelta(seconds=10))
        assert statuses(r) == (StreamStatus.PENDING, [StreamStatus.PENDING])
    at = T0 + timedelta(seconds=200)
    states.take(r, AGENT)
    states.mark_started(r, AGENT, at - timedelta(seconds=1))
    states.apply_report(r, AGENT, report(r, StreamStatus.FAILURE, at), at)
    assert statuses(r) == (StreamStatus.FAILURE, [StreamStatus.FAILURE])
    assert r.stream.analytics[0].autorestart.status == AutorestartStatus.FAILED


def test_a_lost_connection_restarts_without_using_an_attempt() -> None:
    r = running(restart=1, attempts=1)
    r.stream.analytics[0].autorestart.current_attempt = 1  # no attempt left
    at = T0 + timedelta(seconds=1)
    states.apply_report(r, AGENT, report(r, StreamStatus.FAILURE, at, last_error=lost_connection()), at)
    assert statuses(r) == (StreamStatus.RESTART, [StreamStatus.RESTART])
    assert r.stream.analytics[0].autorestart.current_attempt == 1


def test_a_stream_restarts_when_any_reported_analytic_may_after_the_longest_delay() -> None:
    r = running("people_count", "human_tracking", restart=1)
    r.stream.analytics[0].autorestart = Autorestart(restart=0)
    r.stream.analytics[1].autorestart.delay = 30
    at = T0 + timedelta(seconds=1)
    states.apply_report(r, AGENT, report(r, StreamStatus.FAILURE, at), at)
    assert statuses(r) == (StreamStatus.RESTART, [StreamStatus.FAILURE, StreamStatus.RESTART])
    assert r.restart_at == at.timestamp() + 30


def test_a_restart_is_not_due_before_its_time() -> None:
    r = running(restart=1, delay=10)
    at = T0 + timedelta(seconds=1)
    states.apply_report(r, AGENT, report(r, StreamStatus.FAILURE, at), at)
    before = r.model_copy(deep=True)
    states.restart_if_due(r, at + timedelta(seconds=9))
    assert r == before
    paused = record()
    states.set_status(paused, StreamStatus.PAUSE)
    paused.restart_at = 0.0
    states.restart_if_due(paused, at)
    assert paused.stream.status == StreamStatus.PAUSE


# -- agents ------------------------------------------------------------------------------------------
def test_assignment_takes_a_pending_stream_without_an_agent_only() -> None:
    r = record()
    states.take(r, AGENT)
    assert r.agent_id == AGENT
    other = uuid.uuid4()
    states.take(r, other)
    assert r.agent_id == AGENT
    paused = record()
    states.set_status(paused, StreamStatus.PAUSE)
    states.take(paused, AGENT)
    assert paused.agent_id is None


def test_a_version_is_handed_to_its_agent_once() -> None:
    r = record()
    states.take(r, AGENT)
    states.mark_started(r, uuid.uuid4(), T0)
    assert r.started_version is None
    states.mark_started(r, AGENT, T0)
    states.mark_started(r, AGENT, T0 + timedelta(seconds=5))
    assert (r.started_version, r.started_at) == (1, T0.timestamp())
    states.forget_start(r)
    assert (r.agent_id, r.started_version, r.started_at) == (AGENT, None, None)


def test_a_lost_agent_leaves_its_streams_handler_lost_then_pending() -> None:
    r = running()
    states.handler_lost(r, uuid.uuid4())
    assert r.agent_id == AGENT  # another agent's loss
    states.handler_lost(r, AGENT)
    assert statuses(r) == (StreamStatus.HANDLER_LOST, [StreamStatus.HANDLER_LOST])
    assert r.agent_id is None
    states.pending_again(r)
    assert statuses(r) == (StreamStatus.PENDING, [StreamStatus.PENDING])


def test_an_agent_expires_only_when_silent_since_before_the_deadline() -> None:
    agent = AgentRecord(
        agent=Agent(
            agent_id=AGENT, name="a", status=AgentStatus.READY, create_time=T0, last_seen=T0, alive_period=5,
            refresh_period=1, max_stream_count=1, analytic_names=["people_count"],
        ),
        transport="kafka",
    )
    states.expire(agent, T0)
    assert agent.agent.status == AgentStatus.READY
    states.expire(agent, T0 + timedelta(seconds=1))
    assert agent.agent.status == AgentStatus.NOT_READY
    states.touch(agent, T0 + timedelta(seconds=2))
    assert (agent.agent.status, agent.agent.last_seen) == (AgentStatus.READY, T0 + timedelta(seconds=2))


def test_leaving_a_group_keeps_the_others() -> None:
    keep, leave = uuid.uuid4(), uuid.uuid4()
    r = states.created(uuid.uuid4(), uuid.uuid4(), body(), analytics("people_count"), [keep, leave], T0)
    states.leave_group(r, leave)
    assert r.stream.groups == [keep]


def scheduled(*windows: tuple[int, int], unscheduled: bool = False) -> StreamRecord:
    """A running stream whose analytic works in ``windows`` (minutes from T0, [start, end)); with
    ``unscheduled`` a second analytic without intervals."""
    r = running("people_count", *(("human_tracking",) if unscheduled else ()))
    intervals = [{"start_time": T0 + timedelta(minutes=a), "end_time": T0 + timedelta(minutes=b)} for a, b in windows]
    r.stream.analytics[0].schedules = [AnalyticSchedule(intervals=intervals)]
    return r


def test_working_intervals_are_half_open_and_no_schedule_is_always() -> None:
    analytic = scheduled((0, 10), (20, 30)).stream.analytics[0]
    at = lambda minutes: T0 + timedelta(minutes=minutes)  # noqa: E731
    assert [states.working(analytic, at(m)) for m in (-1, 0, 9.99, 10, 15, 20, 30)] == [
        False, True, True, False, False, True, False]
    assert states.working(StreamAnalytic(analytic_name="people_count"), at(-100))


def test_a_stream_pauses_outside_its_intervals_and_resumes_inside() -> None:
    r = scheduled((0, 10), (20, 30))
    states.follow_schedule(r, T0 + timedelta(minutes=5))
    assert r.stream.status == StreamStatus.IN_PROGRESS and r.agent_id == AGENT  # inside: untouched
    states.follow_schedule(r, T0 + timedelta(minutes=12))
    assert r.stream.status == StreamStatus.PAUSE and r.stream.status.luna_name == "pause"
    assert r.agent_id is None and r.schedule_paused
    assert all(a.status == StreamStatus.PAUSE for a in r.stream.analytics)
    states.follow_schedule(r, T0 + timedelta(minutes=15))
    assert r.stream.status == StreamStatus.PAUSE  # still outside
    states.follow_schedule(r, T0 + timedelta(minutes=20))
    assert r.stream.status == StreamStatus.PENDING and not r.schedule_paused


def test_a_users_pause_is_kept_and_a_stream_with_an_unscheduled_analytic_always_runs() -> None:
    r = scheduled((0, 10))
    states.apply_action(r, "pause")
    states.follow_schedule(r, T0 + timedelta(minutes=5))
    assert r.stream.status == StreamStatus.PAUSE and not r.schedule_paused  # inside, yet paused by the user
    always = scheduled((0, 10), unscheduled=True)
    states.follow_schedule(always, T0 + timedelta(minutes=50))
    assert always.stream.status == StreamStatus.IN_PROGRESS


def test_a_finished_stream_stays_done_outside_its_intervals() -> None:
    r = scheduled((0, 10))
    states.set_status(r, StreamStatus.DONE)
    states.follow_schedule(r, T0 + timedelta(minutes=50))
    assert r.stream.status == StreamStatus.DONE and not r.schedule_paused
