"""The recognition service's REST routes."""

from analytics.recognition.routes import bodies, events_raw, faces, lists, matcher, verifiers
from infra.http.mount import Mount

MOUNTS = (Mount(faces.router), Mount(lists.router), Mount(matcher.router), Mount(events_raw.router),
          Mount(bodies.router), Mount(verifiers.router))
