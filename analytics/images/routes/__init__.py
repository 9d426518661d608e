"""The image store's REST routes: images, objects and samples."""

from analytics.images.routes import images, objects, samples
from infra.http.mount import Mount

MOUNTS = (Mount(images.router), Mount(objects.router), Mount(samples.router))
