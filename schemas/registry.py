"""Every contract model, found by walking the package, for JSON Schema export and tests."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pydantic import BaseModel

import schemas
from schemas.base import Body, Message

_BASES = (Body, Message)


def contract_models() -> dict[str, type[BaseModel]]:
    """Name -> model for every Message and Body defined in ``schemas``; names are unique."""
    found: dict[str, type[BaseModel]] = {}
    for info in sorted(pkgutil.iter_modules(schemas.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"schemas.{info.name}")
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module.__name__ or obj in _BASES:
                continue
            if issubclass(obj, _BASES):
                if name in found and found[name] is not obj:
                    raise ValueError(f"two contract models are named {name}")
                found[name] = obj
    return found
