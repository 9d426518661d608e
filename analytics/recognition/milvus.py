"""Connection to the descriptor store: Milvus Lite (a local file) or a Milvus server (a URI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.errors import StackError
from infra.settings import CommonSettings, MilvusSettings


def milvus_uri(settings: MilvusSettings, common: CommonSettings) -> str:
    return settings.uri or str(common.data_dir / "milvus.db")


# Milvus Lite's in-process gRPC server keeps gRPC's default ping policy (at most one ping per 5 minutes
# without data) while pymilvus pings every 10 s: the server answers GOAWAY "too_many_pings", which fails
# the calls in flight and poisons the shared subchannel for the next client of the same file. Lite clients
# therefore never ping, and keep their connections to themselves.
LITE_GRPC_OPTIONS = {
    "grpc.keepalive_time_ms": 2**31 - 1,
    "grpc.keepalive_permit_without_calls": False,
    "grpc.use_local_subchannel_pool": 1,
}


def open_milvus(settings: MilvusSettings | None = None, common: CommonSettings | None = None) -> Any:
    from pymilvus import MilvusClient

    settings, common = settings or MilvusSettings(), common or CommonSettings()
    uri = milvus_uri(settings, common)
    lite = "://" not in uri
    if lite:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        if lite:
            return MilvusClient(uri=uri, grpc_options=LITE_GRPC_OPTIONS)
        return MilvusClient(uri=uri, token=settings.token)
    except Exception as exc:
        raise StackError(
            "milvus", f"could not open {uri}: {exc}",
            "Milvus Lite allows one process per file; stop the other Selene API or set SELENE_MILVUS_URI",
        ) from exc
