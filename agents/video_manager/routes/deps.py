"""The video manager, as its routes get it."""

from __future__ import annotations

from fastapi import Request

from agents.video_manager.manager import VideoManager


def manager(request: Request) -> VideoManager:
    return request.app.state.context.manager
