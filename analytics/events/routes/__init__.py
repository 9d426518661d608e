"""The events service's REST routes."""

from analytics.events.routes import analytics_events, general_events, luna_events, monitoring, sql
from infra.http.mount import Mount

MOUNTS = (
    Mount(general_events.router), Mount(analytics_events.router), Mount(luna_events.router),
    Mount(sql.router, versioned=False),
)
# Served even by an API without the video manager: they need the warehouse only.
PLATFORM_MOUNTS = (Mount(monitoring.router, versioned=False, error_docs=False),)
