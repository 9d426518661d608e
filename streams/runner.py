"""Run Faust apps inside an asyncio program we own (the worker, the API's sink, tests)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import faust


@asynccontextmanager
async def running(*apps: faust.App) -> AsyncIterator[None]:
    """Start the apps (joining their consumer groups) and stop them on exit, in reverse order."""
    started: list[faust.App] = []
    try:
        for app in apps:
            await app.start()
            started.append(app)
        yield
    finally:
        for app in reversed(started):
            await app.stop()
