"""Selene's Prometheus metrics: every name and label in one place, and the metrics port of a process.

Each process registers the metrics it moves in the default registry; the API serves them at
``GET /metrics``, the worker, the agent and a stand-alone sink on a port of their own
(``serve_metrics``). Labels stay bounded: streams, processors, topics and partitions, models,
tables, routes (the path template, never the raw path) and status codes.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

# Seconds, from a millisecond-scale model call to a multi-second warehouse insert.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

FRAMES_DECODED = Counter(
    "selene_frames_decoded", "Frames the agent read (decoded, or left undecoded as unsampled), per stream.", ["stream_id"]
)
FRAMES_PUBLISHED = Counter("selene_frames_published", "Frames the agent published to Kafka, per stream.", ["stream_id"])
FRAMES_DROPPED = Counter(
    "selene_frames_dropped", "Frames the agent dropped (queue full or not delivered), per stream.", ["stream_id"]
)
FRAMES_STALE = Counter(
    "selene_frames_stale", "Live frames a worker skipped as stale (it fell behind), per stream.", ["stream_id"]
)
FRAMES_PROCESSED = Counter(
    "selene_frames_processed", "Messages a stream processor handled, per processor and stream.", ["processor", "stream_id"]
)
STAGE_SECONDS = Histogram(
    "selene_stage_seconds", "Time of one pipeline stage (agent encode/publish, each processor's batch, sink insert).",
    ["stage"], buckets=_LATENCY_BUCKETS,
)
CONSUMER_LAG = Gauge(
    "selene_consumer_lag", "Records not yet consumed (high watermark minus position), per group, topic and partition.",
    ["group", "topic", "partition"],
)
INFERENCE_SECONDS = Histogram(
    "selene_inference_seconds", "Time of one model call (a whole micro-batch), per model.", ["model"],
    buckets=_LATENCY_BUCKETS,
)
SINK_ROWS = Counter("selene_sink_rows", "Rows the sink wrote to the warehouse, per table.", ["table"])
SINK_BATCHES = Counter("selene_sink_batches", "Batches the sink wrote to the warehouse, per table.", ["table"])
HTTP_REQUESTS = Counter(
    "selene_http_requests", "HTTP requests the API answered, per method, route template and status.",
    ["method", "route", "status"],
)
HTTP_SECONDS = Histogram(
    "selene_http_request_seconds", "Time the API took to answer, per method and route template.", ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
RECONNECTS = Counter("selene_stream_reconnects", "Reconnections of a live stream by the agent, per stream.", ["stream_id"])
RESTARTS = Counter(
    "selene_restarts", "Restarts: of a stream by its autorestart policy (part=stream), or of an embedded service.",
    ["part"],
)
WS_DROPPED = Counter(
    "selene_ws_messages_dropped", "Messages a slow websocket client lost (oldest first), per kind of websocket.",
    ["socket"],
)
SENDER_CALLBACKS = Counter(
    "selene_sender_callbacks", "Handler callbacks the sender delivered, per outcome (sent, retried, dead_letter).",
    ["outcome"],
)


def serve_metrics(host: str, port: int, part: str) -> bool:
    """Serve the default registry on ``host:port`` (0: off). A busy port is logged, not fatal: the
    process's work matters more than its metrics."""
    if port == 0:
        return False
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        log.warning("metrics port unavailable", extra={"part": part, "port": port, "error": str(exc)})
        return False
    log.info("metrics listening", extra={"part": part, "url": f"http://{host}:{port}/metrics"})
    return True
