"""The video manager's REST routes, one module per LUNA API tag."""

from agents.video_manager.routes import agents, analytics, groups, preview, stream_ws, streams
from infra.http.mount import Mount

MOUNTS = (
    Mount(streams.router),
    Mount(groups.router),
    Mount(analytics.router),
    Mount(agents.router),
    Mount(stream_ws.router, error_docs=False),
    Mount(preview.router),
)
