"""Buckets on S3 (AWS, MinIO, Yandex): one S3 bucket per Selene bucket, named with a prefix, an object per
key, its info in the object's own metadata, so that a HEAD answers everything but the bytes.

boto3's client is blocking and thread-safe: every call runs in a worker thread. S3 failures answer LUNA's
S3 codes (20005-20009) instead of a bare 500.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, unquote

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from analytics.images.storage import ObjectInfo, StoredObject
from schemas.errors import (
    S3_CONNECT_TIMEOUT,
    S3_CONNECTION_REFUSED,
    S3_FORBIDDEN,
    S3_REQUEST_FAILED,
    S3_REQUEST_TIMEOUT,
    SeleneError,
)

USER_META = "luna-"  # X-Luna-Meta-<name> is stored as x-amz-meta-luna-<name>
CREATE_TIME = "selene-create-time"
EXPIRE_TIME = "selene-expire-time"
_MISSING = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_FORBIDDEN = {"403", "AccessDenied", "Forbidden"}


def s3_metadata(info: ObjectInfo) -> dict[str, str]:
    """The object's S3 user metadata. S3 sends it as HTTP headers, ASCII only: names and values are
    percent-encoded, and unquoted again on the way back."""
    metadata = {USER_META + quote(name.lower(), safe=""): quote(value, safe="") for name, value in info.meta.items()}
    metadata[CREATE_TIME] = info.create_time.isoformat()
    if info.expire_time is not None:
        metadata[EXPIRE_TIME] = info.expire_time.isoformat()
    return metadata


def object_info(bucket: str, key: str, head: dict[str, Any]) -> ObjectInfo:
    """An ObjectInfo from a head_object / get_object answer (S3 lower-cases metadata names)."""
    metadata = {name.lower(): value for name, value in head.get("Metadata", {}).items()}
    created = metadata.get(CREATE_TIME)
    expires = metadata.get(EXPIRE_TIME)
    return ObjectInfo(
        bucket=bucket, key=key, size=int(head["ContentLength"]),
        content_type=head.get("ContentType") or "application/octet-stream",
        create_time=datetime.fromisoformat(created) if created else head.get("LastModified", datetime.now(UTC)),
        expire_time=datetime.fromisoformat(expires) if expires else None,
        meta={unquote(name[len(USER_META):]): unquote(value) for name, value in metadata.items() if name.startswith(USER_META)},
    )


def s3_error(exc: Exception) -> SeleneError:
    """LUNA's code for an S3 failure."""
    if isinstance(exc, ConnectTimeoutError):
        return SeleneError(S3_CONNECT_TIMEOUT)
    if isinstance(exc, EndpointConnectionError):
        return SeleneError(S3_CONNECTION_REFUSED)
    if isinstance(exc, ReadTimeoutError):
        return SeleneError(S3_REQUEST_TIMEOUT)
    if isinstance(exc, ClientError) and _code(exc) in _FORBIDDEN:
        return SeleneError(S3_FORBIDDEN)
    return SeleneError(S3_REQUEST_FAILED)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage:
    def __init__(
        self, endpoint: str, region: str, access_key: str, secret_key: str, bucket_prefix: str = "",
        verify_ssl: bool = True, timeout: float = 10.0,
    ) -> None:
        self.prefix = bucket_prefix
        self.region = region
        self.client = boto3.client(
            "s3", endpoint_url=endpoint or None, region_name=region,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None, verify=verify_ssl,
            # Path-style addressing: MinIO and other self-hosted S3 serve buckets under the endpoint's path.
            config=Config(s3={"addressing_style": "path"}, connect_timeout=timeout, read_timeout=timeout,
                          retries={"max_attempts": 3, "mode": "standard"}),
        )

    def bucket_name(self, bucket: str) -> str:
        return self.prefix + bucket

    async def _call(self, method: str, missing_ok: bool = False, **kwargs: Any) -> Any:
        """The call's answer; None for a missing key or bucket where ``missing_ok`` (a write never is)."""
        try:
            return await asyncio.to_thread(getattr(self.client, method), **kwargs)
        except (ClientError, BotoCoreError) as exc:
            if missing_ok and isinstance(exc, ClientError) and _code(exc) in _MISSING:
                return None
            raise s3_error(exc) from exc

    async def ensure_bucket(self, bucket: str) -> None:
        name = self.bucket_name(bucket)
        if await self._call("head_bucket", missing_ok=True, Bucket=name) is not None:
            return
        extra = {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
        try:
            await asyncio.to_thread(self.client.create_bucket, Bucket=name, **extra)
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):  # another replica won the race
                raise s3_error(exc) from exc
        except BotoCoreError as exc:
            raise s3_error(exc) from exc

    async def put(
        self, bucket: str, key: str, data: bytes, content_type: str,
        meta: dict[str, str] | None = None, expire_time: datetime | None = None,
    ) -> ObjectInfo:
        info = ObjectInfo(bucket, key, len(data), content_type, datetime.now(UTC), expire_time, dict(meta or {}))
        await self._call(
            "put_object", Bucket=self.bucket_name(bucket), Key=key, Body=data, ContentType=content_type,
            Metadata=s3_metadata(info),
        )
        return info

    async def get(self, bucket: str, key: str) -> StoredObject | None:
        answer = await self._call("get_object", missing_ok=True, Bucket=self.bucket_name(bucket), Key=key)
        if answer is None:
            return None
        try:
            data = await asyncio.to_thread(answer["Body"].read)
        except (ClientError, BotoCoreError) as exc:
            raise s3_error(exc) from exc
        return StoredObject(object_info(bucket, key, answer), data)

    async def head(self, bucket: str, key: str) -> ObjectInfo | None:
        answer = await self._call("head_object", missing_ok=True, Bucket=self.bucket_name(bucket), Key=key)
        return None if answer is None else object_info(bucket, key, answer)

    async def delete(self, bucket: str, key: str) -> bool:
        # S3 deletes a missing key without complaint: a HEAD first tells whether there was one.
        existed = await self.head(bucket, key) is not None
        await self._call("delete_object", Bucket=self.bucket_name(bucket), Key=key)
        return existed

    async def keys(self, bucket: str, prefix: str = "") -> list[str]:
        def listing() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name(bucket), Prefix=prefix)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

        try:
            return sorted(await asyncio.to_thread(listing))
        except ClientError as exc:
            if _code(exc) in _MISSING:
                return []
            raise s3_error(exc) from exc
        except BotoCoreError as exc:
            raise s3_error(exc) from exc
