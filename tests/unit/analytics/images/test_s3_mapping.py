"""The S3 backend's pure parts: ObjectInfo to S3 metadata and back (what a HEAD answers), bucket names and
LUNA's codes for S3 failures. No S3 server runs here, so the calls themselves are not covered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

from analytics.images.s3 import S3Storage, object_info, s3_error, s3_metadata
from analytics.images.storage import ObjectInfo

CREATED = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)


def head_answer(metadata: dict[str, str], size: int = 6, content_type: str = "image/jpeg") -> dict[str, object]:
    """The fields of a head_object answer the mapping reads; S3 hands metadata names back lower-case."""
    return {"ContentLength": size, "ContentType": content_type, "Metadata": {k.lower(): v for k, v in metadata.items()},
            "LastModified": CREATED}


def test_meta_and_times_survive_the_round_trip() -> None:
    info = ObjectInfo("visionlabs-image-origin", "acc/one", 6, "image/png", CREATED, CREATED + timedelta(days=7),
                      {"camera": "gate 3/north", "city": "Zürich", "empty": ""})
    metadata = s3_metadata(info)
    assert all(k.isascii() and v.isascii() for k, v in metadata.items())  # S3 sends metadata as HTTP headers
    assert metadata["luna-camera"] == "gate%203%2Fnorth"
    back = object_info("visionlabs-image-origin", "acc/one", head_answer(metadata, content_type="image/png"))
    assert back == info


def test_an_object_without_ttl_or_selene_metadata_still_reads() -> None:
    info = ObjectInfo("b", "k", 3, "text/plain", CREATED)
    metadata = s3_metadata(info)
    assert set(metadata) == {"selene-create-time"}
    assert object_info("b", "k", head_answer(metadata, 3, "text/plain")) == info
    # Written by another tool: no Selene metadata, no content type.
    foreign = object_info("b", "k", {"ContentLength": 3, "Metadata": {}, "LastModified": CREATED})
    assert (foreign.create_time, foreign.expire_time, foreign.content_type, foreign.meta) == (
        CREATED, None, "application/octet-stream", {})


def test_meta_names_are_lower_case_as_s3_returns_them() -> None:
    info = ObjectInfo("b", "k", 1, "image/jpeg", CREATED, meta={"Camera": "x"})
    assert object_info("b", "k", head_answer(s3_metadata(info), 1)).meta == {"camera": "x"}


def test_s3_failures_answer_lunas_codes() -> None:
    def client_error(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": code}}, "PutObject")

    cases = {
        20005: client_error("InternalError"), 20006: client_error("AccessDenied"),
        20007: ReadTimeoutError(endpoint_url="http://minio:9000"), 20008: EndpointConnectionError(endpoint_url="http://minio:9000"),
        20009: ConnectTimeoutError(endpoint_url="http://minio:9000"),
    }
    for code, exc in cases.items():
        error = s3_error(exc)
        assert error.body.error_code == code, (code, exc)
        assert error.error.http_status == 500


def test_bucket_names_take_the_prefix_and_the_client_uses_path_style() -> None:
    storage = S3Storage("http://minio:9000", "us-east-1", "key", "secret", bucket_prefix="site-a-")
    assert storage.bucket_name("visionlabs-samples") == "site-a-visionlabs-samples"
    assert storage.client.meta.endpoint_url == "http://minio:9000"
    assert storage.client.meta.config.s3 == {"addressing_style": "path"}
