"""LUNA's ``downloadable``: fetch a remote video file to local disk before decoding it."""

from __future__ import annotations

import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

_CHUNK = 1024 * 1024


class DownloadError(Exception):
    pass


def is_remote(reference: str) -> bool:
    return urlsplit(reference).scheme.lower() in ("http", "https", "ftp")


def download(reference: str, directory: Path | None, timeout: float, stop: threading.Event) -> Path:
    """Save ``reference`` under ``directory`` within ``timeout`` seconds in all; the caller deletes it."""
    deadline = time.monotonic() + timeout
    suffix = Path(urlsplit(reference).path).suffix
    handle, name = tempfile.mkstemp(prefix="selene-video-", suffix=suffix, dir=directory)
    path = Path(name)
    try:
        with open(handle, "wb") as out, urllib.request.urlopen(reference, timeout=timeout) as answer:
            while chunk := answer.read(_CHUNK):
                out.write(chunk)
                if stop.is_set() or time.monotonic() > deadline:
                    raise DownloadError("stopped" if stop.is_set() else f"not done within {timeout:g} s")
    except BaseException as exc:
        path.unlink(missing_ok=True)
        if isinstance(exc, DownloadError):
            raise
        if isinstance(exc, (OSError, ValueError)):
            raise DownloadError(str(exc)) from exc
        raise
    return path


