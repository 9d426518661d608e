"""Decoding with PyAV: H.264 and MPEG-4 clips, frames in order, rotation."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from infra.media.decode import Decoder, _DisplayOrder, iter_frames, source_options, to_image
from schemas.analytics import Rate
from schemas.rate import RateGate
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



def _sampled(clip: Path, every: int, skip: bool) -> tuple[list[tuple[int, int | None, float | None, np.ndarray]], int, int]:
    """The due frames (index, PTS, time, pixels), how many frames were decoded and how many read."""
    gate = RateGate(Rate(period=every, unit="frame"))
    sampled, decoded = [], 0
    with Decoder(str(clip)) as decoder:
        for index, frame in decoder.numbered(gate.skippable if skip else None):
            decoded += 1
            if gate.due(index, 0.0):
                sampled.append((index, frame.pts, frame.time, frame.to_ndarray(format="gray")))
        return sampled, decoded, decoder.read


@pytest.mark.parametrize("every", [2, 3, 10])
@pytest.mark.parametrize("codec", ["h264", "hevc", "mpeg4"])
def test_skipping_unsampled_non_reference_frames_keeps_the_sampled_ones(tmp_path: Path, codec: str, every: int) -> None:
    # B-frames come out of the decoder in another order than they go in: numbering must still be by display.
    options = {"hevc": {"x265-params": "bframes=4:b-pyramid=1:log-level=error"}, "mpeg4": {"bf": "2"}}.get(codec, {})
    clip = write_test_video(tmp_path / f"{codec}.mp4", frames=60, size=(320, 240), fps=25, codec=codec,
                            options=options)
    plain, decoded_all, read_all = _sampled(clip, every, skip=False)
    skipping, decoded, read = _sampled(clip, every, skip=True)
    assert decoded_all == read_all == read == 60
    assert decoded < 60  # non-reference frames were really left undecoded
    assert [s[:3] for s in skipping] == [p[:3] for p in plain]
    assert [s[0] for s in skipping] == list(range(0, 60, every))
    assert all(np.array_equal(s[3], p[3]) for s, p in zip(skipping, plain, strict=True))


def test_every_frame_wanted_skips_nothing(tmp_path: Path) -> None:
    clip = write_test_video(tmp_path / "clip.mp4", frames=30, codec="h264")
    _, decoded, read = _sampled(clip, 1, skip=True)
    assert decoded == read == 30


def test_a_skipped_frame_found_wanted_after_all_is_noticed() -> None:
    # A stream that reorders deeper than it declares: frame 1 (PTS 10) was judged frame 5 and skipped.
    order = _DisplayOrder()
    for pts in (0, 20, 10):
        order.add(pts)
    order.decided(0, skip=False)
    assert order.take(0) == 0 and not order.lost_wanted(lambda i: i % 2 == 1)
    order.decided(20, skip=False)
    order.decided(10, skip=True)
    assert order.take(20) == 2  # frame 1 never came out, and counts
    assert order.lost_wanted(lambda i: i % 2 == 0)  # ... though it was due
    assert not order.lost_wanted(lambda i: True)
