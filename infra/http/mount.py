"""How a service hands its routes to the API app: the router and where it goes."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter


@dataclass(frozen=True)
class Mount:
    router: APIRouter
    versioned: bool = True  # under /6, as LUNA's API v6
    error_docs: bool = True  # documents LUNA's error bodies in the OpenAPI
