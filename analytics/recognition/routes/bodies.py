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

router = APIRouter(tags=["matcher"])
Matcher = Depends(access("event", "view"))


@router.post("/matcher/bodies", response_model=list[BodyReferenceMatches], summary="Match bodies against the events' bodies")
async def match(body: BodyMatchRequest, account_id: UUID | None = None, caller: Principal = Matcher,
                faces: Recognition = Depends(recognition),
                sdk: RemoteSdk = Depends(remote_sdk)) -> list[BodyReferenceMatches]:
    """References: ``event`` (by id: its body descriptor), ``raw_descriptor`` / ``sdk_descriptor`` (body
    version 2001) or ``image`` (Base64 photo: its largest person). Candidates: events with a body
    descriptor, chosen by LUNA's event filters (``"origin": "events"``, ``stream_ids``, ``track_ids``,
    ``sources``, times ...), the best ``limit`` (≤ 100) at ``threshold`` or above, in LUNA's event shape.
    Human tracking's tracks with the ``body_descriptor`` target are such events. MobileNetV2 body
    descriptors are not trained for re-identification: a match is a lead, not an identity."""
    (account,) = caller.readable(account_id)
    return await match_bodies(faces.archive(), sdk, account, list(body.references), body.candidates)
