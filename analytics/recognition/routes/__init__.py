"""The recognition service's REST routes."""

from analytics.recognition.routes import bodies, faces, lists, matcher, verifiers
from infra.http.mount import Mount

MOUNTS = (Mount(faces.router), Mount(lists.router), Mount(matcher.router), Mount(bodies.router),
          Mount(verifiers.router))
