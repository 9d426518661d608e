"""Detection's claim-check fetch: a Redis that is not there costs the frame (dead letter), never the agent."""

from __future__ import annotations

import pytest

from infra.claimcheck import ClaimCheck
from infra.process import free_port
from schemas.errors import SeleneError
from streams.detection import fetch_claimed


async def test_an_unreachable_redis_is_a_reason_not_a_crash() -> None:
    claims = ClaimCheck(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with pytest.raises(SeleneError) as caught:
            await fetch_claimed(claims, "selene:frame:x")
    finally:
        await claims.close()
    assert caught.value.error.code == 45004 and "claim-check store is unavailable" in caught.value.body.detail
