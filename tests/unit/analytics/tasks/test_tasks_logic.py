"""The tasks' pure logic: id-range splitting, the similarity cut-off, ROC figures, cron triggers."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from uuid import UUID, uuid4

import numpy as np
import pytest

from analytics.tasks.descriptors import Descriptors
from analytics.tasks.event_source import EventSource
from analytics.tasks.kinds import cross_match
from analytics.tasks.kinds.roc import roc
from analytics.tasks.schedules import check_cron, next_run
from analytics.tasks.similarity import cutoff
from analytics.tasks.splitting import narrowed, ranges
from schemas.descriptors import similarity
from schemas.errors import SeleneError
from schemas.tasks import EventObjectFilters, RocContent, ScheduleTrigger


def test_ranges_cover_the_uuid_space_without_overlap() -> None:
    parts = ranges(10_000, 1000)
    assert len(parts) == 10
    assert parts[0][0] is None and parts[-1][1] is None
    for (_, lt), (gte, _) in zip(parts, parts[1:]):
        assert lt == gte
    ids = [uuid4() for _ in range(5000)]
    owners = [sum(1 for gte, lt in parts if (gte is None or i >= gte) and (lt is None or i < lt)) for i in ids]
    assert owners == [1] * len(ids)
    assert ranges(0, 1000) == [(None, None)] and ranges(1000, 1000) == [(None, None)]


def test_ranges_within_bounds_slice_only_them() -> None:
    low, high = UUID(int=1000), UUID(int=2000)
    parts = ranges(50, 10, (low, high))
    assert len(parts) == 5 and parts[0][0] == low and parts[-1][1] == high
    assert [gte.int for gte, _ in parts] == [1000, 1200, 1400, 1600, 1800]  # type: ignore[union-attr]
    for (_, lt), (gte, _) in zip(parts, parts[1:]):
        assert lt == gte
    assert ranges(5, 10, (low, None)) == [(low, None)]


def test_narrowed_keeps_the_tighter_bounds() -> None:
    a, b, c = UUID(int=10), UUID(int=20), UUID(int=30)
    assert narrowed((a, c), (b, None)) == (b, c)
    assert narrowed((None, None), (a, b)) == (a, b)


@pytest.mark.parametrize("version", [1001])
def test_cutoff_is_the_distance_at_the_threshold(version: int) -> None:
    # dlib (1001): similarity = 1 - d / 1.2, so the threshold 0.75 is the distance 0.3.
    assert cutoff(0.75, version) == pytest.approx(0.3, abs=1e-9)
    assert similarity(cutoff(0.5, version), version) >= 0.5
    assert cutoff(0.0, version) == float("inf")


def test_roc_of_a_perfect_and_an_imperfect_markup() -> None:
    labels = ["a", "a", "b", "b"]
    s = np.array([[1, .9, .2, .3], [.9, 1, .1, .35], [.2, .1, 1, .8], [.3, .35, .8, 1]])
    result = roc(s, labels, RocContent(markup=[{"face_id": uuid4(), "label": lab} for lab in labels], limit=2))
    assert result["auc"] == 1.0 and result["positive_pairs"] == 2 and result["negative_pairs"] == 4
    assert [t["hit_probability"] for t in result["top_n"]] == [1.0, 1.0]
    # One positive pair (b, b: 0.25) below two negatives (0.3, 0.35): AUC = 6/8 by counting.
    s[2, 3] = s[3, 2] = 0.25
    worse = roc(s, labels, RocContent(markup=[{"face_id": uuid4(), "label": lab} for lab in labels], limit=3))
    assert worse["auc"] == pytest.approx(6 / 8)
    # Face 3's two most similar faces are now faces 1 and 0 (0.35, 0.3, label a): its first hit is at top 3.
    assert [t["hit_probability"] for t in worse["top_n"]] == [0.75, 0.75, 1.0]
    with pytest.raises(SeleneError):
        roc(s, ["a", "b", "c", "d"], RocContent(markup=[{"face_id": uuid4(), "label": i} for i in range(4)]))


def test_cron_triggers() -> None:
    after = datetime(2024, 5, 1, 4, 0, 30, tzinfo=UTC)
    assert next_run(ScheduleTrigger(cron="5 4 * * *"), after) == datetime(2024, 5, 1, 4, 5, tzinfo=UTC)
    assert next_run(ScheduleTrigger(cron="* * * * * */10"), after) == datetime(2024, 5, 1, 4, 0, 40, tzinfo=UTC)
    for bad in ("not a cron", "61 * * * *", "* * *"):
        with pytest.raises(SeleneError) as caught:
            check_cron(ScheduleTrigger.model_construct(cron=bad, cron_timezone="utc"))
        assert caught.value.body.error_code == 12022


def test_the_cli_line_has_a_progress_bar() -> None:
    from infra.root.tasks_cli import line, progress_bar

    assert progress_bar(5, 10) == "[##########..........] 5/10"
    assert progress_bar(0, 0) == "[....................] 0/0"
    task = {"task_id": 18, "task_type": 4, "task_status": 1, "count_task_parts_done": 20, "count_task_parts_all": 40,
            "description": "nightly gc"}
    assert line(task) == "    18  gc           in progress     [##########..........] 20/40  nightly gc"


def test_event_filters_narrow_to_the_subtasks_id_range() -> None:
    low, high = UUID(int=1 << 120), UUID(int=1 << 125)
    given = EventObjectFilters(account_id=uuid4(), sources=["cam"], event_id__gte=low)
    filters = EventSource.filters(given, (None, high))
    assert (filters.event_id__gte, filters.event_id__lt, filters.sources) == (low, high, ["cam"])


async def test_a_failed_candidates_read_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cross-match keeps a task's candidates for its next subtask, but not a read that failed (a store down):
    the retried subtask reads again."""
    reads: list[int] = []
    found = [Descriptors([uuid4()], 1001, np.zeros((1, 128), np.float32))]

    class Flaky:
        async def descriptors(self, account_id: UUID) -> list[Descriptors]:
            reads.append(1)
            if len(reads) == 1:
                raise ConnectionError("milvus away")
            return found

    monkeypatch.setattr(cross_match, "selection", lambda recognition, filters: Flaky())
    kind = cross_match.CrossMatch()
    res = SimpleNamespace(recognition=None, store=SimpleNamespace(store=SimpleNamespace(prefix="p")))
    content = SimpleNamespace(candidates=SimpleNamespace(filters=None))
    task, other = SimpleNamespace(task_id=1, account_id=uuid4()), SimpleNamespace(task_id=2, account_id=uuid4())
    with pytest.raises(ConnectionError):
        await kind.candidates(res, task, content)  # type: ignore[arg-type]
    assert await kind.candidates(res, task, content) == {1001: found[0]}  # type: ignore[arg-type]
    assert await kind.candidates(res, task, content) == {1001: found[0]}  # type: ignore[arg-type]
    assert len(reads) == 2  # kept once it succeeded
    await kind.candidates(res, other, content)  # type: ignore[arg-type]
    assert len(reads) == 3  # another task reads its own
