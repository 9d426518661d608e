"""Temporary attributes from external data, checked as LUNA checks them; descriptor choice; targets; TTL."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from analytics.recognition.attributes import AttributeStore, attribute_from, pick_descriptor, targets
from infra.settings import AttributeSettings
from schemas.attributes import ATTRIBUTE_TARGETS, AttributeCreate, AttributeSet, BasicAttributes, DescriptorData
from schemas.descriptor_formats import encode_raw, encode_sdk
from schemas.errors import SeleneError

VECTOR = np.linspace(-0.2, 0.2, 128).astype(np.float32)
ACCOUNT = uuid.uuid4()


def code(body: AttributeCreate) -> int:
    with pytest.raises(SeleneError) as refused:
        attribute_from(ACCOUNT, body)
    return refused.value.body.error_code


def test_descriptors_in_every_form_are_kept_raw() -> None:
    for given in (encode_raw(VECTOR), DescriptorData(descriptor=encode_raw(VECTOR), version=1001),
                  DescriptorData(descriptor=encode_sdk(VECTOR, 1001))):
        made = attribute_from(ACCOUNT, AttributeCreate(face_descriptors=[given]))
        [descriptor] = made.descriptors
        assert descriptor.descriptor_version == 1001 and descriptor.descriptor == encode_raw(VECTOR)
        assert made.account_id == ACCOUNT and pick_descriptor(made) == descriptor


def test_luna_checks_of_external_attributes() -> None:
    sample = uuid.uuid4()
    assert code(AttributeCreate()) == 22022
    assert code(AttributeCreate(basic_attributes=BasicAttributes(age=3, gender=0, ethnicity=1),
                                face_descriptor_samples=[sample])) == 22023
    twice = [encode_raw(VECTOR), DescriptorData(descriptor=encode_raw(VECTOR), version=1001)]
    assert code(AttributeCreate(face_descriptors=twice)) == 22024
    assert code(AttributeCreate(face_descriptors=[DescriptorData(descriptor=encode_raw(VECTOR[:10]), version=1001)])) == 12034
    assert code(AttributeCreate(face_descriptors=[DescriptorData(descriptor=encode_raw(VECTOR), version=7)])) == 12036
    body = np.ones(1280, np.float32) / np.sqrt(1280)
    assert code(AttributeCreate(face_descriptors=[DescriptorData(descriptor=encode_raw(body), version=2001)])) == 12036
    with pytest.raises(ValueError):
        AttributeCreate(face_descriptor_samples=[sample, sample])


def test_descriptor_version_and_targets() -> None:
    made = attribute_from(ACCOUNT, AttributeCreate(face_descriptors=[encode_raw(VECTOR)]))
    with pytest.raises(SeleneError) as missing:
        pick_descriptor(made, 1002)
    assert missing.value.body.error_code == 22018
    basic_only = attribute_from(ACCOUNT, AttributeCreate(basic_attributes=BasicAttributes(age=3, gender=1, ethnicity=2)))
    assert pick_descriptor(basic_only) is None
    assert targets(None, ATTRIBUTE_TARGETS) == set(ATTRIBUTE_TARGETS)
    assert targets(" account_id,basic_attributes", ATTRIBUTE_TARGETS) == {"account_id", "basic_attributes"}
    for bad in ("nose", ",", "account_id,nose"):
        with pytest.raises(SeleneError):
            targets(bad, ATTRIBUTE_TARGETS)


def test_ttl_default_and_limit() -> None:
    store = AttributeStore(None, "test", AttributeSettings(default_ttl=60, max_ttl=3600))  # type: ignore[arg-type]
    assert store.ttl(None) == 60 and store.ttl(3600) == 3600
    for bad in (0, 3601):
        with pytest.raises(SeleneError):
            store.ttl(bad)


def test_an_attribute_set_is_by_id_or_by_data() -> None:
    assert AttributeSet(attribute_id=uuid.uuid4()).attribute_id is not None
    assert AttributeSet(face_descriptors=[encode_raw(VECTOR)]).data().face_descriptors is not None
    for wrong in ({}, {"attribute_id": str(uuid.uuid4()), "face_descriptors": [encode_raw(VECTOR)]},
                  {"attribute_id": str(uuid.uuid4()), "face_descriptor_samples": [str(uuid.uuid4())]}):
        with pytest.raises(ValueError):
            AttributeSet.model_validate(wrong)
