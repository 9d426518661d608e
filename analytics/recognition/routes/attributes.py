"""LUNA's ``attributes`` tag: temporary attributes extracted from samples (``/6/extractor``) or made of
external data (``POST /6/attributes``), read while their TTL runs, and deleted."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from analytics.recognition.attributes import (
    AttributeExtractor,
    AttributeStore,
    attribute_from,
    attribute_url,
    pick_descriptor,
    targets,
)
from analytics.recognition.routes.deps import attribute_store, extractor
from infra.auth.access import access
from infra.auth.authenticator import Principal
from infra.http.deps import parse_list
from schemas.attributes import (
    ATTRIBUTE_TARGETS,
    MAX_EXTRACTOR_SAMPLES,
    AttributeCreate,
    AttributeCreated,
    AttributeOut,
    AttributeSamples,
    AttributesPage,
    ExtractedAttribute,
    TemporaryAttribute,
)
from schemas.errors import ATTRIBUTE_NOT_FOUND, BAD_QUERY, SeleneError
from schemas.faces import MAX_FACE_IDS

router = APIRouter(tags=["attributes"])
Caller = Depends(access("attribute"))
Store = Depends(attribute_store)
Flag = Annotated[int, Query(ge=0, le=1)]
Ttl = Annotated[int | None, Query(ge=1, le=86400, description="Seconds the attribute lives; default 300.")]
Targets = Query(None, alias="targets", description="Comma-separated: " + ", ".join(ATTRIBUTE_TARGETS) + " (default: all).")
Version = Query(None, ge=1, description="The descriptor version to return; default: the default face version.")


def _out(attribute: TemporaryAttribute, chosen: frozenset[str], version: int | None) -> AttributeOut:
    descriptor = pick_descriptor(attribute, version) if "face_descriptor" in chosen or version else None
    values = {
        "create_time": attribute.create_time, "attribute_id": attribute.attribute_id,
        "account_id": attribute.account_id, "face_descriptor_samples": attribute.face_descriptor_samples,
        "basic_attributes_samples": attribute.basic_attributes_samples,
        "basic_attributes": attribute.basic_attributes,
    }
    out = {k: v for k, v in values.items() if k in chosen}
    if descriptor is not None and "face_descriptor" in chosen:
        out |= {"face_descriptor": descriptor.descriptor, "descriptor_version": descriptor.descriptor_version}
    return AttributeOut.model_validate(out)


async def _attribute(store: AttributeStore, attribute_id: UUID, accounts: set[UUID]) -> TemporaryAttribute:
    found = await store.get(attribute_id, accounts)
    if found is None:  # unknown, expired, or another account's
        raise SeleneError(ATTRIBUTE_NOT_FOUND, attribute_id)
    return found


@router.post("/extractor", status_code=201, response_model=list[ExtractedAttribute],
             summary="Extract temporary attributes (descriptors) from face samples")
async def extract_attributes(
    request: Request,
    sample_ids: list[UUID] = Body(min_length=1, max_length=MAX_EXTRACTOR_SAMPLES),
    score_threshold: Annotated[float, Query(ge=0, le=1)] = 0, extract_descriptor: Flag = 1,
    extract_basic_attributes: Flag = 0, aggregate_attributes: Flag = 0, ttl: Ttl = None,
    caller: Principal = Depends(access("attribute", "creation")), service: AttributeExtractor = Depends(extractor),
) -> list[ExtractedAttribute]:
    """The body: 1..8 face sample ids of the account (from ``/6/detector``). One attribute per sample,
    or one of them all with ``aggregate_attributes=1`` (the mean descriptor). Basic attributes need a
    model Selene does not have (200005). dlib descriptors carry no quality score, so ``score`` is null
    and a ``score_threshold`` above 0 is refused (it could filter nothing honestly)."""
    if score_threshold > 0:
        raise SeleneError(BAD_QUERY, "score_threshold: descriptors of version 1001 carry no quality score")
    made = await service.extract(caller.account_id, sample_ids, descriptor=bool(extract_descriptor),
                                 basic=bool(extract_basic_attributes), aggregate=bool(aggregate_attributes), ttl=ttl)
    base = str(request.base_url).rstrip("/")
    return [ExtractedAttribute(attribute_id=a.attribute_id, samples=a.face_descriptor_samples, score=a.score,
                               url=attribute_url(a.attribute_id), external_url=base + attribute_url(a.attribute_id))
            for a in made]


@router.post("/attributes", status_code=201, response_model=AttributeCreated,
             summary="Create a temporary attribute from descriptors and/or basic attributes")
async def create_attribute(body: AttributeCreate, ttl: Ttl = None, caller: Principal = Caller,
                           store: AttributeStore = Store) -> AttributeCreated:
    """``face_descriptors``: raw Base64 with its ``version``, Selene's SDK-like Base64, or a bare raw Base64
    string (default version). Basic attributes are kept as given."""
    lifetime = store.ttl(ttl)
    attribute = attribute_from(caller.account_id, body)
    await store.put(attribute, lifetime)
    return AttributeCreated(attribute_id=attribute.attribute_id, url=attribute_url(attribute.attribute_id))


@router.get("/attributes", response_model=AttributesPage, response_model_exclude_unset=True,
            summary="Temporary attributes by ids; expired or unknown ones are left out")
async def get_attributes(
    attribute_ids: list[str] = Query(description="Comma-separated or repeated attribute ids (at most 1000)."),
    account_id: UUID | None = None, targets_: str | None = Targets,
    descriptor_version: int | None = Version, caller: Principal = Caller, store: AttributeStore = Store,
) -> AttributesPage:
    ids = parse_list("attribute_ids", attribute_ids, UUID) or []
    if len(ids) > MAX_FACE_IDS:
        raise SeleneError(BAD_QUERY, f"attribute_ids: at most {MAX_FACE_IDS}")
    chosen = targets(targets_, ATTRIBUTE_TARGETS)
    found = await store.get_many(ids, caller.readable(account_id))
    return AttributesPage(attributes=[_out(a, chosen, descriptor_version) for a in found
                                      if descriptor_version is None
                                      or any(d.descriptor_version == descriptor_version for d in a.descriptors)])


@router.get("/attributes/{attribute_id}", response_model=AttributeOut, response_model_exclude_unset=True,
            summary="One temporary attribute")
async def get_attribute(attribute_id: UUID, targets_: str | None = Targets, descriptor_version: int | None = Version,
                        caller: Principal = Caller, store: AttributeStore = Store) -> AttributeOut:
    attribute = await _attribute(store, attribute_id, caller.readable())
    return _out(attribute, targets(targets_, ATTRIBUTE_TARGETS), descriptor_version)


@router.head("/attributes/{attribute_id}", status_code=200, summary="Does the temporary attribute exist")
async def head_attribute(attribute_id: UUID, caller: Principal = Caller, store: AttributeStore = Store) -> Response:
    await _attribute(store, attribute_id, caller.readable())
    return Response(status_code=200)


@router.delete("/attributes/{attribute_id}", status_code=204, summary="Delete a temporary attribute")
async def delete_attribute(attribute_id: UUID, caller: Principal = Caller, store: AttributeStore = Store) -> Response:
    if not await store.delete(attribute_id, caller.writable):
        raise SeleneError(ATTRIBUTE_NOT_FOUND, attribute_id)
    return Response(status_code=204)


@router.get("/attributes/{attribute_id}/samples", response_model=AttributeSamples,
            summary="The samples a temporary attribute was made of")
async def get_attribute_samples(attribute_id: UUID, caller: Principal = Caller,
                                store: AttributeStore = Store) -> AttributeSamples:
    attribute = await _attribute(store, attribute_id, caller.readable())
    return AttributeSamples(face_descriptor_samples=attribute.face_descriptor_samples,
                            basic_attributes_samples=attribute.basic_attributes_samples)
