"""The adapters' parsers: safety on the output of a real run, trivy and semgrep shapes, garbage rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repo_automation.domain import Finding, Location, Severity
from repo_automation.errors import SourceFailed
from repo_automation.scanners import bandit, merge_findings, safety, semgrep, trivy
from repo_automation.scanners.fingerprint import dependency_fingerprint
from repo_automation.scanners.osv import base_url, severity_of

DATA = Path(__file__).resolve().parents[2] / "data"
FIXTURE = DATA / "scan_fixture"


def test_safety_report_of_a_real_run() -> None:
    text = (DATA / "safety" / "check-2.3.5.json").read_text(encoding="utf-8")
    lines = (FIXTURE / "requirements.txt").read_text(encoding="utf-8").splitlines()
    findings = safety.parse_report(text, "requirements.txt", lines)
    assert [(f.package, f.version, f.ids) for f in findings] == [
        ("jinja2", "2.10", ("SAFETY-39525", "CVE-2020-28493")),
        ("requests", "2.19.1", ("SAFETY-36546", "CVE-2018-18074")),
    ]
    assert json.loads(text)["report_meta"]["vulnerabilities_found"] == len(findings)
    f = findings[0]
    assert f.tool == "safety" and f.severity is Severity.UNKNOWN  # that database gives none
    assert f.location == Location(path="requirements.txt", start_line=2, end_line=2)
    assert f.help_uri is None  # the report's "None" string is not a URL
    assert f.fingerprint == dependency_fingerprint("jinja2", ["PYSEC-2021-66", "CVE-2020-28493"])


def test_safety_and_pip_audit_findings_of_one_advisory_merge() -> None:
    text = (DATA / "safety" / "check-2.3.5.json").read_text(encoding="utf-8")
    from_safety = safety.parse_report(text, "requirements.txt")
    ids = ("PYSEC-2021-66", "GHSA-g3rq-g295-4j3m", "CVE-2020-28493")
    from_pip_audit = Finding(tool="pip-audit", rule_id=ids[0], severity=Severity.MEDIUM, title="jinja2 2.10",
                             fingerprint=dependency_fingerprint("jinja2", ids), package="jinja2", version="2.10",
                             fixed_versions=("2.11.3",), ids=ids, location=Location(path="requirements.txt"))
    merged = merge_findings([from_pip_audit, *from_safety])
    assert len(merged) == 2  # jinja2 merged, requests (safety only) kept
    jinja = merged[0]
    assert jinja.tool == "pip-audit+safety"
    assert jinja.ids[0] == "PYSEC-2021-66" and "SAFETY-39525" in jinja.ids
    assert jinja.severity is Severity.MEDIUM and jinja.fixed_versions == ("2.11.3",)
    assert jinja.fingerprint == from_pip_audit.fingerprint
    assert merged[1].tool == "safety" and merged[1].package == "requests"


def test_merge_keeps_distinct_code_findings_and_drops_exact_duplicates() -> None:
    a = Finding(tool="bandit", rule_id="B602", severity=Severity.HIGH, title="t", fingerprint="1" * 32)
    b = Finding(tool="bandit", rule_id="B602", severity=Severity.HIGH, title="t", fingerprint="2" * 32)
    assert merge_findings([a, b, a]) == [a, b]


def test_safety_scan_3x_shape() -> None:
    report = {"scan_results": {"projects": [{"files": [{"location": "requirements.txt", "results": {
        "dependencies": [{"name": "jinja2", "specifications": [{"raw": "jinja2==2.10", "vulnerabilities": {
            "known_vulnerabilities": [{"id": "70612", "vulnerable_spec": "<3.1.3"},
                                      {"id": "1", "ignored": {"reason": "x"}}]}}]}]}}]}]}}
    findings = safety.parse_report(json.dumps(report), "requirements.txt")
    assert [(f.package, f.version, f.rule_id) for f in findings] == [("jinja2", "2.10", "SAFETY-70612")]


@pytest.mark.parametrize("module", [bandit, semgrep, safety, trivy])
def test_garbage_is_a_failure_with_a_reason(module: object) -> None:
    parse = module.parse_report  # type: ignore[attr-defined]
    args = {bandit: (FIXTURE,), semgrep: (FIXTURE,), safety: ("requirements.txt",), trivy: ()}[module]
    with pytest.raises(SourceFailed, match="not JSON"):
        parse("Traceback (most recent call last):", *args)
    with pytest.raises(SourceFailed):
        parse("[1, 2]", *args)


def test_trivy_vulnerabilities_and_secrets() -> None:
    # shaped like `trivy fs --format json` (schema version 2): Results[].Vulnerabilities / Secrets
    report = {"SchemaVersion": 2, "Results": [
        {"Target": "requirements.txt", "Class": "lang-pkgs", "Type": "pip", "Vulnerabilities": [
            {"VulnerabilityID": "CVE-2020-28493", "PkgName": "Jinja2", "InstalledVersion": "2.10",
             "FixedVersion": "2.11.3", "Severity": "MEDIUM", "CweIDs": ["CWE-400"],
             "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2020-28493", "Title": "ReDoS"}]},
        {"Target": "app/settings.py", "Class": "secret", "Secrets": [
            {"RuleID": "aws-access-key-id", "Severity": "CRITICAL", "Title": "AWS Access Key ID",
             "StartLine": 3, "EndLine": 3, "Match": "KEY = ****"}]}]}
    vuln, secret = trivy.parse_report(json.dumps(report))
    assert vuln.package == "jinja2" and vuln.severity is Severity.MEDIUM and vuln.cwe == ("CWE-400",)
    assert vuln.fingerprint == dependency_fingerprint("jinja2", ["PYSEC-2021-66", "CVE-2020-28493"])
    assert secret.severity is Severity.CRITICAL and secret.location and secret.location.path == "app/settings.py"
    assert secret.fingerprint


def test_semgrep_rule_prefix_is_removed(tmp_path: Path) -> None:
    rules = tmp_path / "rules" / "py.yml"
    prefixes = semgrep.rule_prefixes([rules], tmp_path)
    report = {"results": [{"check_id": "rules.shell-true", "path": "a.py", "start": {"line": 1, "col": 1},
                           "end": {"line": 1, "col": 5}, "extra": {"severity": "ERROR", "message": "m",
                                                                   "metadata": {"cwe": ["CWE-78: x"]}}}]}
    (f,) = semgrep.parse_report(json.dumps(report), tmp_path, prefixes)
    assert f.rule_id == "shell-true" and f.severity is Severity.HIGH and f.cwe == ("CWE-78",)


def test_osv_severity_from_database_specific_and_cvss() -> None:
    assert severity_of({"database_specific": {"severity": "MODERATE"}}) is Severity.MEDIUM
    v31 = {"severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]}
    assert severity_of(v31) is Severity.CRITICAL  # 9.8
    v4 = {"severity": [{"type": "CVSS_V4",
                        "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"}]}
    assert severity_of(v4) is Severity.MEDIUM  # 6.9
    assert severity_of({"severity": [{"type": "CVSS_V3", "score": "garbage"}]}) is Severity.UNKNOWN
    assert severity_of({}) is Severity.UNKNOWN


def test_osv_base_url() -> None:
    assert base_url("http://127.0.0.1:8080/v1/query") == "http://127.0.0.1:8080"
    assert base_url("https://osv.example/") == "https://osv.example"
    assert base_url(None) == "https://api.osv.dev"
