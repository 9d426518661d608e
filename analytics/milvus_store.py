"""Connection to the descriptor store: Milvus Lite (a local file) or a Milvus server (a URI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra.errors import StackError
from infra.settings import CommonSettings, MilvusSettings


def milvus_uri(settings: MilvusSettings, common: CommonSettings) -> str:
    return settings.uri or str(common.data_dir / "milvus.db")


def open_milvus(settings: MilvusSettings | None = None, common: CommonSettings | None = None) -> Any:
    from pymilvus import MilvusClient

    settings, common = settings or MilvusSettings(), common or CommonSettings()
    uri = milvus_uri(settings, common)
    if "://" not in uri:
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    try:
        return MilvusClient(uri=uri, token=settings.token)
    except Exception as exc:
        raise StackError(
            "milvus", f"could not open {uri}: {exc}",
            "Milvus Lite allows one process per file; stop the other Selene API or set SELENE_MILVUS_URI",
        ) from exc
