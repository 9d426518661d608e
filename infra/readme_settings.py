"""Regenerate the README's settings table from the settings classes: `python -m infra.readme_settings`."""

from __future__ import annotations

import re
from pathlib import Path

from infra.settings import settings_rows

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"<!-- settings:start -->.*?<!-- settings:end -->", re.S)


def table() -> str:
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    for var, default, meaning in settings_rows():
        lines.append(f"| `{var}` | {f'`{default}`' if default else ''} | {meaning} |")
    return "\n".join(lines)


def main() -> None:
    text = README.read_text()
    README.write_text(_BLOCK.sub(lambda _: f"<!-- settings:start -->\n{table()}\n<!-- settings:end -->", text))


if __name__ == "__main__":
    main()
