from __future__ import annotations

from collections import Counter

from schemas import errors
from schemas.errors import ALL, BY_CODE, NO_AGENT_FOR_ANALYTICS, ErrorCode, SeleneError


def test_codes_are_unique() -> None:
    counts = Counter(e.code for e in ALL)
    assert [code for code, n in counts.items() if n > 1] == []
    assert len(BY_CODE) == len(ALL)
    defined = [v for v in vars(errors).values() if isinstance(v, ErrorCode)]
    assert len(defined) == len(ALL)


def test_luna_video_manager_codes() -> None:
    assert BY_CODE[44014].http_status == 422
    assert BY_CODE[44015].detail == "No streams suitable for patching"


def test_body_fills_values_in_order() -> None:
    body = BY_CODE[12022].body("data.rotation", "not one of 0, 90, 180, 270")
    assert (
        body.detail
        == 'Failed to validate input json. Path: "data.rotation" message: "not one of 0, 90, 180, 270"'
    )
    assert body.link.endswith("code-12022")
    err = SeleneError(NO_AGENT_FOR_ANALYTICS)
    assert err.body.error_code == 44014 and "44014" in str(err)


def test_http_statuses_are_sane() -> None:
    for e in ALL:
        assert 200 <= e.http_status < 600
        assert e.desc and e.detail
