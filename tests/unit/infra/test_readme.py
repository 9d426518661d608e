from __future__ import annotations

from pathlib import Path

from infra.settings import settings_rows

README = Path(__file__).resolve().parents[3] / "README.md"


def test_readme_starts_with_the_two_commands() -> None:
    text = README.read_text()
    head = text[: text.index("## Architecture")]
    assert "make run" in head and "make test" in head


def test_readme_documents_every_setting() -> None:
    text = README.read_text()
    missing = [var for var, _, _ in settings_rows() if f"`{var}`" not in text]
    assert missing == [], "run `python -m infra.readme_settings` to update the README"
