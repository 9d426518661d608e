"""Helpers for the video agent's tests: stream configs, a frames reader, misbehaving HTTP sources,
a manager double that speaks the agent protocol over the real broker, and a real RTSP server."""

from __future__ import annotations

import asyncio
import subprocess
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from infra.process import free_port
from schemas.agents import AgentMessage
from schemas.commands import StreamCommand
from schemas.frames import FrameHeader
from schemas.streams import StreamConfig, StreamConfigAnalytic, StreamData
from schemas.topics import AGENT_FEEDBACK, FRAMES, STREAM_COMMANDS, TopicSpec

SYSTEM_PYTHON = "/usr/bin/python3"
RTSP_SCRIPT = Path(__file__).with_name("rtsp_server.py")
DATA = Path(__file__).with_name("data")


def stream_config(
    reference: str | Path,
    kind: str = "videofile",
    rate: dict[str, Any] | None = None,
    version: int = 1,
    stream_id: uuid.UUID | None = None,
    **data: Any,
) -> StreamConfig:
    parameters = {"rate": rate} if rate else {}
    return StreamConfig(
        stream_id=stream_id or uuid.uuid4(),
        account_id=uuid.uuid4(),
        version=version,
        data=StreamData(type=kind, reference=str(reference), **data),
        analytics=[StreamConfigAnalytic(index=0, analytic_name="people_count", parameters=parameters)],
    )


async def _tail(bootstrap: str, topic: TopicSpec) -> AIOKafkaConsumer:
    """A group-less consumer of every partition of ``topic``, from now on."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    await consumer._client.force_metadata_update()  # noqa: SLF001
    partitions = [TopicPartition(topic.name, p) for p in sorted(consumer.partitions_for_topic(topic.name) or {0})]
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for tp in partitions:
        await consumer.position(tp)
    return consumer


class FrameReader:
    """Every frame published from now on, grouped by stream id: (header, value); end-of-video markers apart."""

    def __init__(self, consumer: AIOKafkaConsumer) -> None:
        self.consumer = consumer
        self.frames: dict[uuid.UUID, list[tuple[FrameHeader, bytes]]] = defaultdict(list)
        self.ends: dict[uuid.UUID, list[FrameHeader]] = defaultdict(list)
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, bootstrap: str) -> FrameReader:
        return cls(await _tail(bootstrap, FRAMES))

    async def _read(self) -> None:
        async for record in self.consumer:
            header = FrameHeader.from_kafka_headers(list(record.headers))
            if header.encoding == "end":
                self.ends[header.stream_id].append(header)
            else:
                self.frames[header.stream_id].append((header, record.value or b""))

    def headers(self, stream_id: uuid.UUID) -> list[FrameHeader]:
        return [h for h, _ in self.frames[stream_id]]

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()


class ManagerDouble:
    """Stands in for the video manager: reads agent-feedback, answers on stream-commands."""

    def __init__(self, bootstrap: str, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer) -> None:
        self.bootstrap = bootstrap
        self.consumer = consumer
        self.producer = producer
        self.messages: list[AgentMessage] = []
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def start(cls, bootstrap: str) -> ManagerDouble:
        consumer = await _tail(bootstrap, AGENT_FEEDBACK)
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
        await producer.start()
        return cls(bootstrap, consumer, producer)

    async def _read(self) -> None:
        async for record in self.consumer:
            self.messages.append(AgentMessage.model_validate_json(record.value))

    def of(self, agent_id: uuid.UUID, kind: str | None = None) -> list[AgentMessage]:
        return [m for m in self.messages if m.agent_id == agent_id and (kind is None or m.kind == kind)]

    def reports(self, agent_id: uuid.UUID, stream_id: uuid.UUID) -> list[Any]:
        return [s for m in self.of(agent_id, "heartbeat") for s in m.streams if s.stream_id == stream_id]

    async def send(self, agent_id: uuid.UUID, action: str, **fields: Any) -> None:
        command = StreamCommand(agent_id=agent_id, action=action, issued_at=datetime.now(UTC), **fields)
        await self.producer.send_and_wait(
            STREAM_COMMANDS.name, command.model_dump_json().encode(), key=str(agent_id).encode()
        )

    async def start_stream(self, agent_id: uuid.UUID, config: StreamConfig) -> None:
        await self.send(agent_id, "start", stream_id=config.stream_id, version=config.version, config=config)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.stop()
        await self.producer.stop()


class HttpSource:
    """A local HTTP server: ``/file`` serves ``data``; ``/stall`` serves its first ``stall_after`` bytes
    and then hangs; anything else answers 404."""

    def __init__(self, data: bytes = b"", stall_after: int = 0) -> None:
        release = self.release = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.path not in ("/file", "/stall"):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if self.path == "/file":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data if self.path == "/file" else data[:stall_after])
                self.wfile.flush()
                if self.path == "/stall":
                    release.wait(60)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def rtsp_available() -> str | None:
    """None when the system python3 can run GStreamer's RTSP server, else why not."""
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} not found"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import gi; gi.require_version('GstRtspServer', '1.0');"
         "from gi.repository import GstRtspServer, Gst; Gst.init(None);"
         "assert Gst.ElementFactory.find('rtph264pay') and Gst.ElementFactory.find('qtdemux')"],
        capture_output=True, text=True,
    )
    if probe.returncode:
        return "GStreamer RTSP server not installed (run infra/system-deps.sh as root): " + probe.stderr[-300:]
    return None


class RtspServer:
    """``tests/rtsp_server.py`` under the system python3, restartable on the same port."""

    def __init__(self, clip: Path) -> None:
        self.clip = clip
        self.port = free_port()
        self.url = f"rtsp://127.0.0.1:{self.port}/live"
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [SYSTEM_PYTHON, str(RTSP_SCRIPT), str(self.clip), str(self.port)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.stdout.readline().strip() == "READY":
                return
        raise RuntimeError("RTSP server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None
