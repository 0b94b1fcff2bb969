"""The version that fixes every advisory of a package (the upgrade a package issue proposes)."""

from __future__ import annotations

from repo_automation.domain import Finding, Severity
from repo_automation.sinks.github.package_issue import fixing_all, package_issue


def _advisory(ident: str, *fixed: str, version: str = "1.2.0") -> Finding:
    return Finding(tool="pip-audit", rule_id=ident, severity=Severity.HIGH, title="t", fingerprint=ident,
                   package="demo", version=version, fixed_versions=fixed, ids=(ident,))


def test_the_fix_for_all_is_the_highest_of_each_advisorys_lowest_fix_above_the_pin() -> None:
    group = [_advisory("A", "1.2.5", "2.0.1"), _advisory("B", "1.3.0"), _advisory("C", "1.1.9", "1.2.1")]
    assert fixing_all(group) == ("1.3.0", ())


def test_an_advisory_no_release_fixes_means_no_version_fixes_all() -> None:
    group = [_advisory("A", "1.2.5"), _advisory("B")]
    assert fixing_all(group) == (None, ("B",))
    title, head, rows = package_issue("demo", group, "high", None)
    assert title == "[high] demo 1.2.0: 2 advisories"
    assert "- No release fixes `B` yet." in head and len(rows) == 2


def test_versions_are_compared_as_versions_not_text() -> None:
    assert fixing_all([_advisory("A", "1.10.0"), _advisory("B", "1.9.0")]) == ("1.10.0", ())
