"""REST bodies of LUNA's Image Store resources: ``/images``, ``/objects`` and ``/samples``."""

from __future__ import annotations

from uuid import UUID

from schemas.base import Body


class ImageCreated(Body):
    """LUNA ``createImages``: 201 ``{image_id, url, external_url}``."""

    image_id: UUID
    url: str
    external_url: str


class ObjectCreated(Body):
    """LUNA ``createObjects``: 201 ``{object_id, url, external_url}``."""

    object_id: UUID
    url: str
    external_url: str


class SampleCreated(Body):
    """LUNA ``saveSample``: 201 ``{sample_id, url}``."""

    sample_id: UUID
    url: str
