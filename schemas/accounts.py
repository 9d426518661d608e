"""Accounts and tokens (LUNA's Accounts service, as far as video analytics needs it).

An account owns streams, groups and analytics. ``user`` sees its own objects only; ``advanced_user``
and ``admin`` may also read other accounts' objects; only ``admin`` manages accounts and agents.
A token is a JWT bound to one account, carrying per-object permissions (LUNA ``getToken`` keys
``video_stream``, ``video_group``, ``video_analytic``, ``video_agent``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Body

AccountType = Literal["user", "advanced_user", "admin"]
Right = Literal["creation", "view", "modification", "deletion"]
ALL_RIGHTS: tuple[Right, ...] = ("creation", "view", "modification", "deletion")


class AccountCreate(Body):
    """LUNA ``createAccount``."""

    login: str = Field(min_length=1, max_length=128, description="Usually an e-mail address.")
    password: str = Field(min_length=3, max_length=128)
    account_type: AccountType = "user"
    description: str | None = Field(default=None, max_length=128)


class AccountPatch(Body):
    """LUNA ``patchAccount``: at least one field. The account type cannot change (it would be a privilege grant)."""

    login: str | None = Field(default=None, min_length=1, max_length=128)
    password: str | None = Field(default=None, min_length=3, max_length=128)
    account_type: AccountType | None = None
    description: str | None = Field(default=None, max_length=128)


class AccountCreated(Body):
    """LUNA ``createAccount``: 201 ``{"account_id"}``."""

    account_id: UUID


class Account(Body):
    """LUNA ``getAccount``; the password never leaves the registry."""

    account_id: UUID
    login: str
    account_type: AccountType
    description: str | None = None
    create_time: datetime
    last_update_time: datetime


Rights = list[Right]  # an alias: the `list` field below shadows the builtin inside the class


class TokenPermissions(Body):
    """Rights per object type; an empty list grants nothing."""

    video_stream: Rights = Field(default_factory=list)
    video_group: Rights = Field(default_factory=list)
    video_analytic: Rights = Field(default_factory=list)
    video_agent: Rights = Field(default_factory=list)
    event: Rights = Field(default_factory=list, description="General events: save, view, delete.")
    face: Rights = Field(default_factory=list, description="Faces; matching needs face view.")
    task: Rights = Field(default_factory=list, description="Tasks and task schedules.")
    list: Rights = Field(default_factory=list, description="Lists of faces.")
    # Below `list`, the name is that field: default factories say `Rights` instead.
    face_sample: Rights = Field(default_factory=Rights, description="Face samples: creation, view, deletion.")
    body_sample: Rights = Field(default_factory=Rights, description="Body samples: creation, view, deletion.")
    image: Rights = Field(default_factory=Rights, description="Source images (/images): creation, view, deletion.")
    object: Rights = Field(default_factory=Rights, description="Objects (/objects): creation, view, deletion.")
    attribute: Rights = Field(default_factory=Rights, description="Temporary attributes; extracting needs creation.")
    handler: Rights = Field(default_factory=Rights, description="Handlers (generating events needs handler view).")
    verifier: Rights = Field(default_factory=Rights, description="Verifiers; verifying needs verifier view.")

    @classmethod
    def full(cls) -> TokenPermissions:
        return cls(
            video_stream=list(ALL_RIGHTS),
            video_group=list(ALL_RIGHTS),
            video_analytic=list(ALL_RIGHTS),
            video_agent=list(ALL_RIGHTS),
            event=list(ALL_RIGHTS),
            face=list(ALL_RIGHTS),
            list=list(ALL_RIGHTS),
            face_sample=list(ALL_RIGHTS),
            body_sample=list(ALL_RIGHTS),
            image=list(ALL_RIGHTS),
            object=list(ALL_RIGHTS),
            attribute=list(ALL_RIGHTS),
            handler=list(ALL_RIGHTS),
            verifier=list(ALL_RIGHTS),
            task=list(ALL_RIGHTS),
        )


class TokenCreate(Body):
    """LUNA ``createToken``: ``expiration_time`` null means never."""

    permissions: TokenPermissions
    expiration_time: datetime | None = None
    description: str | None = Field(default=None, max_length=128)
    visibility_area: Literal["account", "all"] = "account"


class TokenCreated(Body):
    """The JWT is returned once, here."""

    token: str
    token_id: UUID
    url: str


class Token(Body):
    """A stored token (LUNA ``getToken``); the JWT itself is not kept."""

    token_id: UUID
    account_id: UUID
    permissions: TokenPermissions
    expiration_time: datetime | None = None
    description: str | None = None
    visibility_area: Literal["account", "all"] = "account"
    create_time: datetime


class TokensPage(Body):
    """LUNA ``getTokens``: ``{"tokens": [...]}``."""

    tokens: list[Token]
