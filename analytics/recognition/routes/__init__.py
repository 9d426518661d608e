"""The recognition service's REST routes."""

from analytics.recognition.routes import events_raw, faces, lists, matcher
from infra.http.mount import Mount

MOUNTS = (Mount(faces.router), Mount(lists.router), Mount(matcher.router), Mount(events_raw.router))
