"""Base classes every Selene contract model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Message(BaseModel):
    """A Kafka message value.

    Unknown fields are ignored so that an older consumer keeps reading what a newer producer writes.
    """

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Body(BaseModel):
    """A REST request or response body.

    Unknown fields are rejected, as LUNA's JSON schemas do, so a typo in a field name is an error,
    not a silently ignored setting.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
