"""LUNA's estimator task (``POST /6/tasks/estimator``, task type 9): a handler's policies over every image
of a source. The handler is an existing one (``handler_id``; a dynamic one with its ``policies``), or
``policies`` alone, of which the task creates a static handler as LUNA does. Sources: a ZIP archive (an
object of ``/6/objects`` by id, or a URL) and a directory on the server (LUNA's network disk)."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Body
from schemas.handlers import Policies
from schemas.tasks import MAX_DESCRIPTION

ImageType = Literal[0, 1, 2]  # 0 raw image, 1 face warp, 2 body warp


class EstimatorHandler(Body):
    """The handler the images go through: an existing one by id, a dynamic one with its policies, or
    policies alone (a static handler is made)."""

    handler_id: UUID | None = None
    policies: Policies | None = Field(None, description="A dynamic handler's policies; alone: a new static handler.")

    @model_validator(mode="after")
    def _one(self) -> EstimatorHandler:
        if self.handler_id is None and self.policies is None:
            raise ValueError("give handler_id or policies")
        return self


class ZipSource(Body):
    """A ZIP archive of images: an object id of the account's objects bucket, or an http(s) URL."""

    source_type: Literal["zip"]
    reference: str = Field(min_length=1, max_length=1024,
                           description="An object id of /6/objects (this account's), or an http(s) URL of the archive.")
    image_type: ImageType = 0


class FolderSource(Body):
    """A folder on the server (only under SELENE_TASKS_ESTIMATOR_DIRECTORIES), filtered by name prefix
    and postfix."""

    source_type: Literal["network_disk"]
    path: str = Field(min_length=1, max_length=1024, description="Absolute path of the directory on the server.")
    follow_links: Literal[0, 1] = 1
    prefix: str = Field("", max_length=256, description="Only files whose names start with this.")
    postfix: str = Field("", max_length=256, description="Only files whose names end with this.")
    image_type: ImageType = 0


class EstimatorContent(Body):
    """LUNA's estimator task content: the handler and the image source."""

    handler: EstimatorHandler
    source: ZipSource | FolderSource = Field(discriminator="source_type")


class EstimatorTaskCreate(Body):
    """``POST /tasks/estimator``."""

    description: str = Field("", max_length=MAX_DESCRIPTION)
    content: EstimatorContent
