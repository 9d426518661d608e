"""The import-linter contract on processors names exactly the processors the worker runs."""

from __future__ import annotations

import tomllib
from pathlib import Path

from infra.root.worker import PROCESSORS

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"


def test_processor_contract_lists_every_processor() -> None:
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c.get("id") == "processors"]
    assert set(contract["modules"]) == {p.__name__ for p in PROCESSORS}
