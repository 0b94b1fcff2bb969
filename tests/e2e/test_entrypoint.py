from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from repo_automation.report import json_report
from repo_automation.sinks.action_outputs import OUTPUT_NAMES
from tests.sample_repo import SAMPLE_CONFIG, git

from .conftest import Run

EVENT_NAMES = ["push", "pull_request-opened", "pull_request-synchronize", "workflow_dispatch", "schedule"]


def _check_delivery(run: Run, *, event: str, repository: str, dry_run: bool) -> dict[str, Any]:
    """What every successful run must deliver: reports, outputs and summary that agree with each other."""
    assert "Traceback" not in run.stderr, run.stderr
    doc = run.report_json()
    assert json_report.validate(doc) == []
    assert doc["event_name"] == event.split("-")[0]
    assert doc["repository"] == repository
    assert doc["dry_run"] is dry_run
    md = (run.reports / "project-health-report.md").read_text(encoding="utf-8")
    assert md.startswith("# Project health report")
    date = doc["generated_at"][:10]
    assert (run.reports / f"automation-report-{date}.md").is_file()

    outputs = run.outputs()
    assert set(outputs) == set(OUTPUT_NAMES)
    assert outputs["report-json"] == "reports/project-health-report.json"
    assert outputs["report-markdown"] == "reports/project-health-report.md"
    assert (run.workspace / outputs["automation-report"]).is_file()
    counted = [f for f in doc["findings"] if f["state"] in ("active", "new")]
    assert outputs["findings-count"] == str(len(counted))
    overall = doc["health"]["overall"]
    assert outputs["health-score"] == ("" if overall is None else f"{overall:.1f}".rstrip("0").rstrip("."))
    assert outputs["dry-run"] == ("true" if dry_run else "false")
    assert outputs["policy-passed"] == ("true" if doc["policy"]["passed"] else "false")

    summary = run.summary_file.read_text(encoding="utf-8")
    assert summary.startswith("# repo-automation: ")
    assert "`reports/project-health-report.json`" in summary
    safe = git(run.home, "config", "--file", str(run.home / ".gitconfig"), "--get-all", "safe.directory")
    assert str(run.workspace) in safe.splitlines()
    return doc


@pytest.mark.parametrize("event", EVENT_NAMES)
def test_dry_run_for_each_event_delivers_and_writes_only_the_report_folder(
        event: str, run_action: Callable[..., Run]) -> None:
    run = run_action(event, inputs={"dry-run": "true"})
    assert run.status == 0, run.stderr
    repository = "octo-org/octo-repo" if event == "workflow_dispatch" else "Codertocat/Hello-World"
    doc = _check_delivery(run, event=event, repository=repository, dry_run=True)
    assert doc["policy"] == {"passed": True, "enforced": True, "reasons": [], "context": []}
    status = git(run.workspace, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert status and all(line.startswith("?? reports/") for line in status), status
    automation = next(run.reports.glob("automation-report-*.md")).read_text(encoding="utf-8")
    assert "Dry run: nothing was written outside the report folder" in automation


def test_bandit_findings_reach_reports_outputs_and_annotations(run_action: Callable[..., Run]) -> None:
    run = run_action("push")
    assert run.status == 0, run.stderr
    doc = _check_delivery(run, event="push", repository="Codertocat/Hello-World", dry_run=False)
    bandit = [f for f in doc["findings"] if f["tool"] == "bandit"]
    assert {f["location"]["path"] for f in bandit} == {"app/tasks.py"}
    assert any("shell" in f["title"].lower() for f in bandit)
    annotations = [line for line in run.stdout.splitlines() if line.startswith(("::error ", "::warning ", "::notice "))]
    assert len(annotations) == len(bandit)
    assert all("file=app/tasks.py,line=" in a for a in annotations)


def test_a_failing_policy_exits_1_and_still_writes_summary_and_outputs(
        workspace: Path, run_action: Callable[..., Run]) -> None:
    config = json.loads(json.dumps(SAMPLE_CONFIG))
    config["alerts"] = {"critical": {"conditions": ["git.commits_per_week >= 0"], "blocking": True},
                        "warning": {"conditions": ["reliability.uptime < 99.9"]}}
    (workspace / ".github" / "project-metrics.json").write_text(json.dumps(config), encoding="utf-8")
    run = run_action("schedule")
    assert run.status == 1, run.stderr
    _check_delivery(run, event="schedule", repository="Codertocat/Hello-World", dry_run=False)
    assert run.outputs()["alerts-count"] == "1"
    assert run.outputs()["policy-passed"] == "false"
    summary = run.summary_file.read_text(encoding="utf-8")
    assert "`git.commits_per_week >= 0`" in summary
    assert "**Failed** (exit status 1):\n\n- critical alert fired: git\\.commits\\_per\\_week &gt;= 0" in summary
    assert run.report_json()["policy"] == {
        "passed": False, "enforced": True, "reasons": ["critical alert fired: git.commits_per_week >= 0"],
        "context": []}
    assert run.report_json()["alert_rules_not_evaluated"] == [
        {"level": "warning", "condition": "reliability.uptime < 99.9", "missing": ["reliability.uptime"]}]
    assert "- warning: `reliability.uptime < 99.9` — missing `reliability.uptime`" in summary


def test_fail_on_policy_false_exits_0_and_says_the_failure_is_not_enforced(
        workspace: Path, run_action: Callable[..., Run]) -> None:
    config = json.loads(json.dumps(SAMPLE_CONFIG))
    config["alerts"] = {"critical": {"conditions": ["git.commits_per_week >= 0"], "blocking": True}}
    (workspace / ".github" / "project-metrics.json").write_text(json.dumps(config), encoding="utf-8")
    run = run_action("schedule", inputs={"fail-on-policy": "false"})
    assert run.status == 0, run.stderr
    assert "**Failed, not enforced**" in run.summary_file.read_text(encoding="utf-8")
    assert run.report_json()["policy"]["enforced"] is False


def test_secrets_are_masked_first_and_never_rendered(run_action: Callable[..., Run]) -> None:
    secret = "xoxb-not-a-real-token-5fa1c0ffee"
    run = run_action("workflow_dispatch", inputs={"sonar-token": secret, "dry-run": "true"})
    assert run.status == 0, run.stderr
    assert run.stdout.splitlines()[0] == f"::add-mask::{secret}"
    written = [run.output_file, run.summary_file, *run.reports.iterdir()]
    assert all(secret not in p.read_text(encoding="utf-8") for p in written)
    assert secret not in run.stderr


def test_passwords_inside_urls_are_masked_too(workspace: Path, run_action: Callable[..., Run]) -> None:
    """The history URL's password (an input) and the application database URL (named by the config)."""
    config = {"tracking": {"data_sources": {"database": {"url_env": "SHOP_DB",
                                                         "queries": {"app.orders": "SELECT 1"}}}}}
    (workspace / "with-db.json").write_text(json.dumps(config), encoding="utf-8")
    history_pw, app_pw = "hist-pw-7e3b9", "shop-pw-41c2d"
    app_url = f"postgresql://shop:{app_pw}@127.0.0.1:9/shop"
    run = run_action("workflow_dispatch",
                     inputs={"dry-run": "true", "config-path": "with-db.json",
                             "history-db": f"postgresql://h:{history_pw}@127.0.0.1:9/metrics"},
                     env={"SHOP_DB": app_url})
    masks = [line for line in run.stdout.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{history_pw}" in masks
    assert f"::add-mask::{app_url}" in masks and f"::add-mask::{app_pw}" in masks
    written = [run.output_file, run.summary_file, *run.reports.iterdir()]
    for secret in (history_pw, app_pw):
        assert all(secret not in p.read_text(encoding="utf-8") for p in written)
        assert secret not in run.stderr


@pytest.mark.parametrize(("inputs", "message"), [
    ({"format": "xml"}, "format must be one of markdown, json, both, got 'xml'"),
    ({"dry-run": "maybe"}, "dry-run: expected true or false, got 'maybe'"),
    ({"config-path": "broken.json"}, "broken.json is not valid JSON"),
    ({"command": "deploy"}, "command must be one of run, metrics, maintain"),
    ({"source-timeout": "soon"}, "source-timeout: expected a number, got 'soon'"),
    ({"output-dir": "app/tasks.py"}, "output-dir exists and is not a folder"),
])
def test_garbage_input_exits_2_with_a_message_and_writes_nothing(
        inputs: dict[str, str], message: str, workspace: Path, run_action: Callable[..., Run]) -> None:
    (workspace / "broken.json").write_text('{"alerts": {"critical": ', encoding="utf-8")
    secret = "ghp_not-a-real-token-0123456789"
    run = run_action("push", inputs={**inputs, "github-token": secret})
    assert run.status == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert run.stdout.splitlines()[0] == f"::add-mask::{secret}"
    assert not run.reports.exists()
    assert not run.output_file.exists() or run.output_file.read_text(encoding="utf-8") == ""
    assert not run.summary_file.exists()


BASE_CODE = '''def check(value):
    assert value, "value required"
    return value * 2
'''


def test_pull_request_mode_flags_only_what_the_pull_request_added(
        workspace: Path, run_action: Callable[..., Run]) -> None:
    """A real synchronize payload, its base and head pointed at two commits of the sample repository."""
    tasks = workspace / "app" / "tasks.py"
    tasks.write_text(BASE_CODE, encoding="utf-8")
    git(workspace, "commit", "-q", "-am", "Base: only an assert")
    base = git(workspace, "rev-parse", "HEAD").strip()
    tasks.write_text("import subprocess\n\n\ndef run(command):\n    return subprocess.call(command, shell=True)\n\n\n"
                     + BASE_CODE, encoding="utf-8")
    git(workspace, "commit", "-q", "-am", "Head: runs a shell command")
    head = git(workspace, "rev-parse", "HEAD").strip()
    config = json.loads(json.dumps(SAMPLE_CONFIG))
    config["automation"]["security_scanning"]["fail_on_high"] = True
    (workspace / ".github" / "project-metrics.json").write_text(json.dumps(config), encoding="utf-8")

    def point_at_sample(payload: dict[str, Any]) -> None:
        payload["pull_request"]["base"]["sha"] = base
        payload["pull_request"]["head"]["sha"] = head

    run = run_action("pull_request-synchronize", edit_payload=point_at_sample)
    assert run.status == 1, run.stderr  # a new high finding fails the check
    doc = _check_delivery(run, event="pull_request", repository="Codertocat/Hello-World", dry_run=False)
    states = {f["rule_id"]: f["state"] for f in doc["findings"] if f["tool"] == "bandit"}
    assert states["B602"] == "new" and states["B101"] == "existing"
    new = [f for f in doc["findings"] if f["state"] == "new"]
    assert run.outputs()["findings-count"] == str(len(new))
    annotated = [line for line in run.stdout.splitlines() if line.startswith(("::error ", "::warning ", "::notice "))]
    assert len(annotated) == len(new)  # existing findings are not annotated on the pull request
    assert any("title=bandit B602 (high)" in line for line in annotated)
    summary = run.summary_file.read_text(encoding="utf-8")
    assert "| high | new |" in summary and "| low | existing |" in summary


def test_json_format_writes_only_the_json_report_into_the_chosen_folder(run_action: Callable[..., Run]) -> None:
    run = run_action("push", inputs={"format": "json", "output-dir": "out/health", "dry-run": "true"})
    assert run.status == 0, run.stderr
    folder = run.workspace / "out" / "health"
    names = {p.name for p in folder.iterdir()}
    assert "project-health-report.json" in names and not [n for n in names if n.endswith(".md")]
    outputs = run.outputs()
    assert outputs["report-json"] == "out/health/project-health-report.json"
    assert outputs["report-markdown"] == "" and outputs["automation-report"] == ""
    assert not (run.workspace / "reports").exists()


def test_a_stored_run_then_the_rollup_command(run_action: Callable[..., Run]) -> None:
    stored = run_action(inputs={"store-db": "true", "history-db": "state/history.sqlite"})
    assert stored.status in (0, 1), stored.stderr
    repository = stored.report_json()["repository"]
    assert stored.report_json()["health"]["overall"] is not None  # a scored run: the roll-up lists it
    stored.summary_file.unlink()
    rolled = run_action(inputs={"command": "rollup", "history-db": "state/history.sqlite"})
    assert rolled.status == 0, rolled.stderr
    doc = json.loads((rolled.reports / "rollup-report.json").read_text(encoding="utf-8"))
    assert [r["repository"] for r in doc["repositories"]] == [repository]
    assert doc["repositories"][0]["overall"] == stored.report_json()["health"]["overall"]
    assert f"| `{repository}` |" in rolled.summary_file.read_text(encoding="utf-8")
