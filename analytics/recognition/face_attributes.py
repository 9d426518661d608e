"""Faces and attributes together: faces made of a temporary attribute (or of descriptors given outright),
a face's attribute replaced, read and its samples listed.

A face's descriptor lives with the face in the face store; the rest of its attribute (basic attributes,
sample ids, when it was set) is a record in the attribute store. A Selene face always holds a descriptor
(it is a row of a descriptor collection), so an attribute without one cannot make or change a face.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import numpy as np

from analytics.recognition.attributes import AttributeStore, attribute_from, pick_descriptor
from analytics.recognition.face_store import FaceFilters, StoredFace
from analytics.recognition.service import Recognition, face_not_found
from schemas.attributes import (
    AttributeSet,
    AttributeSamples,
    FaceAttributeOut,
    FaceAttributeRecord,
    FaceFromAttribute,
    TemporaryAttribute,
)
from schemas.descriptor_formats import decode_raw, encode_raw
from schemas.errors import ATTRIBUTE_NOT_FOUND, BAD_INPUT_DATA, DESCRIPTOR_OF_VERSION_NOT_FOUND, SeleneError
from schemas.faces import FaceCreate, RawDescriptor


class FaceAttributes:
    def __init__(self, recognition: Recognition, store: AttributeStore) -> None:
        self.recognition = recognition
        self.store = store

    async def _resolve(self, account_id: UUID, given: AttributeSet) -> tuple[TemporaryAttribute, RawDescriptor, bool]:
        """The attribute meant, its descriptor, and whether it is a stored temporary attribute (claimed
        now: an attribute makes one face only, 22001)."""
        if given.attribute_id is not None:
            attribute = await self.store.get(given.attribute_id, {account_id})
            if attribute is None:
                raise SeleneError(ATTRIBUTE_NOT_FOUND, given.attribute_id)
        else:
            attribute = attribute_from(account_id, given.data())
        descriptor = pick_descriptor(attribute)
        if descriptor is None:
            raise SeleneError(BAD_INPUT_DATA, "a Selene face needs a descriptor; the attribute holds none")
        if given.attribute_id is not None:
            await self.store.claim(attribute)
        return attribute, descriptor, given.attribute_id is not None

    async def create_face(self, account_id: UUID, body: FaceFromAttribute) -> StoredFace:
        attribute, descriptor, claimed = await self._resolve(account_id, body.attribute)
        try:
            face = await self.recognition.create_face(account_id, FaceCreate(
                descriptor=descriptor, external_id=body.external_id, user_data=body.user_data, avatar=body.avatar,
                event_id=body.event_id, lists=body.lists,
            ))
        except BaseException:
            if claimed:
                await self.store.release(attribute.attribute_id)
            raise
        await self.store.put_face(_record(face.face_id, attribute))
        return face

    async def put(self, account_id: UUID, face_id: UUID, given: AttributeSet) -> None:
        """LUNA's ``put face attribute``: the face's descriptor, basic attributes and samples replaced."""
        await self.recognition.face(face_id, account_id)
        attribute, descriptor, claimed = await self._resolve(account_id, given)
        vector = decode_raw(descriptor.descriptor, descriptor.descriptor_version)
        try:
            replaced = await self.recognition.store.replace_vector(
                account_id, face_id, descriptor.descriptor_version, vector.tolist())
            if replaced is None:  # deleted meanwhile
                raise face_not_found(face_id)
        except BaseException:
            if claimed:
                await self.store.release(attribute.attribute_id)
            raise
        await self.store.put_face(_record(face_id, attribute))

    async def get(self, accounts: set[UUID], face_id: UUID, chosen: frozenset[str],
                  descriptor_version: int | None = None) -> FaceAttributeOut:
        (account,) = accounts
        face = await self.recognition.face(face_id, account, with_descriptor=True)
        if descriptor_version is not None and descriptor_version != face.descriptor_version:
            raise SeleneError(DESCRIPTOR_OF_VERSION_NOT_FOUND, descriptor_version, face_id)
        record = await self.store.face(face_id, accounts) or _bare(face)
        assert face.vector is not None
        out: dict[str, object] = {
            "create_time": record.create_time, "basic_attributes": record.basic_attributes,
            "face_descriptor_samples": record.face_descriptor_samples,
            "basic_attributes_samples": record.basic_attributes_samples,
        }
        if "face_descriptor" in chosen:
            out |= {"face_descriptor": encode_raw(np.asarray(face.vector, np.float32)),
                    "descriptor_version": face.descriptor_version}
        return FaceAttributeOut.model_validate({k: v for k, v in out.items() if k in chosen or k == "descriptor_version"})

    async def samples(self, account_id: UUID, face_id: UUID) -> AttributeSamples:
        face = await self.recognition.face(face_id, account_id)
        record = await self.store.face(face_id, {account_id}) or _bare(face)
        return AttributeSamples(face_descriptor_samples=record.face_descriptor_samples,
                                basic_attributes_samples=record.basic_attributes_samples)

    async def count(self, account_id: UUID) -> int:
        """Faces with attributes: every Selene face holds its descriptor."""
        return await self.recognition.store.count(account_id, FaceFilters())


def _record(face_id: UUID, attribute: TemporaryAttribute) -> FaceAttributeRecord:
    return FaceAttributeRecord(
        face_id=face_id, account_id=attribute.account_id, create_time=datetime.now(UTC),
        basic_attributes=attribute.basic_attributes, face_descriptor_samples=attribute.face_descriptor_samples,
        basic_attributes_samples=attribute.basic_attributes_samples,
    )


def _bare(face: StoredFace) -> FaceAttributeRecord:
    """The attribute of a face made of a photo or a descriptor: its descriptor only, set when it was made."""
    return FaceAttributeRecord(face_id=face.face_id, account_id=face.account_id, create_time=face.create_time)
