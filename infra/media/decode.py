"""Open a video source with PyAV (CUDA when asked and possible) and decode it.

Every reference frame must be decoded (codecs depend on their neighbours), but a non-reference frame
that nobody samples need not be (``Decoder.numbered``), and only sampled frames are converted to pixels,
which is where most of the per-frame cost is. JPEG wants YUV 4:2:0, as decoders give it, so published
frames go straight from the decoder's planes (``to_planes``) to the encoder, never through BGR.

A file cut short between two packets (a half-copied MP4 with its index at the front) decodes to its
cut with no error from FFmpeg, so a clean end with fewer frames than the container's index declares is
an error too: a truncated file never passes for a short, complete one.
"""

from __future__ import annotations

import bisect
import logging
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal

import av
import av.container
import cv2
import numpy as np
from av.codec.hwaccel import HWAccel
from av.video.reformatter import ColorRange

log = logging.getLogger(__name__)

DecoderKind = Literal["cpu", "cuda"]
DEFAULT_FPS = 25.0
_ROTATIONS = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
_cuda_unusable = False  # learnt once per process, so a GPU-less host does not retry on every open
AVERROR_INVALIDDATA = 1094995529  # FFmpeg's "Invalid data found when processing input"
# Frames a complete file may decode short of its declared count (edit lists, codec delay): this many or 1 %.
MISSING_FRAMES_TOLERATED = 2
_YUV420 = ("yuv420p", "yuvj420p")
# Limited (TV) range to JPEG's full range, as swscale does on the way to BGR: Y 16-235, chroma 16-240.
_FULL_Y = np.clip((np.arange(256) - 16) * 255 / 219, 0, 255).round().astype(np.uint8)
_FULL_C = np.clip((np.arange(256) - 128) * 255 / 224 + 128, 0, 255).round().astype(np.uint8)


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


def to_planes(frame: av.VideoFrame, rotation: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full-range Y, U and V planes (4:2:0) of ``frame``, turned clockwise by ``rotation`` degrees.

    A yuv420p/yuvj420p frame's planes are used where they lie (views, no copy); any other format (NV12
    from CUDA, 4:2:2, RGB) is converted to full-range yuv420p first.
    """
    full = frame.format.name == "yuvj420p" or frame.color_range == ColorRange.JPEG
    if frame.format.name not in _YUV420:
        source_range = ColorRange.JPEG if full else ColorRange.UNSPECIFIED  # unspecified: the format's own
        frame = frame.reformat(format="yuv420p", src_color_range=source_range, dst_color_range=ColorRange.JPEG)
        full = True
    planes = []
    for i, plane in enumerate(frame.planes):
        # Rows are padded to ``line_size``; the view skips the padding.
        rows = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        if not full:
            rows = cv2.LUT(rows, _FULL_Y if i == 0 else _FULL_C)
        planes.append(cv2.rotate(rows, _ROTATIONS[rotation]) if rotation else rows)
    y, u, v = planes
    return y, u, v


class Decoder:
    """One open source; ``timeout`` (s) bounds the open and every read, a stall raises ``av.ExitError``."""

    def __init__(
        self,
        reference: str,
        options: dict[str, str] | None = None,
        timeout: float | None = None,
        gpu: bool = False,
        threads: int = 0,
    ) -> None:
        self.reference = reference
        self.options = options or {}
        self.timeout = timeout
        self.gpu = gpu and not _cuda_unusable
        self.threads = threads  # FFmpeg's decoder threads; 0: as many as it sees fit
        self.read = 0  # frames read from the source by a whole ``numbered`` run, skipped ones included
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
        """Every decoded frame; see ``numbered``."""
        for _, frame in self.numbered():
            yield frame

    def numbered(self, skippable: Callable[[int], bool] | None = None) -> Iterator[tuple[int, av.VideoFrame]]:
        """Every decoded frame with its index in the source, in display order.

        A non-reference frame whose index ``skippable`` accepts is not decoded at all (FFmpeg's
        ``skip_frame``); the indices of the frames after it still count it. On CUDA, a failure before
        the first frame retries on the CPU. A source that ends well short of the frames its container
        declares raises ``av.InvalidDataError``.
        """
        order = _DisplayOrder()
        try:
            if self._container is not None and skippable is None:
                for frame in self._container.decode(self._stream):
                    yield order.take(None), frame
            elif self._container is not None:
                yield from self._skipping(skippable, order)
        except av.ExitError:
            raise
        except av.FFmpegError as exc:
            if order.count or not self.gpu:
                raise
            self._fall_back(exc, for_good=False)
            yield from self.numbered(skippable)
            return
        self.read = order.count
        self._check_complete(order.count)

    def _skipping(self, skippable: Callable[[int], bool], order: _DisplayOrder) -> Iterator[tuple[int, av.VideoFrame]]:
        assert self._container is not None
        stream = self._stream
        context = stream.codec_context
        ahead: deque[av.Packet] = deque()
        trusted = True  # until a skipped frame turns out to have been wanted
        for packet in self._container.demux(stream):  # ends with the empty packet that flushes the decoder
            if packet.pts is not None:
                order.add(packet.pts)
            ahead.append(packet)
            # A packet's display index is known once every packet shown before it is demuxed, which
            # is at most the decoder's reorder depth (B-frames) later.
            while ahead and (len(ahead) > context.reorder_depth or packet.pts is None):
                sent = ahead.popleft()
                skip = trusted and sent.pts is not None and skippable(order.index_of(sent.pts))
                mode = "NONREF" if skip else "DEFAULT"
                if context.skip_frame != mode:
                    context.skip_frame = mode
                order.decided(sent.pts, skip)
                for frame in sent.decode():
                    index = order.take(frame.pts)
                    if trusted and order.lost_wanted(skippable):
                        trusted = False
                        log.warning("frames skipped out of order, decoding every frame from here",
                                    extra={"reference": self.reference, "frame": index})
                    yield index, frame
        order.finish()

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
        stream.codec_context.thread_count = self.threads
        self._container = container

    def _fall_back(self, exc: Exception, for_good: bool) -> None:
        """Reopen on the CPU; if that works where CUDA could not even open, stop trying CUDA."""
        global _cuda_unusable
        log.warning("CUDA decoding failed, decoding on the CPU", extra={"error": str(exc)})
        self.__exit__()
        self.gpu = False
        self._open(False)
        _cuda_unusable = _cuda_unusable or for_good


class _DisplayOrder:
    """Indices of decoded frames in display order, counting the frames the decoder skipped: a frame's
    index is the number of packets shown before it (by PTS), decoded or not."""

    def __init__(self) -> None:
        self.count = 0  # frames numbered or passed over so far
        self._pending: list[int] = []  # PTS of demuxed packets not numbered yet, sorted
        self._skipped: set[int] = set()  # PTS of packets sent with non-reference frames skipped
        self._passed: list[int] = []  # indices the last frame passed over

    def add(self, pts: int) -> None:
        bisect.insort(self._pending, pts)

    def index_of(self, pts: int) -> int:
        return self.count + bisect.bisect_left(self._pending, pts)

    def decided(self, pts: int | None, skip: bool) -> None:
        if skip and pts is not None:
            self._skipped.add(pts)

    def take(self, pts: int | None) -> int:
        """The index of a decoded frame; a frame without PTS is the earliest one outstanding."""
        passed = bisect.bisect_left(self._pending, pts) if pts is not None else 0
        mine = passed < len(self._pending) and (pts is None or self._pending[passed] == pts)
        gone = self._pending[:passed + mine]
        self._passed = [self.count + i for i, p in enumerate(gone[:passed]) if p in self._skipped]
        self._skipped.difference_update(gone)
        del self._pending[:passed + mine]
        index = self.count + passed
        self.count = index + 1
        return index

    def lost_wanted(self, skippable: Callable[[int], bool]) -> bool:
        """Whether the last frame passed over a skipped frame that was wanted after all: its display
        index was misjudged (a stream that reorders deeper than it declares)."""
        return any(not skippable(i) for i in self._passed)

    def finish(self) -> None:
        self.count += len(self._pending)
        self._pending.clear()


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
