"""One stream: a decoder thread (open, decode, sample) and a publishing task (rotate, encode, publish).

Each stream has its own thread, so a camera that hangs in FFmpeg stalls only itself; every blocking
read is bounded by the stream's ``timeout``. Files end ``done`` at EOF and ``failure`` when they cannot
be read or end short of the frames their container declares (a truncated file); live streams reconnect
with exponential backoff and jitter and stay ``in_progress`` (LUNA 5.89: connection loss must not use up
restart attempts).

``done`` means the agent's part is over: every frame was decoded and its publication acknowledged by the
broker. The workers may still be processing those frames (as long as their lag on the frames topic,
which ``/6/health`` reports); results keep arriving until the end-of-video marker has gone through.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import av

from agents.video_agent.clock import FrameClock
from agents.video_agent.download import DownloadError, download, is_remote
from agents.video_agent.framequeue import FrameQueue
from agents.video_agent.publisher import FramePublisher
from agents.video_agent.reporting import (
    StreamState,
    connection_error,
    decoding_error,
    redact,
)
from agents.video_agent.sampling import stream_rate
from infra.backoff import Backoff
from infra.claimcheck import ClaimCheck, claim_key
from infra import metrics
from infra.logs import for_stream
from infra.media.decode import Decoder, source_options, to_planes
from infra.media.jpeg import encode_jpeg_planes
from infra.settings import AgentSettings
from schemas.errors import ANALYTICS_PROCESSING_FAILED, VIDEO_DOWNLOAD_FAILED, ErrorBody
from schemas.frames import FrameHeader
from schemas.rate import RateGate
from schemas.status import StreamStatus
from schemas.streams import StreamConfig

log = logging.getLogger(__name__)
_CLAIM_MAX_BYTES = 64 * 1024 * 1024  # claim-checked frames skip Kafka's limit; keep them full size


@dataclass(frozen=True)
class Sampled:
    frame_number: int
    time_offset: float
    timestamp: datetime
    frame: av.VideoFrame


_END = object()  # the decoder is finished; the publisher flushes and settles the status


class StreamRunner:
    def __init__(
        self,
        config: StreamConfig,
        publisher: FramePublisher,
        settings: AgentSettings,
        notify: Callable[[], None] = lambda: None,
        claims: ClaimCheck | None = None,
    ) -> None:
        self.config = config
        self.publisher = publisher
        self.settings = settings
        self.claims = claims
        self.state = StreamState(config.stream_id, config.version)
        self.live = config.data.type == "stream"
        self.log = for_stream(log, config.stream_id, version=config.version)
        self._notify = notify
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._task: asyncio.Task[None] | None = None
        self._queue: FrameQueue[Sampled | object] | None = None
        self._clock = FrameClock(config.data.timestamp_source, self.live, config.data.pts.start_time)
        self._sampler: RateGate | None = None
        # This run's frames start again at 0; its start time (ms) tells them from an earlier run's.
        self.run = time.time_ns() // 1_000_000
        self._frame_number = 0
        self._last_offset = 0.0
        self._timeout = (config.data.timeout or settings.stream_timeout_ms) / 1000
        self._progress = time.monotonic()  # when the source last gave a frame (or was opened)
        self._last_header: FrameHeader | None = None
        self._label = str(config.stream_id)  # of this stream's metrics

    @property
    def stream_id(self) -> object:
        return self.config.stream_id

    @property
    def version(self) -> int:
        return self.config.version

    @property
    def active(self) -> bool:
        """Still decoding or publishing (a finished stream no longer takes a slot)."""
        return self._task is not None and not self._task.done()

    @property
    def thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._queue = FrameQueue(self.settings.queue_frames, asyncio.get_running_loop())
        self._thread = threading.Thread(target=self._decode_thread, name=f"stream-{self.stream_id}", daemon=True)
        self._task = asyncio.create_task(self._publish_loop(), name=f"publish-{self.stream_id}")
        self.log.info("stream started", extra={"reference": redact(self.config.data.reference), "live": self.live})
        self._thread.start()

    async def stop(self) -> None:
        """Stop at once; the decoder thread leaves at its next frame or read timeout, on its own."""
        self._stop.set()
        if self._queue is not None:
            self._queue.wake()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self.log.info("stream stopped")

    # -- decoder thread ----------------------------------------------------------------------------
    def _decode_thread(self) -> None:
        data = self.config.data
        downloaded: Path | None = None
        try:
            reference = data.reference
            if data.downloadable and is_remote(reference):
                timeout = data.timeout / 1000 if data.timeout else self.settings.download_timeout
                try:
                    downloaded = download(reference, self.settings.download_dir, timeout, self._stop)
                except DownloadError as exc:
                    if not self._stop.is_set():
                        self._fail(VIDEO_DOWNLOAD_FAILED.body(redact(reference)), exc)
                    return
                reference = str(downloaded)
            self._play(reference)
        except Exception as exc:  # noqa: BLE001 - a bug or bad input fails this stream, never the agent
            self.log.exception("stream crashed")
            self._fail(ANALYTICS_PROCESSING_FAILED.body(exc), exc)
        finally:
            if downloaded is not None:
                downloaded.unlink(missing_ok=True)
            if self._queue is not None:
                self._queue.put(_END, drop_oldest=False, stop=self._stop)

    def _play(self, reference: str) -> None:
        # Jittered, so that cameras that dropped together do not reconnect together.
        backoff = Backoff(self.settings.reconnect_initial, self.settings.reconnect_max, jitter=True)
        attempt = 0
        while not self._stop.is_set():
            decoded_before = self.state.decoded
            try:
                self._session(reference)
                if not self.live or self._stop.is_set():
                    return
                self.log.info("stream ended, reconnecting")
                metrics.RECONNECTS.labels(self._label).inc()
            except (av.FFmpegError, OSError) as exc:
                if self._stop.is_set():
                    return
                error = self._classify(exc, reference, produced=self.state.decoded > decoded_before)
                if not self.live:
                    self._fail(error, exc)
                    return
                self._report(error, exc)
                metrics.RECONNECTS.labels(self._label).inc()
            attempt = 0 if self.state.decoded > decoded_before else attempt + 1
            if self._stop.wait(backoff.delay(attempt)):
                return

    def _session(self, reference: str) -> None:
        """Decode one opening of the source to its end, queueing the sampled frames."""
        data = self.config.data
        gpu = self.settings.decoder != "cpu"
        self._progress = time.monotonic()
        options = source_options(reference, data.ffmpeg_kwargs)
        with Decoder(reference, options, self._timeout, gpu, self.settings.decoder_threads) as decoder:
            fps = data.fps or decoder.fps
            sampler = self._sampler = self._sampler or RateGate(stream_rate(self.config, fps))
            self._clock.new_session(fps)
            paced = self.live and urlsplit(reference).scheme in ("", "file")  # a file played as a camera
            base = self._frame_number  # this session's frames go on from the last one's
            can_skip = self.settings.skip_frames and sampler.rate.unit == "frame" and sampler.rate.period > 1
            skippable = (lambda index: sampler.skippable(base + index)) if can_skip else None
            started = time.monotonic()
            for nth, (index, frame) in enumerate(decoder.numbered(skippable)):
                if self._stop.is_set():
                    return
                if nth == 0:
                    self.state.decoder = decoder.decoder
                    self.log.info("decoding", extra={"decoder": decoder.decoder, "fps": fps})
                self._progress = time.monotonic()
                number = base + index
                self._read_up_to(number + 1)
                self._last_offset = offset = self._clock.offset(index, frame.time, fps)
                if paced and self._stop.wait(max(0.0, index / fps - (time.monotonic() - started))):
                    return
                if sampler.due(number, offset):
                    self._queue_frame(number, offset, frame)
            self._read_up_to(base + decoder.read)  # the last frames may have been skipped

    def _read_up_to(self, frame_number: int) -> None:
        """Count the frames read from the source before ``frame_number``, skipped ones too."""
        read = frame_number - self._frame_number
        self._frame_number = frame_number
        self.state.decoded += read
        metrics.FRAMES_DECODED.labels(self._label).inc(read)

    def _queue_frame(self, number: int, offset: float, frame: av.VideoFrame) -> None:
        # Pixels are converted on the publishing side, overlapping the next decode, and never for a
        # frame that a live stream drops.
        assert self._queue is not None
        item = Sampled(number, offset, datetime.now(UTC), frame)
        dropped = self._queue.put(item, drop_oldest=self.live, stop=self._stop)
        if dropped:
            self.state.dropped += dropped
            metrics.FRAMES_DROPPED.labels(self._label).inc(dropped)

    def _classify(self, exc: Exception, reference: str, produced: bool) -> ErrorBody:
        # FFmpeg's demuxers often turn the interrupt of a timed-out read into another error (RTSP says
        # "Invalid data"), so a failure after a silence of ``timeout`` counts as a timeout too.
        timed_out = isinstance(exc, av.ExitError) or time.monotonic() - self._progress >= self._timeout
        if self.live and not produced and not timed_out:
            return connection_error(reference, exc)
        return decoding_error(exc, self._last_offset, timed_out)

    def _report(self, error: ErrorBody, exc: Exception) -> None:
        if self.state.error(error):
            self.log.warning("stream error", extra={"error": error.detail, "exception": type(exc).__name__})
            self._notify()

    def _fail(self, error: ErrorBody, exc: Exception) -> None:
        self.state.status = StreamStatus.FAILURE
        self._report(error, exc)

    # -- event loop --------------------------------------------------------------------------------
    async def _publish_loop(self) -> None:
        assert self._queue is not None
        while (item := await self._queue.get()) is not _END:
            assert isinstance(item, Sampled)
            try:
                with metrics.STAGE_SECONDS.labels("agent_encode").time():
                    encoded = await asyncio.to_thread(self._encode, item.frame)
                with metrics.STAGE_SECONDS.labels("agent_publish").time():
                    await self._publish(item, *encoded)
            except Exception as exc:  # noqa: BLE001 - a broker hiccup loses this frame, not the stream
                self.state.dropped += 1
                metrics.FRAMES_DROPPED.labels(self._label).inc()
                self.log.warning("frame not published", extra={"error": str(exc)})
                continue
            self.state.published += 1
            metrics.FRAMES_PUBLISHED.labels(self._label).inc()
            self.state.last_processed_frame_time = item.time_offset
        try:
            await self._publish_end()
            await self.publisher.flush()
        except Exception as exc:  # noqa: BLE001 - the frames are lost; the stream's outcome still stands
            self.log.warning("frames not acknowledged", extra={"error": str(exc)})
        if self.state.status == StreamStatus.IN_PROGRESS:
            self.state.status = StreamStatus.DONE
            self.log.info("stream done", extra={"frames": self.state.published})
        self._notify()

    async def _publish_end(self) -> None:
        """Tell the processors the video is over (or the source failed), so they end open tracks and events."""
        last = self._last_header
        if last is not None:
            end = last.model_copy(update={
                "frame_number": last.frame_number + 1, "encoding": "end", "size": 0, "claim_key": None,
                "timestamp": datetime.now(UTC),
            })
            await self.publisher.publish(end, b"")

    def _encode(self, frame: av.VideoFrame) -> tuple[bytes, int, int]:
        """JPEG bytes, width and height of the rotated frame, from its YUV planes (off the event loop;
        libjpeg-turbo and OpenCV free the GIL)."""
        planes = to_planes(frame, self.config.data.rotation)
        quality = self.settings.jpeg_quality
        return encode_jpeg_planes(planes, quality, _CLAIM_MAX_BYTES) if self.claims else encode_jpeg_planes(planes, quality)

    async def _publish(self, item: Sampled, data: bytes, width: int, height: int) -> None:
        header = FrameHeader(
            stream_id=self.config.stream_id,
            version=self.config.version,
            run=self.run,
            frame_number=item.frame_number,
            time_offset=item.time_offset,
            timestamp=item.timestamp,
            width=width,
            height=height,
            size=len(data),
            live=self.live,
        )
        self._last_header = header
        if self.claims is None:
            await self.publisher.publish(header, data)
            return
        key = claim_key(self.config.stream_id, self.config.version, self.run, item.frame_number)
        await self.claims.put(key, data)
        await self.publisher.publish(header.model_copy(update={"encoding": "claim-check", "claim_key": key}), b"")
