"""The recognition service and its parts (detector, attributes), as its routes get them."""

from __future__ import annotations

from fastapi import Request

from analytics.recognition.attributes import AttributeExtractor, AttributeStore
from analytics.recognition.detection import Detector
from analytics.recognition.face_attributes import FaceAttributes
from analytics.recognition.service import Recognition
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError


def recognition(request: Request) -> Recognition:
    found = request.app.state.context.recognition
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "face store", "this API runs without Milvus")
    return found


def attribute_store(request: Request) -> AttributeStore:
    found = request.app.state.context.attributes
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "attribute store", "this API runs without Redis attributes")
    return found


def detector(request: Request) -> Detector:
    context = request.app.state.context
    if context.sdk is None or context.samples is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "detector", "this API runs without the estimators or the samples store")
    return Detector(context.sdk, context.samples)


def extractor(request: Request) -> AttributeExtractor:
    context = request.app.state.context
    if context.sdk is None or context.samples is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "extractor", "this API runs without the estimators or the samples store")
    return AttributeExtractor(context.sdk, context.samples, attribute_store(request))


def face_attributes(request: Request) -> FaceAttributes:
    return FaceAttributes(recognition(request), attribute_store(request))
