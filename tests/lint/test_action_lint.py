"""Lint the action itself: the example workflows, action.yml and the Dockerfile, with the tools GitHub users
run (actionlint, check-jsonschema's SchemaStore schemas, hadolint). All of them work offline.

Each test shows the tool's own output when it fails, so the message says what to fix.
"""

from __future__ import annotations

import re
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
OWN_WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))  # this repository's own: release.yml
RELEASE = ROOT / ".github" / "workflows" / "release.yml"
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


def test_the_seven_example_workflows_are_present() -> None:
    names = {p.name for p in WORKFLOWS}
    assert names == {"daily.yml", "dispatch-dry-run.yml", "pull-request.yml", "weekly-maintenance.yml",
                     "monthly-report.yml", "org-fan-out.yml", "pages.yml"}


def test_the_pages_example_publishes_the_page_the_action_writes_and_only_its_deploy_job_may_publish() -> None:
    """The uploaded folder is the dashboard's (output-dir/dashboard), and only the job that deploys holds
    pages: write and id-token: write; the job that runs the action (and holds the checkout) only reads."""
    from repo_automation.sinks.dashboard import DASHBOARD_PAGE

    path = ROOT / "examples" / "workflows" / "pages.yml"
    data = load(path)
    assert data["permissions"] == {"contents": "read"}
    (step,) = action_steps(path)
    assert step["with"]["dashboard"] is True
    folder = f"{step['with']['output-dir'].rstrip('/')}/{DASHBOARD_PAGE.parent.as_posix()}/"
    steps = {name: job["steps"] for name, job in data["jobs"].items()}
    uploads = [s for s in steps["build"] if str(s.get("uses", "")).startswith("actions/upload-pages-artifact@")]
    assert [s["with"]["path"] for s in uploads] == [folder]
    assert [str(s["uses"]).split("@")[0] for s in steps["deploy"]] == ["actions/deploy-pages"]
    assert data["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    assert "write" not in data["jobs"]["build"]["permissions"].values()


def test_actionlint_passes_on_every_example_workflow() -> None:
    proc = run_tool(tool("actionlint"), "-no-color", *map(str, WORKFLOWS))
    assert proc.returncode == 0, explain(proc)


def test_example_workflows_follow_the_github_workflow_schema() -> None:
    proc = run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS))
    assert proc.returncode == 0, explain(proc)


def test_the_repositorys_own_workflows_pass_actionlint_and_the_schema() -> None:
    assert RELEASE in OWN_WORKFLOWS, "no release workflow"
    proc = run_tool(tool("actionlint"), "-no-color", *map(str, OWN_WORKFLOWS))
    assert proc.returncode == 0, explain(proc)
    proc = run_tool(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, OWN_WORKFLOWS))
    assert proc.returncode == 0, explain(proc)


def permissions_needed(job: dict[str, Any]) -> dict[str, str]:
    """What a job's steps need of the token: reading the checkout, pushing to ghcr.io, signing attestations
    (an OIDC token, then storing them), pushing git refs or creating a release."""
    need: dict[str, str] = {}
    for step in job.get("steps", []):
        uses, run = str(step.get("uses", "")), str(step.get("run", ""))
        if uses.startswith("actions/checkout@"):
            need.setdefault("contents", "read")
        if uses.startswith("docker/build-push-action@") and step.get("with", {}).get("push"):
            need["packages"] = "write"
        if uses.startswith(("actions/attest-build-provenance@", "actions/attest-sbom@")):
            need |= {"id-token": "write", "attestations": "write"}
        if "git push" in run or "gh release create" in run:
            need["contents"] = "write"
    return need


def test_the_release_workflow_grants_each_job_exactly_what_its_steps_need() -> None:
    """A release job holds a token that can push images, tags and attestations: nothing beyond its steps."""
    data = load(RELEASE)
    assert data["permissions"] == {}, "the workflow's default must be no permissions at all"
    for name, job in data["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"job {name} does not declare its permissions"
        assert job["permissions"] == permissions_needed(job), f"job {name}"
    writes = {k for job in data["jobs"].values() for k, v in job["permissions"].items() if v == "write"}
    assert writes == {"contents", "packages", "id-token", "attestations"}, writes


def test_the_release_pushes_attests_and_pins_the_image_by_digest() -> None:
    """What users of a tag rely on: the image is pushed, its provenance and SBOM attested beside it in the
    registry, and action.yml rewritten to that digest from the build's own output."""
    image = load(RELEASE)["jobs"]["image"]
    steps = {str(s.get("uses", "")).split("@")[0]: s for s in image["steps"] if s.get("uses")}
    build = steps["docker/build-push-action"]
    assert build["with"]["push"] is True and build["id"] == "build"
    digest = "${{ steps.build.outputs.digest }}"
    for attest in ("actions/attest-build-provenance", "actions/attest-sbom"):
        assert steps[attest]["with"]["subject-digest"] == digest, attest
        assert steps[attest]["with"]["push-to-registry"] is True, attest
    assert steps["actions/attest-sbom"]["with"]["sbom-path"] == steps["anchore/sbom-action"]["with"]["output-file"]
    assert image["outputs"]["digest"] == digest
    release = load(RELEASE)["jobs"]["release"]
    runs = "\n".join(str(s.get("run", "")) for s in release["steps"])
    assert "devtools.release pin-image" in runs and "devtools.release notes" in runs
    assert "needs.image.outputs.digest" in str(release["steps"])


PINNED = re.compile(r"[^@\s]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})")


@pytest.mark.parametrize("path", WORKFLOWS + OWN_WORKFLOWS, ids=lambda p: p.name)
def test_every_action_a_workflow_uses_is_pinned_to_a_release(path: Path) -> None:
    """A branch (`@main`) or no ref runs whatever was pushed last. This repository pins actions to a release
    tag (`@v5`), or a full commit SHA; a local action (`./`) is the checked-out code itself."""
    uses = [str(s["uses"]) for job in load(path)["jobs"].values() for s in job.get("steps", []) if "uses" in s]
    unpinned = [u for u in uses if not u.startswith("./") and not PINNED.fullmatch(u)]
    assert not unpinned, f"{path.name}: not pinned to a release: {unpinned}"


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


def test_the_pull_request_workflow_uploads_no_partial_sarif() -> None:
    """PR mode (on by default) scans only the changed files and the action writes no SARIF then; uploading one
    anyway would make code scanning close the alerts of every unchanged file."""
    from repo_automation import config as config_mod

    assert config_mod.defaults().security_scanning.pr_mode is True
    data = load(ROOT / "examples" / "workflows" / "pull-request.yml")
    uploads = [s for job in data["jobs"].values() for s in job["steps"]
               if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif@")]
    assert uploads == []



def scanning(path: Path) -> bool:
    return any(str(s.get("with", {}).get("command")) == "run" for s in action_steps(path))


def test_the_scanning_examples_are_the_ones_expected() -> None:
    assert [p.name for p in WORKFLOWS if scanning(p)] == ["daily.yml", "dispatch-dry-run.yml", "pages.yml",
                                                          "pull-request.yml"]


@pytest.mark.parametrize("path", [p for p in WORKFLOWS if scanning(p)], ids=lambda p: p.name)
def test_examples_that_scan_restore_the_advisory_severities(path: Path) -> None:
    """A runner starts empty: without the severity store in the cache, every audit asks OSV once per pin."""
    from repo_automation.scanners.osv import STORE_PATH

    steps = [s for job in load(path)["jobs"].values() for s in job["steps"]]
    restored = [str(s["with"]["path"]) for s in steps if str(s.get("uses", "")).startswith("actions/cache/restore@")]
    assert any(str(STORE_PATH) in p.split() for p in restored), f"{path.name} never restores {STORE_PATH}"
