"""Print the README's inputs/outputs tables from action.yml: `python -m devtools.action_table`.

README.md holds the output between `<!-- action-table:start -->` and `<!-- action-table:end -->`; a test
keeps the two equal, so the README cannot drift from what the action declares.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from repo_automation.errors import UsageError
from repo_automation.report.escape import escape_code

START = "<!-- action-table:start -->"
END = "<!-- action-table:end -->"


def load_action(path: Path) -> dict[str, Any]:
    import yaml  # lazily; PyYAML

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    except yaml.YAMLError as e:
        raise UsageError(f"{path} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path} does not hold an action definition")
    return data


def _cell(text: object) -> str:
    """Our own descriptions: only what would break a table row is escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def _default(value: object) -> str:
    if value is None or value == "":
        return ""
    return escape_code(value).replace("|", "\\|")


def table(action: Mapping[str, Any]) -> str:
    """The Markdown tables of inputs (name, description, default) and outputs (name, description)."""
    lines = ["### Inputs", "", "| Input | Description | Default |", "|---|---|---|"]
    for name, spec in (action.get("inputs") or {}).items():
        spec = spec or {}
        lines.append(f"| `{name}` | {_cell(spec.get('description', ''))} | {_default(spec.get('default'))} |")
    lines += ["", "### Outputs", "", "| Output | Description |", "|---|---|"]
    for name, spec in (action.get("outputs") or {}).items():
        lines.append(f"| `{name}` | {_cell((spec or {}).get('description', ''))} |")
    return "\n".join(lines) + "\n"


def readme_section(readme: str) -> str | None:
    """The text between the action-table markers (None when the markers are missing)."""
    start, end = readme.find(START), readme.find(END)
    if start < 0 or end < start:
        return None
    return readme[start + len(START): end].strip("\n") + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.action_table", description=__doc__)
    parser.add_argument("action", nargs="?", type=Path, default=Path("action.yml"), help="default: action.yml")
    ns = parser.parse_args(argv)
    try:
        sys.stdout.write(table(load_action(ns.action)))
    except UsageError as e:
        sys.stderr.write(f"action_table: error: {e}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
