"""The fault suite's bounded form (`make faults` runs it in full): a real `selene up`, a stream from the
sample clip, its worker killed with SIGKILL mid-stream; not a frame lost or stored twice, and the stream
recovers within LUNA's periods without a restart from frame 0."""

from __future__ import annotations

import time

from bench.faults import RECOVERY_TARGET_S, run_suite


async def test_a_killed_worker_loses_and_duplicates_no_frame() -> None:
    started = time.monotonic()
    [row] = await run_suite(kills=1, only=("worker",), play_s=1.0)
    assert row.verdict == "ok", row.cells()
    assert row.published > 0 and row.published == row.processed == row.stored
    assert row.lost == 0 and row.duplicated == 0 and row.runs == 1
    assert len(row.recovery_s) == 1 and row.recovery_s[0] <= RECOVERY_TARGET_S
    assert not row.attempt_used
    assert time.monotonic() - started < 60
