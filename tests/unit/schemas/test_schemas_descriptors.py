from __future__ import annotations

import base64
from uuid import uuid4

import pytest
from pydantic import ValidationError

from schemas.descriptors import (
    BODY_MOBILENETV2_1280,
    DESCRIPTOR_VERSIONS,
    FACE_DLIB_RESNET_128,
    Descriptor,
    SdkDescriptor,
)

ACCOUNT = "4f8e1c5a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"


def descriptor(**change: object) -> dict[str, object]:
    return {
        "kind": "face",
        "descriptor_version": FACE_DLIB_RESNET_128,
        "vector": [0.25] * 128,
        "account_id": ACCOUNT,
        "create_time": "2025-05-01T00:00:00Z",
        "track_id": "t1",
        "event_id": str(uuid4()),
        **change,
    }


def test_version_numbers_outside_luna_ranges() -> None:
    assert FACE_DLIB_RESNET_128 == 1001 and BODY_MOBILENETV2_1280 == 2001
    for version, info in DESCRIPTOR_VERSIONS.items():
        assert version >= 1000 and info.version == version
        assert (info.kind == "face") == (1000 <= version < 2000)
    assert DESCRIPTOR_VERSIONS[BODY_MOBILENETV2_1280].trained_for_reid is False


def test_descriptor_round_trip() -> None:
    d = Descriptor.model_validate(descriptor())
    assert Descriptor.model_validate_json(d.model_dump_json()) == d
    assert d.trained_for_reid is False


@pytest.mark.parametrize(
    "change",
    [
        {"vector": [0.1] * 127},
        {"kind": "body"},
        {"descriptor_version": BODY_MOBILENETV2_1280},
        {"vector": []},
        {"track_id": "t" * 40},
    ],
)
def test_descriptor_inconsistent_rejected(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Descriptor.model_validate(descriptor(**change))


def test_unknown_version_not_checked() -> None:
    assert len(Descriptor.model_validate(descriptor(descriptor_version=65, vector=[1.0] * 7)).vector) == 7


def test_sdk_descriptor_vector_round_trip() -> None:
    d = Descriptor.model_validate(descriptor())
    sdk = d.to_sdk()
    assert sdk.descriptor_type == "face" and sdk.descriptor_version == FACE_DLIB_RESNET_128
    assert len(base64.b64decode(sdk.descriptor)) == 128 * 4
    assert sdk.vector() == d.vector


def test_sdk_descriptor_rejects_bad_input() -> None:
    with pytest.raises(ValidationError) as exc:
        SdkDescriptor(descriptor="%%%", descriptor_version=65, descriptor_type="face")
    assert exc.value.errors()[0]["loc"] == ("descriptor",)
    short = base64.b64encode(b"\x00" * 12).decode()
    with pytest.raises(ValidationError, match="128 dimensions"):
        SdkDescriptor(descriptor=short, descriptor_version=FACE_DLIB_RESNET_128, descriptor_type="face")
    with pytest.raises(ValidationError):
        SdkDescriptor.model_validate(
            {"descriptor": short, "descriptor_version": 65, "descriptor_type": "face", "extra": 1}
        )
    luna = SdkDescriptor(descriptor=short, descriptor_version=65, descriptor_type="face")
    with pytest.raises(ValueError, match="not a Selene version"):
        luna.vector()
