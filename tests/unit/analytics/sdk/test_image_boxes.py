"""Face boxes given with images: in JSON beside the image, in multipart as a JSON part named like its image."""

from __future__ import annotations

import base64
import json

import pytest

from analytics.sdk.images import parse_images
from schemas.errors import SeleneError

BOX = {"x": 1, "y": 2, "width": 30, "height": 40}


def multipart(*parts: tuple[str, str, bytes]) -> tuple[str, bytes]:
    body = b""
    for name, content_type, payload in parts:
        body += (f'--b\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.x"\r\n'
                 f"Content-Type: {content_type}\r\n\r\n").encode() + payload + b"\r\n"
    return "multipart/form-data; boundary=b", body + b"--b--\r\n"


def test_json_images_carry_their_boxes() -> None:
    body = {"images": [{"image": base64.b64encode(b"a").decode(), "face_bounding_boxes": [BOX]},
                       {"image": base64.b64encode(b"b").decode()}]}
    first, second = parse_images("application/json", json.dumps(body).encode())
    assert first.face_boxes is not None and first.face_boxes[0].width == 30 and second.face_boxes is None


def test_multipart_boxes_go_to_the_image_of_their_name() -> None:
    boxes = json.dumps({"face_bounding_boxes": [BOX]}).encode()
    content_type, body = multipart(("a", "image/jpeg", b"A"), ("b", "image/jpeg", b"B"), ("b", "application/json", boxes))
    a, b = parse_images(content_type, body)
    assert (a.data, a.face_boxes) == (b"A", None)
    assert b.data == b"B" and b.face_boxes is not None and b.face_boxes[0].height == 40


@pytest.mark.parametrize(("parts", "error"), [
    ((("a", "image/jpeg", b"A"), ("z", "application/json", b'{"face_bounding_boxes": [{"x": 1, "y": 1, "width": 2, "height": 2}]}')), 12039),
    ((("a", "image/jpeg", b"A"), ("a", "image/jpeg", b"A2"), ("a", "application/json", b'{"face_bounding_boxes": [{"x": 1, "y": 1, "width": 2, "height": 2}]}')), 12040),
    ((("a", "image/jpeg", b"A"), ("a", "application/json", b'{"face_bounding_boxes": []}')), 12027),
    ((("a", "application/json", b'{"face_bounding_boxes": [{"x": 1, "y": 1, "width": 2, "height": 2}]}'),), 12039),
])
def test_boxes_that_name_no_single_image_are_refused(parts: tuple[tuple[str, str, bytes], ...], error: int) -> None:
    content_type, body = multipart(*parts)
    with pytest.raises(SeleneError) as refused:
        parse_images(content_type, body)
    assert refused.value.body.error_code == error
