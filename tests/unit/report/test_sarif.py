"""SARIF 2.1.0 output: valid against the schema, acceptable to GitHub code scanning, stable (golden file)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from repo_automation.domain import Finding, Health, Location, RunReport, Severity, SourceResult, Status
from repo_automation.pipeline import Stages, deliver
from repo_automation.report.sarif import to_sarif
from repo_automation.sinks.sarif import SarifWriter
from tests.helpers import make_context
from tests.unit.report.sarif_checks import github_problems, schema_problems

GOLDEN = Path(__file__).parent / "golden" / "report.sarif"

REQUIREMENTS = """\
# requests is pinned below; this comment must not be taken for the pin
types-requests==2.31.0.1
requests-oauthlib==1.3.1
requests==2.19.1
jinja2==2.10
"""


def _ok(name: str) -> SourceResult:
    return SourceResult(name=name, kind="scanner", status=Status.OK)


FINDINGS = (
    Finding(tool="bandit", rule_id="B602", severity=Severity.HIGH, confidence="HIGH", cwe=("CWE-78",),
            title="subprocess call with shell=True identified, security issue.",
            message="subprocess call with shell=True identified, security issue.", fingerprint="fp-b602-a",
            location=Location(path="app/shell.py", start_line=7, end_line=7),
            help_uri="https://bandit.readthedocs.io/en/1.9.0/plugins/b602_subprocess_popen_with_shell_equals_true.html"),
    Finding(tool="bandit", rule_id="B602", severity=Severity.MEDIUM, confidence="MEDIUM", cwe=("CWE-78",),
            title="subprocess call with shell=True identified, security issue.", fingerprint="fp-b602-b",
            location=Location(path="app/shell.py", start_line=11)),
    Finding(tool="bandit", rule_id="B303", severity=Severity.LOW, title="Use of insecure MD5 hash function.",
            fingerprint="fp-b303", cwe=("327",), location=Location(path="app/my file.py", start_line=3),
            state="new"),
    Finding(tool="bandit", rule_id="B105", severity=Severity.LOW, title="Possible hardcoded password",
            fingerprint="fp-b105", location=Location(path="app/web.py", start_line=9), state="ignored",
            note="test fixture"),
    Finding(tool="bandit", rule_id="B301", severity=Severity.MEDIUM, title="Pickle", fingerprint="fp-b301",
            location=Location(path="app/shell.py", start_line=15), state="fixed"),
    Finding(tool="pip-audit", rule_id="PYSEC-2018-28", severity=Severity.HIGH, package="requests",
            version="2.19.1", fixed_versions=("2.20.0",), ids=("PYSEC-2018-28", "CVE-2018-18074"),
            title="Requests sends Authorization headers to HTTP redirects",
            message="The Requests package before 2.20.0 sends an HTTP Authorization header to an http URI "
                    "upon receiving a same-hostname https-to-http redirect.",
            fingerprint="dep-requests-pysec-2018-28", location=Location(path="requirements.txt")),
    Finding(tool="pip-audit", rule_id="GHSA-462w-v97r-4m45", severity=Severity.CRITICAL, package="jinja2",
            version="2.10", ids=("GHSA-462w-v97r-4m45", "CVE-2019-10906"),
            title="Jinja2 sandbox escape via string formatting @security-team <b>now</b>",
            fingerprint="dep-jinja2-ghsa"),
    Finding(tool="pip-audit", rule_id="PYSEC-0000-1", severity=Severity.LOW, package="notpinned", version="1.0",
            title="A package no manifest names", fingerprint="dep-notpinned"),
)


SOURCES = (_ok("bandit"), _ok("pip-audit"), _ok("semgrep"),
           SourceResult(name="safety", kind="scanner", status=Status.FAILED, reason="needs SAFETY_API_KEY"))


def _report(findings=FINDINGS, sources=SOURCES) -> RunReport:
    return RunReport(schema_version="1.0", repository="acme/widgets",
                     generated_at=datetime(2026, 11, 29, 12, 0, tzinfo=UTC), dry_run=False, sha="a" * 40,
                     health=Health(overall=None, grade=None, categories={}), findings=tuple(findings),
                     sources=tuple(sources))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text(REQUIREMENTS, encoding="utf-8")
    return tmp_path


def _runs(log: dict) -> dict[str, dict]:
    return {run["tool"]["driver"]["name"]: run for run in log["runs"]}


def test_valid_sarif_and_acceptable_to_github(workspace: Path) -> None:
    log = to_sarif(_report(), workspace)
    assert schema_problems(log) == []
    assert github_problems(log) == []


def test_schema_check_catches_a_broken_log(workspace: Path) -> None:
    """The validators are not toothless: a result without a message is rejected by both."""
    log = to_sarif(_report(), workspace)
    del _runs(log)["bandit"]["results"][0]["message"]
    assert schema_problems(log)
    assert github_problems(log)


def test_one_run_per_scanner_that_ran_with_its_own_category(workspace: Path) -> None:
    runs = _runs(to_sarif(_report(), workspace))
    assert set(runs) == {"bandit", "pip-audit", "semgrep"}  # safety failed: no run, its alerts stay open
    assert runs["semgrep"]["results"] == []  # ran clean: an empty run closes its fixed alerts
    assert {r["automationDetails"]["id"] for r in runs.values()} == {
        "repo-automation/bandit/", "repo-automation/pip-audit/", "repo-automation/semgrep/"}


def test_rules_carry_severity_tags_and_help(workspace: Path) -> None:
    bandit = _runs(to_sarif(_report(), workspace))["bandit"]
    rules = {r["id"]: r for r in bandit["tool"]["driver"]["rules"]}
    b602 = rules["B602"]
    assert b602["properties"]["security-severity"] == "8.0"  # the worst of its findings (high)
    assert b602["properties"]["tags"] == ["security", "external/cwe/cwe-78"]
    assert b602["properties"]["precision"] == "high"
    assert b602["defaultConfiguration"]["level"] == "error"
    assert b602["helpUri"].startswith("https://bandit.readthedocs.io/")
    assert b602["help"]["text"].startswith("subprocess call with shell=True")
    assert "[More information](<https://bandit.readthedocs.io/" in b602["help"]["markdown"]
    assert rules["B303"]["properties"]["tags"] == ["security", "external/cwe/cwe-327"]
    assert rules["B303"]["properties"]["security-severity"] == "2.0"


def test_results_levels_locations_and_fingerprints(workspace: Path) -> None:
    bandit = _runs(to_sarif(_report(), workspace))["bandit"]
    results = bandit["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [("B602", "error"), ("B602", "warning"),
                                                           ("B303", "note")]
    first = results[0]
    assert first["partialFingerprints"] == {"repoAutomation/v1": "fp-b602-a"}
    phys = first["locations"][0]["physicalLocation"]
    assert phys["artifactLocation"] == {"uri": "app/shell.py", "uriBaseId": "%SRCROOT%"}
    assert phys["region"] == {"startLine": 7, "endLine": 7}
    assert results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "app/my%20file.py"


def test_ignored_baseline_and_fixed_findings_are_left_out_with_a_notice(workspace: Path) -> None:
    bandit = _runs(to_sarif(_report(), workspace))["bandit"]
    prints = {r["partialFingerprints"]["repoAutomation/v1"] for r in bandit["results"]}
    assert "fp-b105" not in prints and "fp-b301" not in prints
    [note] = bandit["invocations"][0]["toolExecutionNotifications"]
    assert "1 ignored or baseline finding(s) left out" in note["message"]["text"]


def test_dependency_findings_point_at_the_pinning_line(workspace: Path) -> None:
    audit = _runs(to_sarif(_report(), workspace))["pip-audit"]
    where = {r["ruleId"]: r["locations"][0]["physicalLocation"] for r in audit["results"]}
    # requests: the path came from the scanner, the line is found (not the comment, not types-requests)
    assert where["PYSEC-2018-28"]["artifactLocation"]["uri"] == "requirements.txt"
    assert where["PYSEC-2018-28"]["region"]["startLine"] == 4
    # jinja2: no location at all: found among the usual manifests
    assert where["GHSA-462w-v97r-4m45"]["region"]["startLine"] == 5
    assert "PYSEC-0000-1" not in where  # nowhere to put it: left out, and said so
    notes = [n["message"]["text"] for n in audit["invocations"][0]["toolExecutionNotifications"]]
    assert notes == ["1 finding(s) left out: no file or manifest line could be found for them"]
    msg = {r["ruleId"]: r["message"]["text"] for r in audit["results"]}
    assert msg["PYSEC-2018-28"] == ("requests 2.19.1 is vulnerable (PYSEC-2018-28): Requests sends Authorization "
                                    "headers to HTTP redirects; fixed in 2.20.0")


def test_untrusted_text_is_inert_in_help_markdown(workspace: Path) -> None:
    audit = _runs(to_sarif(_report(), workspace))["pip-audit"]
    rule = next(r for r in audit["tool"]["driver"]["rules"] if r["id"] == "GHSA-462w-v97r-4m45")
    md = rule["help"]["markdown"]
    assert "<b>" not in md and "&lt;b&gt;" in md
    assert "@security-team" not in md  # no mention: a zero-width joiner follows the @
    assert rule["properties"]["security-severity"] == "9.5"
    assert "No fixed version of jinja2 is known yet." in rule["help"]["text"]


def test_results_are_truncated_most_severe_first_with_a_notice(workspace: Path) -> None:
    many = [Finding(tool="bandit", rule_id=f"B{100 + i}", severity=[Severity.LOW, Severity.HIGH][i % 2],
                    title=f"issue {i}", fingerprint=f"fp{i}", location=Location(path="a.py", start_line=i + 1))
            for i in range(12)]
    log = to_sarif(_report(many, (_ok("bandit"),)), workspace, max_results=5)
    [run] = log["runs"]
    assert len(run["results"]) == 5
    assert {r["level"] for r in run["results"]} == {"error"}  # the six high ones come first
    assert len(run["tool"]["driver"]["rules"]) == 5  # only rules that have results
    [note] = run["invocations"][0]["toolExecutionNotifications"]
    assert note["message"]["text"].startswith("7 of 12 results left out (most severe kept)")
    assert schema_problems(log) == [] and github_problems(log) == []


def test_results_are_halved_until_the_file_fits(workspace: Path) -> None:
    many = [Finding(tool="bandit", rule_id="B1", severity=Severity.LOW, title="x" * 500, message="y" * 2000,
                    fingerprint=f"fp{i}", location=Location(path="a.py", start_line=i + 1)) for i in range(40)]
    log = to_sarif(_report(many, (_ok("bandit"),)), workspace, max_bytes=30_000)
    assert len(json.dumps(log, separators=(",", ":"))) <= 30_000
    assert 0 < len(log["runs"][0]["results"]) < 40


def test_golden_file(workspace: Path) -> None:
    text = json.dumps(to_sarif(_report(), workspace), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_writer_writes_the_file_even_in_dry_run(workspace: Path) -> None:
    ctx = make_context(workspace, dry_run=True, output_dir=Path("out"))
    final = deliver(_report(), Stages(writers=[SarifWriter.from_context(ctx)]), ctx)
    path = workspace / "out" / "repo-automation.sarif"
    log = json.loads(path.read_text(encoding="utf-8"))
    assert log == to_sarif(_report(), workspace)
    [action] = final.actions
    assert action.performed and action.target == str(path)
    assert action.description.startswith("wrote out/repo-automation.sarif: 5 result(s) from bandit, pip-audit, semgrep")
    assert [p.name for p in (workspace / "out").iterdir()] == ["repo-automation.sarif"]  # no temp files left


def test_writer_skips_when_no_scanner_ran(workspace: Path) -> None:
    ctx = make_context(workspace, output_dir=Path("out"))
    report = _report((), (SourceResult(name="bandit", kind="scanner", status=Status.SKIPPED, reason="x"),))
    final = deliver(report, Stages(writers=[SarifWriter.from_context(ctx)]), ctx)
    assert final.actions == ()
    assert final.sources[-1].status is Status.SKIPPED
    assert not (workspace / "out" / "repo-automation.sarif").exists()
