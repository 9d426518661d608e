"""Raw and SDK-like Base64 descriptors: round trips and LUNA's error codes for bad ones."""

from __future__ import annotations

import base64
import struct

import numpy as np
import pytest

from schemas.descriptor_formats import decode_raw, decode_sdk, encode_raw, encode_sdk
from schemas.descriptors import similarity
from schemas.errors import SeleneError


def test_raw_and_sdk_round_trip() -> None:
    vector = np.random.default_rng(1).normal(size=128).astype(np.float32)
    assert np.array_equal(decode_raw(encode_raw(vector), 1001), vector)
    version, back = decode_sdk(encode_sdk(vector, 1001))
    assert version == 1001 and np.array_equal(back, vector)
    raw = base64.b64decode(encode_sdk(vector, 1001))
    assert raw[:4] == b"SLN1" and struct.unpack("<I", raw[4:8]) == (1001,) and len(raw) == 8 + 512


@pytest.mark.parametrize(("call", "code"), [
    (lambda: decode_raw("not base64!", 1001), 18001),
    (lambda: decode_raw(encode_raw(np.ones(127)), 1001), 12034),
    (lambda: decode_raw(encode_raw(np.ones(128)), 5), 12036),
    (lambda: decode_raw(encode_raw(np.full(128, np.nan)), 1001), 12034),
    (lambda: decode_sdk(base64.b64encode(b"SLN").decode()), 12038),
    (lambda: decode_sdk(base64.b64encode(b"XXXX" + bytes(516)).decode()), 12038),
    (lambda: decode_sdk(encode_sdk(np.ones(128), 2001)), 12034),
])
def test_bad_descriptors_get_lunas_codes(call: object, code: int) -> None:
    with pytest.raises(SeleneError) as caught:
        call()  # type: ignore[operator]
    assert caught.value.body.error_code == code


def test_similarity_mapping() -> None:
    assert similarity(0.0, 1001) == 1.0 and similarity(0.6, 1001) == pytest.approx(0.5)
    assert similarity(1.5, 1001) == 0.0
    assert similarity(0.0, 2001) == 1.0 and similarity(1.0, 2001) == 0.5 and similarity(2.0, 2001) == 0.0
