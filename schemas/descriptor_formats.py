"""Descriptors on the wire, in LUNA's two Base64 forms.

- **raw**: the vector's bytes (little-endian float32), Base64. The version travels beside it.
- **SDK-like**: LUNA's SDK format is the descriptor plus 8 bytes of metadata (a 4-byte signature and a
  4-byte version). Selene's SDK-like form keeps that layout with its own signature, header first:
  ``b"SLN1"`` + uint32 LE version + the raw bytes. Being self-describing, it needs no version beside it.

Decoding raises ``SeleneError`` with LUNA's codes: 18001 (not Base64), 12034 (wrong length for the
version), 12036 (unknown version), 12038 (not an SDK-like descriptor), 31005 (versions that differ).
"""

from __future__ import annotations

import base64
import binascii
import struct
from collections.abc import Iterable

import numpy as np

from schemas.descriptors import DESCRIPTOR_VERSIONS
from schemas.errors import (
    BASE64_INVALID,
    DESCRIPTOR_LENGTH,
    DESCRIPTOR_VERSION_UNKNOWN,
    MATCH_VERSIONS_DIFFER,
    SDK_DESCRIPTOR_INVALID,
    SeleneError,
)
from schemas.faces import RawDescriptor

SDK_SIGNATURE = b"SLN1"
_HEADER = struct.Struct("<4sI")


def b64_bytes(data: str) -> bytes:
    """The bytes of Base64 text; 18001 when it is not Base64."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise SeleneError(BASE64_INVALID) from None


def checked_vector(raw: bytes, version: int) -> np.ndarray:
    known = DESCRIPTOR_VERSIONS.get(version)
    if known is None:
        raise SeleneError(DESCRIPTOR_VERSION_UNKNOWN, version)
    if len(raw) != known.dimensions * 4:
        raise SeleneError(DESCRIPTOR_LENGTH, f"{len(raw)} bytes, version {version} needs {known.dimensions * 4}")
    vector = np.frombuffer(raw, dtype="<f4").astype(np.float32)
    if not np.isfinite(vector).all():
        raise SeleneError(DESCRIPTOR_LENGTH, "(the descriptor holds NaN or infinite values)")
    return vector


def decode_raw(data: str, version: int) -> np.ndarray:
    return checked_vector(b64_bytes(data), version)


def decode_sdk(data: str) -> tuple[int, np.ndarray]:
    raw = b64_bytes(data)
    if len(raw) < _HEADER.size:
        raise SeleneError(SDK_DESCRIPTOR_INVALID)
    signature, version = _HEADER.unpack_from(raw)
    if signature != SDK_SIGNATURE:
        raise SeleneError(SDK_DESCRIPTOR_INVALID)
    return version, checked_vector(raw[_HEADER.size :], version)


def decode_descriptor(data: RawDescriptor | str) -> tuple[int, np.ndarray]:
    """Version and vector of a descriptor given raw (with its version) or SDK-like (self-describing)."""
    if isinstance(data, RawDescriptor):
        return data.descriptor_version, decode_raw(data.descriptor, data.descriptor_version)
    return decode_sdk(data)


def common_version(versions: Iterable[int]) -> int:
    """The one version of descriptors to be compared; 31005 when they differ."""
    distinct = sorted(set(versions))
    if len(distinct) != 1:
        raise SeleneError(MATCH_VERSIONS_DIFFER, distinct)
    return distinct[0]


def encode_raw(vector: np.ndarray | list[float]) -> str:
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def encode_sdk(vector: np.ndarray | list[float], version: int) -> str:
    raw = _HEADER.pack(SDK_SIGNATURE, version) + np.asarray(vector, dtype="<f4").tobytes()
    return base64.b64encode(raw).decode("ascii")
