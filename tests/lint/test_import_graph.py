"""The import graph keeps the shape DESIGN.md draws: import-linter's contracts in pyproject.toml
([tool.importlinter]) hold for this tree — layers from the CLI down to the domain values, renderers and
verdict-showing sinks that read only the RunReport, a domain that imports nothing of ours, and no circle
anywhere. Imports inside functions count, so a circle cannot hide in one.

When it fails, the output is import-linter's own: each broken contract with the chain of imports that
breaks it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _lint_imports() -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "lint-imports"
    assert exe.exists(), "import-linter is not installed: install the project's test extras (pip install -e '.[test]')"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # this tree's package, not an installed copy
    return subprocess.run([str(exe), "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_every_import_contract_is_kept() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = pyproject["tool"]["importlinter"]["contracts"]
    assert {c["type"] for c in contracts} >= {"layers", "forbidden", "acyclic_siblings"}
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(contracts)} kept, 0 broken." in result.stdout, result.stdout
