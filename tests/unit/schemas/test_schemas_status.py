from __future__ import annotations

import pytest

from schemas.status import StreamStatus


def test_luna_numbers() -> None:
    assert StreamStatus.PENDING == 0 and StreamStatus.IN_PROGRESS == 1


@pytest.mark.parametrize(
    ("word", "status"), [("stop", StreamStatus.PAUSE), (" In_Progress ", StreamStatus.IN_PROGRESS)]
)
def test_from_luna(word: str, status: StreamStatus) -> None:
    assert StreamStatus.from_luna(word) is status


def test_words_round_trip() -> None:
    for status in StreamStatus:
        assert StreamStatus.from_luna(status.luna_name) is status
    assert {s for s in StreamStatus if s.is_terminal} == {StreamStatus.DONE, StreamStatus.FAILURE}
