"""LUNA's ``matcher`` tag: 1:N search of faces and lists, and raw descriptor-to-descriptor matching.

Similarity is in [0, 1]: see ``schemas.descriptors.similarity`` for the mapping from distance."""

from __future__ import annotations

from uuid import UUID

import numpy as np
from fastapi import APIRouter, Depends

from analytics.recognition.routes.deps import recognition
from analytics.recognition.service import Recognition
from analytics.recognition.similarity import pairwise
from infra.auth.access import access
from infra.auth.authenticator import Principal
from schemas.descriptor_formats import common_version, decode_descriptor
from schemas.faces import (
    FaceMatchRequest,
    RawCandidateMatch,
    RawMatchRequest,
    RawMatchResponse,
    RawReferenceMatches,
    ReferenceMatches,
)

router = APIRouter(tags=["matcher"])
Matcher = Depends(access("face", "view"))
Faces = Depends(recognition)


@router.post("/matcher/faces", response_model=list[ReferenceMatches], summary="Match faces, descriptors or photos against faces and lists")
async def match_faces(body: FaceMatchRequest, account_id: UUID | None = None, caller: Principal = Matcher,
                      faces: Recognition = Faces) -> list[ReferenceMatches]:
    """References: ``face`` or ``event`` (by id), ``raw_descriptor``, ``sdk_descriptor`` or ``image`` (Base64
    photo, its best face). Candidates: faces chosen by ``filters`` (``list_id``, ``face_ids``), or events
    (``"origin": "events"`` with LUNA's event filters), the best ``limit`` (≤ 100) with similarity ≥
    ``threshold``. Descriptors of different versions are never compared (31005)."""
    (account,) = caller.readable(account_id)
    return await faces.match(account, list(body.references), body.candidates)


@router.post("/matcher/raw", response_model=RawMatchResponse, summary="Match descriptors against descriptors")
async def match_raw(body: RawMatchRequest, caller: Principal = Matcher) -> RawMatchResponse:
    """Every reference against every candidate, best first; nothing is stored or looked up."""
    references = [decode_descriptor(e.data) for e in body.references]
    candidates = [decode_descriptor(e.data) for e in body.candidates]
    version = common_version(v for v, _ in references + candidates)
    scores = pairwise(np.stack([v for _, v in references]), np.stack([v for _, v in candidates]), version)
    matches = []
    for i, reference in enumerate(body.references):
        scored = [(body.candidates[j].id, float(scores[i, j])) for j in range(len(candidates))]
        scored.sort(key=lambda pair: -pair[1])
        matches.append(RawReferenceMatches(
            reference_id=reference.id,
            matches=[RawCandidateMatch(candidate_id=cid, similarity=round(s, 6)) for cid, s in scored],
        ))
    return RawMatchResponse(matches=matches)
