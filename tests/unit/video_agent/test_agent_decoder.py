"""Decoding with PyAV: H.264 and MPEG-4 clips, frames in order, rotation."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from infra.media.decode import Decoder, iter_frames, source_options, to_image
from tests.support import write_test_video, write_truncated_mp4
from tests.support_agent import DATA


@pytest.mark.parametrize("codec", ["h264", "mpeg4"])
def test_frames_and_offsets_come_in_order(tmp_path: Path, codec: str) -> None:
    clip = write_test_video(tmp_path / f"{codec}.mp4", frames=20, fps=10, codec=codec)
    frames = list(iter_frames(str(clip)))
    assert [f.frame_number for f in frames] == list(range(20))
    assert [round(f.time_offset, 3) for f in frames] == [round(i / 10, 3) for i in range(20)]
    assert frames[0].image.shape == (120, 160, 3)


def test_committed_vtest_clip_decodes() -> None:
    with Decoder(str(DATA / "vtest_h264.mp4")) as decoder:
        assert decoder.fps == 10
        assert sum(1 for _ in decoder.frames()) == 30
        assert decoder.decoder == "cpu"


@pytest.mark.parametrize(
    ("rotation", "shape"), [(0, (120, 160)), (90, (160, 120)), (180, (120, 160)), (270, (160, 120))]
)
def test_rotation_turns_the_image_clockwise(tmp_path: Path, rotation: int, shape: tuple[int, int]) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", frames=1)
    with Decoder(str(clip)) as decoder:
        frame = next(iter(decoder.frames()))
        upright, turned = to_image(frame), to_image(frame, rotation)
    assert turned.shape[:2] == shape
    expected = {0: upright, 90: np.rot90(upright, -1), 180: np.rot90(upright, 2), 270: np.rot90(upright, 1)}[rotation]
    assert np.array_equal(turned, expected)


def test_rtsp_defaults_to_tcp_and_ffmpeg_kwargs_override() -> None:
    assert source_options("rtsp://cam/1", None) == {"rtsp_transport": "tcp"}
    assert source_options("rtsp://cam/1", {"rtsp_transport": "udp"}) == {"rtsp_transport": "udp"}
    assert source_options("/v.mp4", {"probesize": "32"}) == {"probesize": "32"}


@pytest.mark.parametrize("at_packet", [True, False])
def test_a_file_cut_in_half_raises_instead_of_ending_early(tmp_path: Path, at_packet: bool) -> None:
    # Cut between packets, FFmpeg itself decodes the first half with no error: the declared count tells.
    clip, kept = write_truncated_mp4(DATA / "vtest_h264.mp4", tmp_path / "half.mp4", at_packet=at_packet)
    decoded = 0
    with Decoder(str(clip)) as decoder, pytest.raises(av.InvalidDataError) as raised:
        for _ in decoder.frames():
            decoded += 1
    assert 0 < decoded <= kept < 30
    if at_packet:
        assert decoded == kept
        assert raised.value.strerror == f"the file ends after {kept} of its 30 frames (truncated or corrupt)"

