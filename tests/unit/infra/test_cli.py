from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from infra.root.cli import export_schemas
from infra.settings import ALL_SETTINGS, env_name, settings_rows
from schemas.registry import contract_models
from schemas.topics import CATALOGUE


def test_schemas_export_writes_every_model_topic_and_error(tmp_path: Path) -> None:
    written = export_schemas(tmp_path / "out")
    names = {p.name for p in written}
    assert {f"{name}.json" for name in contract_models()} <= names
    assert {"topics.json", "errors.json", "FrameHeader.json", "DeadLetter.json"} <= names
    topics = json.loads((tmp_path / "out" / "topics.json").read_text())
    assert [t["name"] for t in topics] == [t.name for t in CATALOGUE]
    header = json.loads((tmp_path / "out" / "FrameHeader.json").read_text())
    assert {"stream_id", "version", "frame_number"} <= set(header["required"])
    codes = {e["error_code"] for e in json.loads((tmp_path / "out" / "errors.json").read_text())}
    assert {12012, 12022, 44014, 44015} <= codes


def test_settings_table_lists_every_env_var() -> None:
    listed = {row[0] for row in settings_rows()}
    assert listed == {env_name(cls, f) for cls in ALL_SETTINGS for f in cls.model_fields}


def test_cli_runs_as_a_program(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.root.cli", "schemas", "export", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "infra.root.cli", "nonsense"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "invalid choice" in bad.stderr
