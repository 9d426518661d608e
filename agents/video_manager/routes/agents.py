"""LUNA's agent protocol over REST, for external agents: register, pull streams to start, report."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from agents.video_manager.manager import VideoManager
from agents.video_manager.routes.deps import manager
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas.agents import (
    AgentFeedback,
    AgentRegistered,
    AgentRegistration,
    AgentsPage,
    FeedbackResponse,
)
from schemas.streams import StreamsPage

router = APIRouter(tags=["agents"])
Caller = Depends(access("video_agent"))
Manager = Depends(manager)


@router.post("/agents", status_code=201, response_model=AgentRegistered, summary="Register an agent")
async def create_agent(body: AgentRegistration, _: Principal = Caller, vm: VideoManager = Manager) -> AgentRegistered:
    return await vm.register_agent(body, "rest")


@router.get("/agents", response_model=AgentsPage, summary="Registered agents, each once")
async def get_agents(_: Principal = Caller, vm: VideoManager = Manager) -> AgentsPage:
    return AgentsPage(agents=await vm.agents())


@router.delete("/agents/{agent_id}", status_code=204, summary="Unregister an agent; its streams are reassigned")
async def delete_agent(agent_id: UUID, _: Principal = Caller, vm: VideoManager = Manager) -> Response:
    await vm.remove_agent(agent_id)
    return Response(status_code=204)


@router.post("/agents/{agent_id}/streams", response_model=StreamsPage, summary="Streams the agent must start")
async def agent_streams(agent_id: UUID, _: Principal = Caller, vm: VideoManager = Manager) -> StreamsPage:
    return StreamsPage(streams=await vm.pull_streams(agent_id))


@router.post(
    "/agents/{agent_id}/streams/feedback", response_model=FeedbackResponse, summary="Report streams; get actions"
)
async def agent_feedback(
    agent_id: UUID, body: AgentFeedback, _: Principal = Caller, vm: VideoManager = Manager
) -> FeedbackResponse:
    return FeedbackResponse(streams=await vm.feedback(agent_id, body.streams))
