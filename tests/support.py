"""Helpers shared by tests: a PyAV-encoded test video, polling for eventual results, reading the dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import av
import cv2
import numpy as np
from aiokafka import AIOKafkaConsumer

from schemas.deadletter import DeadLetter
from schemas.topics import DEAD_LETTER

T = TypeVar("T")


def write_test_video(
    path: Path, frames: int = 12, size: tuple[int, int] = (160, 120), fps: int = 10, codec: str = "mpeg4",
    options: dict[str, str] | None = None,
) -> Path:
    """Encode a small clip (MPEG-4 unless ``codec`` says e.g. ``h264``) of a square moving across a
    gradient, with PyAV and the encoder's ``options``."""
    width, height = size
    gradient = np.tile(np.linspace(0, 255, width, dtype=np.uint8), (height, 1))
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps, options=options or {})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            image = cv2.merge([gradient, gradient[::-1], np.full_like(gradient, 60)])
            x = (i * 7) % (width - 20)
            cv2.rectangle(image, (x, 40), (x + 20, 80), (255, 255, 255), -1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


async def eventually(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 60, interval: float = 0.25
) -> T:
    """Poll ``probe`` until ``done`` holds; fail with the last value after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    value: Any = None
    while asyncio.get_running_loop().time() < deadline:
        value = await probe()
        if done(value):
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s; last value: {value!r}")


async def dead_letters(bootstrap: str) -> list[DeadLetter]:
    """Every dead letter on the broker so far."""
    consumer = AIOKafkaConsumer(DEAD_LETTER.name, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    try:
        found: list[DeadLetter] = []
        while batch := await consumer.getmany(timeout_ms=1000):
            found += [DeadLetter.model_validate_json(r.value) for records in batch.values() for r in records]
        return found
    finally:
        await consumer.stop()


def write_truncated_mp4(source: Path, path: Path, *, at_packet: bool) -> tuple[Path, int]:
    """``source`` remuxed with its index at the front (``faststart``) and cut about half-way: at a packet
    boundary (FFmpeg then decodes to the cut with no error) or inside a packet. Returns the path and how
    many whole packets the cut file keeps."""
    whole = path.with_suffix(".whole.mp4")
    with av.open(str(source)) as src, av.open(str(whole), "w", options={"movflags": "faststart"}) as out:
        video = src.streams.video[0]
        copy = out.add_stream_from_template(video)
        for packet in src.demux(video):
            if packet.dts is not None:
                packet.stream = copy
                out.mux(packet)
    data = whole.read_bytes()
    with av.open(str(whole)) as container:
        starts = [p.pos for p in container.demux(container.streams.video[0]) if p.size]
    kept = len(starts) // 2
    cut = starts[kept] if at_packet else starts[kept] + 100
    path.write_bytes(data[:cut])
    whole.unlink()
    return path, kept
