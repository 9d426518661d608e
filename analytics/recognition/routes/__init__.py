"""The recognition service's REST routes."""

from analytics.recognition.routes import (
    attributes,
    bodies,
    detector,
    events_raw,
    face_attributes,
    faces,
    handler_events,
    handlers,
    lists,
    matcher,
    verifiers,
)
from infra.http.mount import Mount

MOUNTS = (Mount(faces.router), Mount(lists.router), Mount(matcher.router), Mount(events_raw.router),
          Mount(detector.router), Mount(attributes.router), Mount(face_attributes.router), Mount(bodies.router),
          Mount(verifiers.router), Mount(handlers.router), Mount(handler_events.router))
