from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from devtools import action_table
from repo_automation.settings import FIELDS, Settings
from repo_automation.sinks.action_outputs import OUTPUTS

ROOT = Path(__file__).resolve().parents[2]


def _action() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _default(spec_name: str) -> str | None:
    value = getattr(Settings(workspace=ROOT), spec_name)
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def test_action_inputs_are_exactly_the_settings_fields() -> None:
    inputs = _action()["inputs"]
    specs = {s.input: s for s in FIELDS if s.input is not None}
    assert list(inputs) == list(specs)
    for name, spec in specs.items():
        assert inputs[name]["description"] == spec.description, name
        assert inputs[name].get("required", False) is False, name
        expected = "${{ github.token }}" if name == "github-token" else _default(spec.name)
        if not spec.input_default:
            expected = None  # the runner would pass a default as INPUT_*, shadowing the environment variable
        assert inputs[name].get("default") == expected, name


def test_action_outputs_are_what_the_writer_sets() -> None:
    outputs = _action()["outputs"]
    assert {k: v["description"] for k, v in outputs.items()} == OUTPUTS


def test_action_runs_the_dockerfile() -> None:
    action = _action()
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert action["name"] and action["description"] and action["branding"]["icon"]


def test_table_generator_prints_every_input_and_output() -> None:
    proc = subprocess.run([sys.executable, "-m", "devtools.action_table", str(ROOT / "action.yml")],
                          capture_output=True, text=True, timeout=60, check=True)
    lines = proc.stdout.splitlines()
    assert "| `github-token` | Token for the GitHub API (the workflow's github.token by default). " \
           "| `${{ github.token }}` |" in lines
    assert sum(1 for line in lines if line.startswith("| `")) == len(_action()["inputs"]) + len(OUTPUTS)


def test_table_generator_rejects_a_missing_file(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "devtools.action_table", str(tmp_path / "nope.yml")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2 and "cannot read" in proc.stderr


def test_readme_holds_exactly_the_generated_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = action_table.readme_section(readme)
    assert section is not None, f"README.md lacks {action_table.START} … {action_table.END}"
    assert section == action_table.table(_action()), "regenerate: python -m devtools.action_table"
