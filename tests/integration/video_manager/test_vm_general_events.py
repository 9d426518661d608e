"""General events and SQL over REST: LUNA's shapes and errors, account isolation, real chdb."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.rows import analytics_event_row
from schemas.events import AnalyticsEventMessage
from tests.integration.video_manager.conftest import Manager, basic

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def new_user(vm: Manager) -> tuple[dict[str, str], str]:
    login = f"{uuid.uuid4().hex[:8]}@selene.test"
    await vm.http.post("/6/accounts", json={"login": login, "password": "secret-1", "account_type": "user"}, headers=vm.admin)
    headers = basic(login, "secret-1")
    return headers, (await vm.http.get("/6/account", headers=headers)).json()["account_id"]


def event(account_id: str, event_type: str, minute: int, **extra: object) -> dict[str, object]:
    return {"event_id": str(uuid.uuid4()), "event_type": event_type, "account_id": account_id,
            "event_create_time": f"2026-05-04T08:{minute:02d}:00Z", **extra}


async def test_save_list_get_delete(vm: Manager) -> None:
    user, account = await new_user(vm)
    stream = str(uuid.uuid4())
    events = [event(account, "crowd", 1, stream_id=stream, event={"people_count": 3}),
              event(account, "crowd", 2, event={"people_count": 8}),
              event(account, "match", 3, location={"city": "Riga"})]
    saved = await vm.http.post("/6/general_events", json={"events": events}, headers=user)
    assert saved.status_code == 201, saved.text
    assert [e["url"] for e in saved.json()["events"]] == [f"/6/general_events/{e['event_id']}" for e in events]
    again = await vm.http.post("/6/general_events", json=events[:1], headers=user)  # a bare list, replayed
    assert again.status_code == 201

    listed = (await vm.http.get("/6/general_events", params={"page_size": 10}, headers=user)).json()["events"]
    assert [e["event_id"] for e in listed] == [e["event_id"] for e in reversed(events)]
    crowd = await vm.http.get("/6/general_events", params={"event_types": "crowd", "event.people_count__gte:integer": "5"}, headers=user)
    assert [e["event_id"] for e in crowd.json()["events"]] == [events[1]["event_id"]]
    nulls = await vm.http.get("/6/general_events", params={"stream_ids": "null", "cities": "Riga"}, headers=user)
    assert [e["event_id"] for e in nulls.json()["events"]] == [events[2]["event_id"]]

    one = await vm.http.get(f"/6/general_events/{events[0]['event_id']}", headers=user)
    assert one.status_code == 200 and one.json()["stream_id"] == stream and one.json()["event"] == {"people_count": 3}
    assert (await vm.http.head(f"/6/general_events/{events[0]['event_id']}", headers=user)).status_code == 200
    assert (await vm.http.delete(f"/6/general_events/{events[0]['event_id']}", headers=user)).status_code == 204
    gone = await vm.http.get(f"/6/general_events/{events[0]['event_id']}", headers=user)
    assert gone.status_code == 404 and gone.json()["error_code"] == 11020

    stats = await vm.http.post("/6/general_events/stats", headers=user, json={
        "targets": [{"column": "event_type", "aggregator": "group_by"}, {"column": "event_id", "aggregator": "count"}]})
    assert stats.json() == {"fields": ["event_type, aggregator 'group_by'", "event_id, aggregator 'count'"],
                            "stats": [["crowd", 1], ["match", 1]]}


async def test_accounts_do_not_see_each_other(vm: Manager) -> None:
    alice, alice_id = await new_user(vm)
    bob, bob_id = await new_user(vm)
    mine = event(alice_id, "crowd", 5)
    assert (await vm.http.post("/6/general_events", json=[mine], headers=alice)).status_code == 201
    assert (await vm.http.get("/6/general_events", headers=bob)).json()["events"] == []
    assert (await vm.http.get(f"/6/general_events/{mine['event_id']}", headers=bob)).status_code == 404
    assert (await vm.http.delete(f"/6/general_events/{mine['event_id']}", headers=bob)).status_code == 404
    forged = await vm.http.post("/6/general_events", json=[event(alice_id, "crowd", 6)], headers=bob)
    assert forged.status_code == 403 and forged.json()["error_code"] == 11059
    assert (await vm.http.get("/6/general_events", params={"account_id": alice_id}, headers=bob)).json()["error_code"] == 11063


async def test_bad_input_gets_luna_errors(vm: Manager) -> None:
    user, account = await new_user(vm)
    missing = await vm.http.post("/6/general_events", json=[{"event_type": "x", "account_id": account}], headers=user)
    assert missing.status_code == 400 and missing.json()["error_code"] == 12022
    bad_time = await vm.http.get("/6/general_events", params={"create_time__gte": "yesterday"}, headers=user)
    assert bad_time.json()["error_code"] == 12012 and "create_time__gte" in bad_time.json()["detail"]
    bad_filter = await vm.http.get("/6/general_events", params={"event.x__like:integer": "1"}, headers=user)
    assert bad_filter.json()["error_code"] == 12012
    bad_stats = await vm.http.post("/6/general_events/stats", json={"group_by": "0m"}, headers=user)
    assert bad_stats.status_code == 400 and bad_stats.json()["error_code"] == 12031
    assert (await vm.http.get("/6/general_events")).json()["error_code"] == 12010


async def test_sql_is_read_only_and_admin_only(vm: Manager) -> None:
    user, _ = await new_user(vm)
    ok = await vm.http.post("/6/sql", json={"query": "SELECT 41 + 1 AS answer"}, headers=vm.admin)
    assert ok.json() == {"rows": [{"answer": 42}], "truncated": False}
    for statement in ("DROP TABLE general_events", "SELECT 1; DROP TABLE general_events", "INSERT INTO x VALUES (1)"):
        refused = await vm.http.post("/6/sql", json={"query": statement}, headers=vm.admin)
        assert refused.status_code == 400 and refused.json()["error_code"] == 12031, statement
    assert (await vm.http.post("/6/sql", json={"query": "SELECT 1"}, headers=user)).status_code == 403
    broken = await vm.http.post("/6/sql", json={"query": "SELECT nope FROM nowhere"}, headers=vm.admin)
    assert broken.status_code == 400 and "SQL error" in broken.json()["detail"]



async def test_analytics_events_api(vm: Manager, warehouse: ChdbWarehouse) -> None:
    user, account = await new_user(vm)
    other, _ = await new_user(vm)
    stream = uuid.uuid4()
    start = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    rows, ids = [], []
    for i, (kind, body) in enumerate([
        ("crowd", {"people_count": 2, "event_status": "ended", "video_segment": {"start_time_offset": 0, "end_time_offset": 4}}),
        ("crowd", {"people_count": 6, "event_status": "started", "video_segment": {"start_time_offset": 9, "end_time_offset": 9}}),
        ("human_tracking", {"event_status": "ended", "video_segment": {"start_time_offset": 1, "end_time_offset": 3}}),
    ]):
        event_id = uuid.uuid4()
        ids.append(str(event_id))
        rows.append(analytics_event_row(AnalyticsEventMessage.model_validate({
            "event_id": event_id, "stream_id": stream, "account_id": account, "version": 1,
            "analytic_name": "people_count" if kind == "crowd" else kind, "analytic_index": 0, "event_type": kind,
            "create_time": start + timedelta(minutes=i), "event": {"event_id": event_id, "track_id": f"t{i}", **body},
        })))
    await warehouse.insert("analytics_events", rows)

    listed = (await vm.http.get("/6/analytics_events", params={"order": "asc"}, headers=user)).json()["events"]
    assert [e["event_id"] for e in listed] == ids
    assert listed[0]["event"]["people_count"] == 2 and listed[0]["create_time"] == "2026-06-01T09:00:00.000Z"
    crowded = await vm.http.get("/6/analytics_events", params={"event_types": "crowd", "people_count__gte": 5}, headers=user)
    assert [e["event_id"] for e in crowded.json()["events"]] == [ids[1]]
    assert (await vm.http.get("/6/analytics_events", params={"track_ids": "t2,t0", "order": "asc"}, headers=user)).json()["events"][1]["event_id"] == ids[2]
    assert (await vm.http.get(f"/6/analytics_events/{ids[2]}", headers=user)).json()["event_type"] == "human_tracking"
    assert (await vm.http.get(f"/6/analytics_events/{ids[2]}", headers=other)).status_code == 404
    assert (await vm.http.get("/6/analytics_events", headers=other)).json()["events"] == []
    stats = await vm.http.post("/6/analytics_events/stats", headers=user, json={
        "targets": [{"column": "event_type", "aggregator": "group_by"}, {"column": "people_count", "aggregator": "max"}]})
    assert stats.json()["stats"] == [["crowd", 6], ["human_tracking", None]]
    bad = await vm.http.get("/6/analytics_events", params={"stream_ids": "not-a-uuid"}, headers=user)
    assert bad.json()["error_code"] == 12012
