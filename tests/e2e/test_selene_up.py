"""`selene up` as a user runs it: the whole embedded stack in child processes, on free ports."""

from __future__ import annotations

import base64
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from infra.process import free_port


class Stack:
    def __init__(self, tmp: Path, extra_env: dict[str, str] | None = None, args: tuple[str, ...] = ("--demo",)) -> None:
        self.api_port = free_port()
        self.metrics_ports = {"worker": free_port(), "agent": free_port()}
        env = {
            **os.environ,
            "SELENE_DATA_DIR": str(tmp / "data"),
            "SELENE_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
            "SELENE_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
            "SELENE_API_PORT": str(self.api_port),
            "SELENE_WORKER_APP_ID": f"e2e-{self.api_port}",
            "SELENE_WORKER_METRICS_PORT": str(self.metrics_ports["worker"]),
            "SELENE_AGENT_METRICS_PORT": str(self.metrics_ports["agent"]),
            "PYTHONUNBUFFERED": "1",
            **(extra_env or {}),
        }
        self.env = env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "infra.root.cli", "up", *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.output.append(line)
            self.lines.put(line)

    def wait_for_line(self, text: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            if text in line:
                return line
        raise AssertionError(f"{text!r} not printed within {timeout} s; output:\n{''.join(self.output)}")

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.api_port}{path}", timeout=3) as response:
            return json.load(response)

    def call(self, method: str, path: str, body: object = None, content_type: str = "application/json") -> dict:
        """An admin's request with the default credentials (ManagerSettings' first admin)."""
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        headers = {"Authorization": "Basic " + base64.b64encode(b"root@visionlabs.ai:root").decode(),
                   "Content-Type": content_type}
        request = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}", data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback URL
            return json.load(response)

    def metrics(self, part: str) -> dict[str, float]:
        """Each ``selene_`` sample of a part (api: /metrics; worker, agent: their port), summed over labels."""
        port = self.api_port if part == "api" else self.metrics_ports[part]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=3) as response:
            text = response.read().decode()
        totals: dict[str, float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name.startswith("selene_"):
                    totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
        return totals

    def part(self, name: str) -> dict:
        return {p["name"]: p for p in self.get("/6/health")["parts"]}[name]


def _eventually(check, timeout: float, interval: float = 0.25):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except OSError as exc:
            last = exc
        time.sleep(interval)
    raise AssertionError(f"not true within {timeout} s; last: {last!r}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    running = Stack(tmp_path)
    yield running
    if running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait()


def test_selene_up_runs_the_pipeline_and_stops_clean(stack: Stack) -> None:
    started = time.monotonic()
    stack.wait_for_line("Selene is up", timeout=60)
    assert time.monotonic() - started < 60
    stack.wait_for_line("Ctrl-C stops everything", timeout=5)
    printed = "".join(stack.output)
    for part in ("broker", "redis", "api", "clickhouse", "milvus", "worker", "agent"):
        assert f"\n  {part}" in printed, f"{part} missing from:\n{printed}"

    version = stack.get("/6/version")
    assert version["api_version"] == 6 and "chdb" in version["components"]
    _eventually(lambda: all(p["status"] == "ok" for p in stack.get("/6/health")["parts"]), timeout=20)
    # Frames go agent -> Kafka -> worker -> Kafka -> sink -> ClickHouse, and the API reads them back.
    streams = _eventually(lambda: [s for s in stack.get("/6/monitoring/streams")["streams"] if s["frames"] > 5], 60)
    assert streams[0]["fps"] > 0
    # Every part's metrics move as the demo stream plays (the sink and the matcher run in the API).
    moving = {
        "agent": ("selene_frames_decoded_total", "selene_frames_published_total", "selene_stage_seconds_count"),
        "worker": ("selene_frames_processed_total", "selene_stage_seconds_count", "selene_inference_seconds_count"),
        "api": ("selene_sink_rows_total", "selene_sink_batches_total", "selene_http_requests_total"),
    }
    before = {part: stack.metrics(part) for part in moving}
    _eventually(lambda: all(stack.metrics(part).get(name, 0) > before[part].get(name, 0)
                            for part, names in moving.items() for name in names), timeout=20, interval=1)
    assert "selene_consumer_lag" in stack.metrics("worker") and "selene_consumer_lag" in stack.metrics("api")
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.api_port}/ui", timeout=3) as page:
        assert b"Selene operator" in page.read()
    sql = subprocess.run(
        [sys.executable, "-m", "infra.root.cli", "sql", "SELECT count() AS n FROM selene.frame_stats"],
        capture_output=True, text=True, env=stack.env, timeout=60,
    )
    assert sql.returncode == 0, sql.stderr
    assert sql.stdout.splitlines()[0] == "n" and int(sql.stdout.splitlines()[1]) > 5

    children = psutil.Process(stack.proc.pid).children(recursive=True)
    [tansu] = [c for c in children if "tansu" in " ".join(c.cmdline())]
    killed_at = time.monotonic()
    tansu.kill()
    _eventually(lambda: stack.part("broker")["status"] == "down", timeout=10)
    assert time.monotonic() - killed_at < 10
    assert stack.get("/6/version")["api_version"] == 6  # the API keeps answering

    children = psutil.Process(stack.proc.pid).children(recursive=True)
    stack.proc.send_signal(signal.SIGINT)
    assert stack.proc.wait(timeout=60) == 0
    gone, alive = psutil.wait_procs(children, timeout=5)
    assert alive == [], f"left behind: {[p.cmdline() for p in alive]}"
    assert "Stopped." in "".join(stack.output)


def test_busy_port_fails_fast_naming_the_part(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        stack = Stack(tmp_path, {"SELENE_API_PORT": str(port)})
        assert stack.proc.wait(timeout=30) == 1
    out = "".join(stack.output)
    assert f"api: port 127.0.0.1:{port} is already in use" in out and "SELENE_API_PORT" in out


def test_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    stack = Stack(tmp_path, {"SELENE_DATA_DIR": str(blocker / "data")})
    assert stack.proc.wait(timeout=30) == 1
    out = "".join(stack.output)
    assert "data directory: cannot write to" in out and "SELENE_DATA_DIR" in out


def test_an_operator_is_alerted_when_an_enrolled_face_walks_through_a_stream(tmp_path: Path) -> None:
    """The recognition path as an operator uses it: enrol a face over REST, register a stream with a watch
    list, get a `match` general event when the person appears (the clip's end ends her track), and her
    track's event stored once, without the matches."""
    data = Path(__file__).resolve().parents[1] / "data"
    stack = Stack(tmp_path, args=())
    try:
        stack.wait_for_line("Selene is up", timeout=60)
        list_id = stack.call("POST", "/6/lists", {"user_data": "watch"})["list_id"]
        photo = (data / "faces" / "megamind_frame12.jpg").read_bytes()
        face_id = stack.call("POST", f"/6/faces?list_id={list_id}&multiface_policy=2&external_id=roxanne", photo,
                             "image/jpeg")["face_id"]
        stream = {"data": {"type": "videofile", "reference": str(data / "megamind_clip.mp4")}, "analytics": [
            {"name": "human_tracking", "parameters": {"detector_type": "face", "match_policy": {"list_ids": [list_id]}}}]}
        stream_id = _eventually(lambda: _created(stack, stream), timeout=30)

        def alerts() -> list[dict]:
            found = stack.call("GET", f"/6/general_events?event_types=match&stream_ids={stream_id}")["events"]
            return [e for e in found if any(m["face_id"] == face_id for m in e["event"]["matches"])]

        [alert] = _eventually(alerts, timeout=120, interval=1)
        assert alert["event"]["matches"][0]["list_id"] == list_id and alert["event"]["matches"][0]["similarity"] >= 0.5
        # The track's own event is stored as the tracker ended it; its matches live in the match event only.
        def ended() -> dict | None:
            found = stack.call("GET", f"/6/analytics_events/{alert['event']['track_event_id']}")
            return found if found["event"]["event_status"] == "ended" else None

        track = _eventually(ended, timeout=30)
        assert track["event_type"] == "human_tracking" and "matches" not in track["event"]
        assert stack.call("GET", f"/6/streams/{stream_id}")["status"] == 2  # done: the clip played to its end
    finally:
        if stack.proc.poll() is None:
            stack.proc.send_signal(signal.SIGINT)
            stack.proc.wait(timeout=60)


def _created(stack: Stack, body: dict) -> str | None:
    """The new stream's id; None while no agent has registered yet (44014)."""
    try:
        return stack.call("POST", "/6/streams", body)["stream_id"]
    except urllib.error.HTTPError as exc:
        if json.load(exc).get("error_code") == 44014:
            return None
        raise
