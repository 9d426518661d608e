"""The video manager's services, as its routes get them (``async``: FastAPI runs a plain ``def``
dependency in its thread pool, a thread hop per request)."""

from __future__ import annotations

from fastapi import Request

from agents.video_manager.analytic_service import AnalyticService
from agents.video_manager.group_service import GroupService
from agents.video_manager.manager import VideoManager
from agents.video_manager.protocol import AgentProtocol
from agents.video_manager.stream_service import StreamService


def _manager(request: Request) -> VideoManager:
    return request.app.state.context.manager


async def streams(request: Request) -> StreamService:
    return _manager(request).streams


async def groups(request: Request) -> GroupService:
    return _manager(request).groups


async def analytics(request: Request) -> AnalyticService:
    return _manager(request).analytics


async def agents(request: Request) -> AgentProtocol:
    return _manager(request).agents
