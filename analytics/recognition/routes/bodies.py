"""LUNA's ``POST /matcher/bodies``: photos, body descriptors or events' bodies against the events' bodies."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from analytics.recognition.bodies import match_bodies
from analytics.recognition.routes.deps import recognition
from analytics.recognition.service import Recognition
from analytics.sdk.routes.sdk import remote_sdk
from analytics.sdk.service import RemoteSdk
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas.bodies import BodyMatchRequest, BodyReferenceMatches
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError

router = APIRouter(tags=["matcher"])
Matcher = Depends(access("event", "view"))


@router.post("/matcher/bodies", response_model=list[BodyReferenceMatches], summary="Match bodies against the events' bodies")
async def match(body: BodyMatchRequest, account_id: UUID | None = None, caller: Principal = Matcher,
                faces: Recognition = Depends(recognition), sdk: RemoteSdk = Depends(remote_sdk)) -> list[BodyReferenceMatches]:
    """References: ``event`` (by id: that event's body), ``raw_descriptor`` / ``sdk_descriptor`` (body
    version 2001) or ``image`` (Base64 photo: its largest person). Candidates: events' bodies chosen by
    ``filters`` (``event_ids``, ``stream_ids``, ``track_ids``, ``create_time__gte/__lt``), the best
    ``limit`` (≤ 100) at ``threshold`` or above. Human tracking stores a body per track with the
    ``body_descriptor`` target. MobileNetV2 body descriptors are not trained for re-identification: a
    match is a lead, not an identity."""
    (account,) = caller.readable(account_id)
    if faces.bodies is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "body store", "this API runs without one")
    return await match_bodies(faces.bodies, sdk, account, list(body.references), body.candidates)
