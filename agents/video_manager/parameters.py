"""The analytics registry's built-ins and the validation of a stream's analytic parameters.

A built-in analytic's ``validation_schema`` is its parameters model's JSON Schema and its
``default_parameters`` the model's defaults, so the REST registry and the processors cannot disagree.
Parameters are merged over the defaults (objects key by key, anything else replaced) and validated
against the schema; built-ins are then checked by their model too, for rules JSON Schema cannot say
(distinct line ids, an interval's end after its start).
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator, SchemaError
from jsonschema.exceptions import best_match
from pydantic import ValidationError

from schemas.analytics import ANALYTIC_PARAMETERS
from schemas.errors import JSON_PATH_INVALID, SeleneError
from schemas.streams import Analytic

_BUILTIN_NAMESPACE = uuid.UUID("6c8a3c52-6f3e-4d0e-9a57-5e1e5e1e5e1e")
# Parameters that passed, by (analytic, its last update, the given parameters): JSON Schema validation
# takes about a millisecond, and most streams of a deployment share their analytics' parameters.
_PASSED: OrderedDict[tuple[uuid.UUID, datetime, str], str] = OrderedDict()
_PASSED_SIZE = 1024


def builtin_analytics(now: datetime) -> list[Analytic]:
    """``people_count`` and ``human_tracking``, with ids every manager instance agrees on."""
    return [
        Analytic(
            analytic_id=uuid.uuid5(_BUILTIN_NAMESPACE, name),
            analytic_name=name,
            analytic_version=1,
            create_time=now,
            last_update_time=now,
            default_parameters=model().model_dump(mode="json", exclude_none=True),
            validation_schema=model.model_json_schema(),
            description=(model.__doc__ or "").strip().splitlines()[0],
        )
        for name, model in ANALYTIC_PARAMETERS.items()
    ]


def check_schema(schema: dict[str, Any]) -> None:
    """12022 for a ``validation_schema`` that is not JSON Schema."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        path = ".".join(["validation_schema", *(str(p) for p in exc.path)])
        raise SeleneError(JSON_PATH_INVALID, path, exc.message) from None


def merge(defaults: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in given.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate_parameters(analytic: Analytic, given: dict[str, Any], where: str) -> dict[str, Any]:
    """The parameters merged with the analytic's defaults; 12022 naming ``where.<path>`` if invalid.

    Every change of an analytic bumps its ``last_update_time``, so a remembered pass is never stale."""
    key = (analytic.analytic_id, analytic.last_update_time, json.dumps(given, sort_keys=True))
    passed = _PASSED.get(key)
    if passed is None:
        passed = _PASSED[key] = json.dumps(_validated(analytic, given, where))
        if len(_PASSED) > _PASSED_SIZE:
            _PASSED.popitem(last=False)
    else:
        _PASSED.move_to_end(key)
    return json.loads(passed)  # a fresh copy, sharing nothing with the analytic's defaults


def _validated(analytic: Analytic, given: dict[str, Any], where: str) -> dict[str, Any]:
    merged = merge(analytic.default_parameters, given)
    error = best_match(Draft202012Validator(analytic.validation_schema).iter_errors(merged))
    if error is not None:
        path = ".".join([where, *(str(p) for p in error.absolute_path)])
        raise SeleneError(JSON_PATH_INVALID, path, error.message)
    model = ANALYTIC_PARAMETERS.get(analytic.analytic_name)
    if model is not None and analytic.account_id is None:
        try:
            model.model_validate(merged)
        except ValidationError as exc:
            first = exc.errors()[0]
            path = ".".join([where, *(str(p) for p in first["loc"])])
            raise SeleneError(JSON_PATH_INVALID, path, first["msg"]) from None
    return merged
