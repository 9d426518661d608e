"""The Remote SDK service's REST routes."""

from analytics.sdk.routes import sdk
from infra.http.mount import Mount

MOUNTS = (Mount(sdk.router),)
