"""The /ui page in headless Chromium: live counts and the last hour's chart, drawn from real chdb data."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest
import uvicorn

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.rows import count_row, frame_stat_row
from infra.health import HealthMonitor
from infra.process import free_port
from infra.root.app import ApiContext, create_api
from schemas.events import CountSample
from schemas.frames import FrameStat

pytestmark = pytest.mark.asyncio(loop_scope="session")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
STREAM = uuid.uuid4()


@pytest.fixture(scope="module")
async def ui_url(warehouse: ChdbWarehouse) -> AsyncIterator[str]:
    now = datetime.now(UTC)
    await warehouse.insert("people_counts", [
        count_row(CountSample(stream_id=STREAM, account_id=uuid.uuid4(), time_offset=m,
                              timestamp=now - timedelta(minutes=30 - m), people_count=(m % 6) + 1))
        for m in range(31)
    ])
    await warehouse.insert("frame_stats", [
        frame_stat_row(FrameStat(stream_id=STREAM, version=1, frame_number=i, time_offset=i / 10,
                                 timestamp=now - timedelta(seconds=5 - i / 10), received_at=now - timedelta(seconds=5 - i / 10),
                                 width=768, height=576, size=90_000))
        for i in range(40)
    ])
    monitor = HealthMonitor({}, interval=1, timeout=1)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_api(ApiContext(warehouse=warehouse, health=monitor)), host="127.0.0.1", port=port, log_config=None
    ))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def chromium(*args: str) -> bytes:
    process = await asyncio.create_subprocess_exec(
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--virtual-time-budget=5000", "--window-size=1200,800", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 90)
    return out


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (infra/system-deps.sh installs it)")
async def test_ui_shows_live_counts_and_chart(ui_url: str, tmp_path: Path) -> None:
    dom = (await chromium(f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom", f"{ui_url}/ui")).decode()
    assert f'data-stream="{STREAM}"' in dom, dom[:2000]
    assert "people in view" in dom and "in progress" in dom
    assert "<path" in dom  # the chart was drawn from the series

    shot = tmp_path / "ui.png"  # kept by pytest under its basetemp for a look
    await chromium(f"--user-data-dir={tmp_path / 'profile-shot'}", f"--screenshot={shot}", f"{ui_url}/ui")
    image = cv2.imread(str(shot))
    assert image is not None and image.shape[:2] == (800, 1200)
    assert image.std() > 10  # not a blank page
