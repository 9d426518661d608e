"""A face's image for exporter and reporter ZIPs: the sample its ``avatar`` names in Selene's samples
bucket (``/6/samples/faces/<sample_id>``); faces with another avatar have no image to pack."""

from __future__ import annotations

import re
from uuid import UUID

from analytics.images.samples import SampleStore
from analytics.images.storage import ObjectStorage

_SAMPLE = re.compile(r"/6/samples/faces/([0-9a-fA-F-]{36})$")


def sample_of(avatar: str) -> UUID | None:
    found = _SAMPLE.search(avatar or "")
    if found is None:
        return None
    try:
        return UUID(found.group(1))
    except ValueError:
        return None


async def sample_image(storage: ObjectStorage, account_id: UUID, sample_id: UUID) -> bytes | None:
    return await SampleStore(storage).get(account_id, "faces", sample_id)
