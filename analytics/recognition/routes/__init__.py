"""The recognition service's REST routes."""

from analytics.recognition.routes import faces, handlers, lists, matcher
from infra.http.mount import Mount

MOUNTS = (Mount(faces.router), Mount(lists.router), Mount(matcher.router), Mount(handlers.router))
