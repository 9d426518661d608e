"""Published frames go from the decoder's YUV planes to JPEG with no BGR image on the way; they must
still decode to the picture the frame holds, whatever the pixel format, rotation or size limit."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from infra.media.decode import to_image, to_planes
from infra.media.jpeg import encode_jpeg_planes
from tests.support import write_test_video
from tests.support_agent import DATA

SOURCE = cv2.imread(str(DATA / "vtest_0000.jpg"))  # real footage, 768x576


def _decoded(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_a_decoded_frame_encodes_to_its_bgr_picture(tmp_path) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", frames=3, size=(320, 240), codec="h264")
    with av.open(str(clip)) as container:
        frame = next(container.decode(video=0))
    assert frame.format.name == "yuv420p"
    data, width, height = encode_jpeg_planes(to_planes(frame), 90)
    assert (width, height) == (320, 240)
    assert _diff(_decoded(data), to_image(frame)) < 2.5


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuvj420p", "nv12", "yuv422p", "yuv444p", "rgb24"])
def test_every_pixel_format_encodes_to_the_same_picture(pix_fmt: str) -> None:
    # yuv420p is limited range (expanded on the way), yuvj420p full; the others are converted first.
    frame = av.VideoFrame.from_ndarray(SOURCE, format="bgr24").reformat(format=pix_fmt)
    data, width, height = encode_jpeg_planes(to_planes(frame), 90)
    image = _decoded(data)
    assert (width, height) == (768, 576) and image.shape == SOURCE.shape
    assert _diff(image, SOURCE) < 3.0
    assert _diff(image, to_image(frame)) < 3.0


def test_limited_range_is_expanded_to_jpegs_full_range() -> None:
    # A dark and a bright patch: limited range read as full would lift black to 16 and dim white to 235.
    patches = np.zeros((64, 128, 3), np.uint8)
    patches[:, 64:] = 255
    frame = av.VideoFrame.from_ndarray(patches, format="bgr24").reformat(format="yuv420p")
    assert bytes(frame.planes[0])[0] == 16  # swscale wrote limited range
    image = _decoded(encode_jpeg_planes(to_planes(frame), 95)[0])
    assert image[:, :48].max() <= 3 and image[:, 80:].min() >= 252


def test_a_frame_flagged_full_range_is_not_expanded_again() -> None:
    frame = av.VideoFrame.from_ndarray(SOURCE, format="bgr24").reformat(format="yuv420p", dst_color_range="JPEG")
    frame.color_range = av.video.reformatter.ColorRange.JPEG
    assert _diff(_decoded(encode_jpeg_planes(to_planes(frame), 90)[0]), SOURCE) < 3.0


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_planes_turn_with_the_rotation(rotation: int) -> None:
    frame = av.VideoFrame.from_ndarray(SOURCE, format="bgr24").reformat(format="yuv420p")
    data, width, height = encode_jpeg_planes(to_planes(frame, rotation), 90)
    expected = to_image(frame, rotation)
    assert (height, width) == expected.shape[:2]
    assert _diff(_decoded(data), expected) < 3.0


def test_odd_sizes_keep_their_last_row_and_column() -> None:
    image = cv2.resize(SOURCE, (161, 121))
    frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
    data, width, height = encode_jpeg_planes(to_planes(frame), 90)
    assert (width, height) == (161, 121)
    decoded, expected = _decoded(data), to_image(frame)  # small and detailed: chroma costs more here
    assert _diff(decoded, expected) < 4.0
    assert _diff(decoded[-1], expected[-1]) < 4.0 and _diff(decoded[:, -1], expected[:, -1]) < 4.0


def test_a_frame_too_large_for_the_limit_is_shrunk_and_says_its_new_size() -> None:
    noise = np.random.default_rng(3).integers(0, 256, (576, 768, 3), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(noise, format="bgr24").reformat(format="yuv420p")
    full = encode_jpeg_planes(to_planes(frame), 90)[0]
    data, width, height = encode_jpeg_planes(to_planes(frame), 90, max_bytes=len(full) // 6)
    assert len(data) <= len(full) // 6
    assert (width, height) == (384, 288) and _decoded(data).shape == (288, 384, 3)
