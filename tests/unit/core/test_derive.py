"""Derived metrics: the security counts from the findings and the maintainability rating from radon's index."""

from __future__ import annotations

from repo_automation.core.derive import derive_metrics
from repo_automation.domain import Finding, Metric, Severity, SourceResult, Status


def _finding(n: int, severity: Severity, *, tool: str = "bandit", state: str = "active",
             package: str | None = None) -> Finding:
    return Finding(tool=tool, rule_id=f"R{n}", severity=severity, title=f"t{n}", fingerprint=f"fp{n}",
                   state=state, package=package)


def _ok(name: str) -> SourceResult:
    return SourceResult(name=name, kind="scanner", status=Status.OK)


def _values(metrics: list[Metric]) -> dict[str, float]:
    return {m.name: m.value for m in metrics}


def test_counts_by_severity_and_state() -> None:
    findings = [
        _finding(1, Severity.CRITICAL, tool="pip-audit", package="jinja2"),
        _finding(2, Severity.HIGH, state="new"),
        _finding(3, Severity.HIGH, state="baseline"),
        _finding(4, Severity.HIGH, state="fixed"),      # not counted
        _finding(5, Severity.CRITICAL, state="ignored"),  # not counted
        _finding(6, Severity.MEDIUM, state="existing"),
        _finding(7, Severity.MEDIUM, tool="pip-audit", package="requests"),  # an advisory: a vulnerability
        _finding(8, Severity.LOW),
        _finding(9, Severity.UNKNOWN),
    ]
    sources = [_ok("bandit"), _ok("pip-audit"),
               SourceResult(name="safety", kind="scanner", status=Status.SKIPPED, reason="no SAFETY_API_KEY"),
               SourceResult(name="trivy", kind="scanner", status=Status.FAILED, reason="timed out after 600s"),
               SourceResult(name="semgrep", kind="scanner", status=Status.SKIPPED,
                            reason="no files for semgrep to scan", nothing_to_do=True)]
    out = derive_metrics([], findings, sources)
    assert _values(out) == {
        "security.critical_vulnerabilities": 1.0, "security.high_vulnerabilities": 2.0,
        "security.medium_vulnerabilities": 2.0, "security.low_vulnerabilities": 1.0,
        "security.vulnerabilities": 4.0, "security.hotspots": 1.0,  # 2 advisories + 2 high code findings
    }
    meta = out[0].metadata
    assert meta["scanners"] == ("bandit", "pip-audit")
    assert meta["skipped"] == ("safety",)  # a gap: the score calls itself partial
    assert meta["failed"] == ("trivy",)  # names only: the reasons stay on the sources, not in six counts
    assert meta["nothing_to_scan"] == ("semgrep",)  # no gap
    assert "timed out" not in repr([m.metadata for m in out])
    assert meta["unknown_severity"] == 1
    assert all(m.source == "findings" and m.unit == "count" for m in out)


def test_no_scanner_ok_means_no_security_counts() -> None:
    kept = Metric(name="code_quality.coverage", value=80.0, source="coverage")
    sources = [SourceResult(name="bandit", kind="scanner", status=Status.FAILED, reason="crashed")]
    assert derive_metrics([kept], [], sources) == [kept]
    assert derive_metrics([kept], [], []) == [kept]


def test_clean_scan_gives_real_zeros() -> None:
    out = _values(derive_metrics([], [], [_ok("bandit")]))
    assert out["security.vulnerabilities"] == 0.0 and out["security.hotspots"] == 0.0


def test_hotspots_need_a_code_scanner() -> None:
    out = _values(derive_metrics([], [_finding(1, Severity.HIGH, tool="pip-audit", package="x")], [_ok("pip-audit")]))
    assert out["security.vulnerabilities"] == 1.0
    assert "security.hotspots" not in out


def test_collector_values_are_not_overwritten() -> None:
    sonar = Metric(name="security.hotspots", value=7.0, source="sonarqube")
    out = derive_metrics([sonar], [_finding(1, Severity.MEDIUM)], [_ok("bandit")])
    hotspots = [m for m in out if m.name == "security.hotspots"]
    assert hotspots == [sonar]
    assert _values(out)["security.medium_vulnerabilities"] == 1.0


def test_maintainability_rating_from_radon_index_only_without_sonar() -> None:
    mi = Metric(name="code_quality.maintainability_index", value=17.0, source="complexity")
    [_, rating] = derive_metrics([mi], [], [])
    assert rating.name == "code_quality.maintainability_rating"
    assert rating.value == 2.0  # 15 <= 17 < 20 is B
    assert rating.metadata["derived_from"] == "code_quality.maintainability_index"
    sonar = Metric(name="code_quality.maintainability_rating", value=1.0, source="sonarqube")
    assert derive_metrics([mi, sonar], [], []) == [mi, sonar]


def test_vulnerabilities_are_advisories_and_high_code_findings_hotspots_medium_code_ones() -> None:
    import dataclasses

    from repo_automation.core.derive import Counting
    from repo_automation.domain import FindingScope

    findings = [
        _finding(1, Severity.LOW, tool="pip-audit", package="urllib3"),  # an advisory, whatever its severity
        _finding(2, Severity.UNKNOWN, tool="pip-audit", package="jinja2"),
        _finding(3, Severity.HIGH), _finding(4, Severity.MEDIUM), _finding(5, Severity.LOW),
        _finding(6, Severity.UNKNOWN),  # code without a severity: counted as unknown_severity says
        dataclasses.replace(_finding(7, Severity.HIGH), scope=FindingScope.TEST),
        dataclasses.replace(_finding(8, Severity.MEDIUM), scope=FindingScope.TEST),
    ]
    sources = [_ok("bandit"), _ok("pip-audit")]
    out = derive_metrics([], findings, sources, counting=Counting(unknown_as=Severity.HIGH))
    values = _values(out)
    assert values["security.vulnerabilities"] == 4.0  # 2 advisories + high + the unknown one counted as high
    assert values["security.hotspots"] == 1.0
    assert values["security.high_vulnerabilities"] == 3.0  # test code counts nowhere
    meta = out[0].metadata
    assert meta["counted"] == {"dependency_advisories": 2, "code_high_or_critical": 2, "code_medium": 1,
                               "code_low": 1, "test_code_not_counted": 2}
    assert (meta["unknown_severity"], meta["unknown_counted_as"]) == (2, "high")
    counted = _values(derive_metrics([], findings, sources, counting=Counting(unknown_as=Severity.LOW, tests=True)))
    assert counted["security.vulnerabilities"] == 4.0  # 2 advisories + high + the test high; unknown code is low
    assert counted["security.hotspots"] == 2.0
