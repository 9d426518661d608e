"""LUNA's agent protocol over REST, for external agents: register, pull streams to start, report."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response

from agents.video_manager.protocol import AgentProtocol
from agents.video_manager.routes import deps
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
Agents = Depends(deps.agents)


@router.post("/agents", status_code=201, response_model=AgentRegistered, summary="Register an agent")
async def create_agent(body: AgentRegistration, _: Principal = Caller, protocol: AgentProtocol = Agents) -> AgentRegistered:
    return await protocol.register(body, "rest")


@router.get("/agents", response_model=AgentsPage, summary="Registered agents, each once")
async def get_agents(_: Principal = Caller, protocol: AgentProtocol = Agents) -> AgentsPage:
    return AgentsPage(agents=await protocol.all())


@router.delete("/agents/{agent_id}", status_code=204, summary="Unregister an agent; its streams are reassigned")
async def delete_agent(agent_id: UUID, _: Principal = Caller, protocol: AgentProtocol = Agents) -> Response:
    await protocol.remove(agent_id)
    return Response(status_code=204)


@router.post("/agents/{agent_id}/streams", response_model=StreamsPage, summary="Streams the agent must start")
async def agent_streams(agent_id: UUID, _: Principal = Caller, protocol: AgentProtocol = Agents) -> StreamsPage:
    return StreamsPage(streams=await protocol.pull_streams(agent_id))


@router.post(
    "/agents/{agent_id}/streams/feedback", response_model=FeedbackResponse, summary="Report streams; get actions"
)
async def agent_feedback(
    agent_id: UUID, body: AgentFeedback, _: Principal = Caller, protocol: AgentProtocol = Agents
) -> FeedbackResponse:
    return FeedbackResponse(streams=await protocol.feedback(agent_id, body.streams))
