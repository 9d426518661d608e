"""The sender's routes: LUNA's ``ws handshake``."""

from analytics.sender.routes import ws
from infra.http.mount import Mount

MOUNTS = (Mount(ws.router, error_docs=False),)
