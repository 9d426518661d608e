"""Open a video source with PyAV (CUDA when asked and possible) and decode it.

Every frame must be decoded (codecs depend on their neighbours) but only sampled frames are
converted to pixels, which is where most of the per-frame cost is.

A file cut short between two packets (a half-copied MP4 with its index at the front) decodes to its
cut with no error from FFmpeg, so a clean end with fewer frames than the container's index declares is
an error too: a truncated file never passes for a short, complete one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import av
import av.container
import cv2
import numpy as np
from av.codec.hwaccel import HWAccel

log = logging.getLogger(__name__)

DecoderKind = Literal["cpu", "cuda"]
DEFAULT_FPS = 25.0
_ROTATIONS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
_cuda_unusable = False  # learnt once per process, so a GPU-less host does not retry on every open
AVERROR_INVALIDDATA = 1094995529  # FFmpeg's "Invalid data found when processing input"
# Frames a complete file may decode short of its declared count (edit lists, codec delay): this many or 1 %.
MISSING_FRAMES_TOLERATED = 2


@dataclass(frozen=True)
class DecodedFrame:
    frame_number: int
    time_offset: float
    image: np.ndarray


def source_options(reference: str, ffmpeg_kwargs: dict[str, str] | None) -> dict[str, str]:
    """FFmpeg options: RTSP over TCP unless ``ffmpeg_kwargs`` says otherwise (``rtsp_transport=udp``)."""
    options = {"rtsp_transport": "tcp"} if reference.lower().startswith(("rtsp://", "rtsps://")) else {}
    return {**options, **(ffmpeg_kwargs or {})}


def to_image(frame: av.VideoFrame, rotation: int = 0) -> np.ndarray:
    """BGR pixels, turned clockwise by ``rotation`` degrees to undo the camera's mounting."""
    image = frame.to_ndarray(format="bgr24")
    return cv2.rotate(image, _ROTATIONS[rotation]) if rotation else image


class Decoder:
    """One open source; ``timeout`` (s) bounds the open and every read, a stall raises ``av.ExitError``."""

    def __init__(
        self,
        reference: str,
        options: dict[str, str] | None = None,
        timeout: float | None = None,
        gpu: bool = False,
    ) -> None:
        self.reference = reference
        self.options = options or {}
        self.timeout = timeout
        self.gpu = gpu and not _cuda_unusable
        self._container: av.container.InputContainer | None = None

    def __enter__(self) -> Decoder:
        self._open(self.gpu)
        return self

    def __exit__(self, *_: object) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None

    @property
    def fps(self) -> float:
        stream = self._stream
        return float(stream.average_rate or stream.guessed_rate or DEFAULT_FPS)

    @property
    def decoder(self) -> DecoderKind:
        """Which decoder is at work; asked after the first frame, when FFmpeg has settled it."""
        return "cuda" if self.gpu and self._stream.codec_context.is_hwaccel else "cpu"

    @property
    def _stream(self) -> av.VideoStream:
        if self._container is None:
            raise RuntimeError("Decoder used outside its with-block")
        return self._container.streams.video[0]

    def frames(self) -> Iterator[av.VideoFrame]:
        """Every decoded frame; on CUDA, a failure before the first frame retries on the CPU. A source
        that ends well short of the frames its container declares raises ``av.InvalidDataError``."""
        produced = 0
        try:
            for frame in self._container.decode(self._stream) if self._container else ():
                produced += 1
                yield frame
        except av.ExitError:
            raise
        except av.FFmpegError as exc:
            if produced or not self.gpu:
                raise
            self._fall_back(exc, for_good=False)
            yield from self.frames()
            return
        self._check_complete(produced)

    def _check_complete(self, decoded: int) -> None:
        declared = self._stream.frames  # the index's sample count; 0 where the container has none (RTSP, TS)
        if declared and declared - decoded > max(MISSING_FRAMES_TOLERATED, declared // 100):
            raise av.InvalidDataError(
                AVERROR_INVALIDDATA, f"the file ends after {decoded} of its {declared} frames (truncated or corrupt)",
                self.reference)

    def _open(self, gpu: bool) -> None:
        hwaccel = HWAccel(device_type="cuda", allow_software_fallback=True) if gpu else None
        try:
            container = av.open(self.reference, options=self.options, timeout=self.timeout, hwaccel=hwaccel)
        except av.FFmpegError as exc:
            if not gpu or isinstance(exc, av.ExitError):
                raise
            self._fall_back(exc, for_good=True)
            return
        try:
            stream = container.streams.video[0]
        except IndexError:
            container.close()
            raise av.InvalidDataError(AVERROR_INVALIDDATA, "no video stream", self.reference) from None
        stream.thread_type = "AUTO"
        self._container = container

    def _fall_back(self, exc: Exception, for_good: bool) -> None:
        """Reopen on the CPU; if that works where CUDA could not even open, stop trying CUDA."""
        global _cuda_unusable
        log.warning("CUDA decoding failed, decoding on the CPU", extra={"error": str(exc)})
        self.__exit__()
        self.gpu = False
        self._open(False)
        _cuda_unusable = _cuda_unusable or for_good


def iter_frames(reference: str, every: int = 1, options: dict[str, str] | None = None,
                take: Callable[[int, float], bool] | None = None) -> Iterator[DecodedFrame]:
    """Every ``every``-th frame of a file that ``take(frame_number, time_offset)`` accepts (all when None),
    offsets from its PTS; raises ``av.FFmpegError`` if unreadable. Only taken frames become pixels."""
    with Decoder(reference, options) as decoder:
        fps = decoder.fps
        for number, frame in enumerate(decoder.frames()):
            if number % every:
                continue
            offset = max(frame.time if frame.time is not None else number / fps, 0.0)
            if take is None or take(number, offset):
                yield DecodedFrame(number, offset, to_image(frame))
