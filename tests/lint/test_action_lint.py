"""Lint the action itself: the example workflows, action.yml and the Dockerfile, with the tools GitHub users
run (actionlint, check-jsonschema's SchemaStore schemas, hadolint). All of them work offline.

Each test shows the tool's own output when it fails, so the message says what to fix.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from repo_automation.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
ACTION_REF = "repo-automation/repo-automation@v1"


def tool(name: str) -> str:
    """The linter from the test environment (next to this Python first, then PATH); never skipped."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is not installed: install the project's test extras (pip install -e '.[test]')"
    return found


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


def explain(proc: subprocess.CompletedProcess[str]) -> str:
    return f"{' '.join(proc.args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def action_steps(path: Path) -> list[dict[str, Any]]:
    """Every step of the workflow that runs this action."""
    jobs = load(path)["jobs"].values()
    return [s for job in jobs for s in job.get("steps", []) if s.get("uses") == ACTION_REF]


def test_the_six_example_workflows_are_present() -> None:
    names = {p.name for p in WORKFLOWS}
    assert names == {"daily.yml", "dispatch-dry-run.yml", "pull-request.yml", "weekly-maintenance.yml",
                     "monthly-report.yml", "org-fan-out.yml"}


def test_actionlint_passes_on_every_example_workflow() -> None:
    proc = run_tool(tool("actionlint"), "-no-color", *map(str, WORKFLOWS))
    assert proc.returncode == 0, explain(proc)


def test_example_workflows_follow_the_github_workflow_schema() -> None:
    proc = run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS))
    assert proc.returncode == 0, explain(proc)


def test_action_metadata_follows_the_github_action_schema() -> None:
    proc = run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ROOT / "action.yml"))
    assert proc.returncode == 0, explain(proc)


def test_dockerfile_is_hadolint_clean() -> None:
    proc = run_tool(tool("hadolint"), "--no-color", str(ROOT / "Dockerfile"))
    assert proc.returncode == 0, explain(proc)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_examples_pass_only_inputs_the_action_declares(path: Path) -> None:
    """The runner only warns about an unknown input and the action never sees it: a typo silently does nothing."""
    declared = set(load(ROOT / "action.yml")["inputs"])
    steps = action_steps(path)
    assert steps, f"{path.name} never runs {ACTION_REF}"
    for step in steps:
        unknown = set(step.get("with", {})) - declared
        assert not unknown, f"{path.name}: inputs not declared in action.yml: {sorted(unknown)}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_examples_keep_history_reports_and_etags(path: Path) -> None:
    """What each example promises its user: full git history, the reports kept, the ETag cache carried over."""
    steps = [s for job in load(path)["jobs"].values() for s in job["steps"]]
    uses = [str(s.get("uses", "")) for s in steps]
    checkout = [s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkout and all(s["with"]["fetch-depth"] == 0 for s in checkout), "the git collector needs fetch-depth: 0"
    assert any(u.startswith("actions/upload-artifact@") for u in uses), "the reports are never uploaded"
    etag_file = str(Settings().etag_cache)
    cache_paths = [str(s["with"]["path"]) for s in steps if str(s.get("uses", "")).startswith("actions/cache")]
    restored = [u for u in uses if u.startswith(("actions/cache@", "actions/cache/restore@"))]
    saved = [u for u in uses if u.startswith(("actions/cache@", "actions/cache/save@"))]
    assert restored and saved, "the ETag cache is not both restored and saved"
    assert cache_paths and all(etag_file in p for p in cache_paths), f"the cache does not keep {etag_file}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_examples_declare_least_privilege_permissions(path: Path) -> None:
    """Without a permissions block the token gets the repository's default, often write-all."""
    data = load(path)
    perms = data.get("permissions")
    assert isinstance(perms, dict), f"{path.name}: no top-level permissions map"
    assert "write-all" not in str(perms) and "read-all" not in str(perms)
    for job in data["jobs"].values():
        assert job.get("permissions", perms) != "write-all"
    writes = {k for k, v in perms.items() if v == "write"}
    runs_with = [s.get("with", {}) for s in action_steps(path)]
    if "issues" in writes:
        assert any("create-issues" in w for w in runs_with), f"{path.name}: issues: write but never creates issues"
    sarif = [s for job in data["jobs"].values() for s in job["steps"]
             if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert ("security-events" in writes) == bool(sarif), f"{path.name}: security-events: write iff SARIF is uploaded"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_sarif_upload_points_at_the_file_the_action_writes(path: Path) -> None:
    """A wrong sarif_file uploads nothing, and code scanning silently keeps stale alerts."""
    from repo_automation.sinks.sarif import FILENAME

    data = load(path)
    output_dirs = {str(s.get("with", {}).get("output-dir", Settings().output_dir)) for s in action_steps(path)}
    for job in data["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("github/codeql-action/upload-sarif@"):
                expected = {f"{d.rstrip('/')}/{FILENAME}" for d in output_dirs}
                assert step["with"]["sarif_file"] in expected, f"{path.name}: SARIF is written to {expected}"
                assert f"hashFiles('{step['with']['sarif_file']}')" in str(step.get("if", "")), (
                    f"{path.name}: upload only when the file exists (an empty upload closes every open alert)")


def test_workflows_sharing_a_cache_use_the_same_paths() -> None:
    """The path list is part of a cache entry's identity: with another list the restore silently misses."""
    seen: dict[str, set[str]] = {}
    for path in WORKFLOWS:
        for job in load(path)["jobs"].values():
            for step in job["steps"]:
                if str(step.get("uses", "")).startswith("actions/cache"):
                    prefix = str(step["with"]["key"]).split("${{")[0]
                    seen.setdefault(prefix, set()).add(str(step["with"]["path"]).strip())
    assert seen, "no workflow keeps a cache"
    mismatched = {prefix: sorted(paths) for prefix, paths in seen.items() if len(paths) > 1}
    assert not mismatched, f"one cache key prefix, several path lists: {mismatched}"


def test_the_readme_workflow_snippet_lints_and_uses_only_declared_inputs(tmp_path: Path) -> None:
    """Users copy the README's snippet first: it must be a valid workflow, like the examples."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
    assert blocks, "README.md has no yaml workflow snippet"
    snippet = tmp_path / "readme-snippet.yml"
    snippet.write_text("name: readme snippet\n" + blocks[0], encoding="utf-8")
    proc = run_tool(tool("actionlint"), "-no-color", str(snippet))
    assert proc.returncode == 0, explain(proc)
    proc = run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(snippet))
    assert proc.returncode == 0, explain(proc)
    declared = set(load(ROOT / "action.yml")["inputs"])
    for step in action_steps(snippet):
        assert set(step.get("with", {})) <= declared, step
