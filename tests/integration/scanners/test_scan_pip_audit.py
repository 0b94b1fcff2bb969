"""Real pip-audit against the local OSV server: every vulnerability it prints is one finding, with severity."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from repo_automation.domain import Severity
from repo_automation.errors import NothingToScan, SourceFailed
from repo_automation.scanners.osv import USER_AGENT
from repo_automation.scanners.pip_audit import PipAuditScanner
from repo_automation.stages import notices_of
from tests.fakeosv import FakeOSV
from tests.integration.scanners.scanning import audited_pins, context, fake_tool, tool_path

DATA = Path(__file__).resolve().parents[2] / "data"


def pip_audit_directly(project: Path, osv: FakeOSV, requirements: str) -> list[tuple[str, str]]:
    proc = subprocess.run(
        [tool_path("pip-audit"), "-r", requirements, "--no-deps", "--disable-pip", "-f", "json", "-s", "osv",
         "--osv-url", osv.query_url, "--progress-spinner", "off", "--cache-dir", str(project / ".cache")],
        cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode in (0, 1), proc.stderr
    deps = json.loads(proc.stdout)["dependencies"]
    return sorted((d["name"], v["id"]) for d in deps for v in d.get("vulns", []))


def scanner(ctx, **kw) -> PipAuditScanner:  # type: ignore[no-untyped-def]
    return PipAuditScanner(options=ctx.config.security_scanning, env=dict(ctx.env), **kw)


def test_every_vulnerability_pip_audit_prints_is_one_finding(project: Path, osv: FakeOSV) -> None:
    (project / "pyproject.toml").unlink()  # the count compares requirements.txt alone
    ctx = context(project, osv)
    findings = scanner(ctx).scan(ctx)
    direct = pip_audit_directly(project, osv, "requirements.txt")
    assert len(direct) == 8  # jinja2 2.10 x2, requests 2.19.1 x2, urllib3 1.26.4 x3, django 4.2.15 x1
    assert sorted((f.package, f.rule_id) for f in findings) == direct
    assert len({f.fingerprint for f in findings}) == 8
    # decoy advisories of the same packages, outside the pinned versions, were not matched
    assert not {"PYSEC-2024-47", "PYSEC-2023-207"} & {f.rule_id for f in findings}
    # what pip-audit sends: one POST /v1/query per pinned dependency (five pins, two runs)
    assert osv.requests_from(USER_AGENT, others=True) == [("POST", "/v1/query")] * 10
    # and what we send for severities: one query per vulnerable pin (four), not one read per advisory (eight)
    assert osv.requests_from(USER_AGENT) == [("POST", "/v1/query")] * 4


def test_findings_carry_package_ids_fixes_location_and_severity(project: Path, osv: FakeOSV) -> None:
    ctx = context(project, osv)
    findings = {f.rule_id: f for f in scanner(ctx).scan(ctx)}
    f = findings["PYSEC-2023-192"]  # urllib3 cookie leak, CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N = 8.1
    assert f.tool == "pip-audit" and f.package == "urllib3" and f.version == "1.26.4"
    assert f.severity is Severity.HIGH
    assert f.ids[0] == "PYSEC-2023-192" and "CVE-2023-43804" in f.ids
    assert f.fixed_versions == ("1.26.17", "2.0.6")
    assert f.location is not None and f.location.path == "requirements.txt" and f.location.start_line == 4
    assert findings["PYSEC-2023-212"].severity is Severity.MEDIUM  # AV:A/AC:H/PR:H … = 4.4
    assert findings["PYSEC-2019-217"].severity is Severity.UNKNOWN  # the record has no severity data
    # the severities came from the same OSV service: one POST /v1/query per vulnerable pin (jinja2, requests,
    # urllib3, django, pyyaml), whose answer holds every advisory's record; no advisory read on its own
    assert osv.requests_from(USER_AGENT) == [("POST", "/v1/query")] * 5
    assert sorted(osv.queries_from(USER_AGENT)) == [("django", "4.2.15"), ("jinja2", "2.10"), ("pyyaml", "5.3"),
                                        ("requests", "2.19.1"), ("urllib3", "1.26.4")]


def test_pyproject_pins_are_audited_and_unpinned_named(project: Path, osv: FakeOSV) -> None:
    ctx = context(project, osv)
    audit = scanner(ctx)
    findings = audit.scan(ctx)
    from_pyproject = sorted(f.rule_id for f in findings if f.location and f.location.path == "pyproject.toml")
    assert from_pyproject == ["PYSEC-2020-96", "PYSEC-2021-142"]  # pyyaml==5.3
    assert any("click>=8 (not a pin: a range" in n for n in notices_of(findings))


def test_user_environment_variables_win(project: Path, osv: FakeOSV) -> None:
    # config names an OSV mirror that does not answer; PIP_AUDIT_OSV_URL (the user's) points at ours
    ctx = context(project, None, env={"PIP_AUDIT_OSV_URL": osv.query_url}, osv_url="http://127.0.0.1:9/v1/query")
    findings = scanner(ctx).scan(ctx)
    assert len(findings) == 10
    assert ("POST", "/v1/query") in osv.requests


def test_all_skipped_is_a_failure_not_a_clean_result(project: Path, tmp_path: Path) -> None:
    # pip-audit's real output with the PyPI service here: every dependency skipped, exit 0
    recorded = DATA / "pip_audit" / "pypi-all-skipped.json"
    exe = fake_tool(tmp_path / "bin", "pip-audit",
                    f'while [ $# -gt 0 ]; do if [ "$1" = "-o" ]; then cp "{recorded}" "$2"; fi; shift; done\n'
                    'echo "No known vulnerabilities found"; exit 0')
    (project / "pyproject.toml").unlink()
    ctx = context(project, None, vulnerability_service="pypi")
    with pytest.raises(SourceFailed) as e:
        scanner(ctx, executable=exe).scan(ctx)
    assert "no dependency could be audited" in str(e.value)
    assert "Dependency not found on PyPI and could not be audited: six (1.16.0)" in str(e.value)


def test_unpinned_requirements_file_is_named_and_the_rest_audited(project: Path, osv: FakeOSV) -> None:
    (project / "requirements-dev.txt").write_text("pytest>=8\n", encoding="utf-8")
    ctx = context(project, osv)
    audit = scanner(ctx)
    findings = audit.scan(ctx)
    assert len(findings) == 10
    assert any("requirements-dev.txt" in n and "not a pin" in n for n in notices_of(findings))


def test_severity_lookups_are_cached_bounded_and_failures_named(osv: FakeOSV) -> None:
    import requests

    from repo_automation.scanners.osv import OSVSeverity

    with requests.Session() as session:
        lookup = OSVSeverity(base=osv.url, session=session, max_lookups=4, timeout_s=5)
        got = lookup.severities([("urllib3", "1.26.4", "PYSEC-2023-192"), ("urllib3", "1.26.4", "PYSEC-2023-212"),
                                 ("urllib3", "1.26.4", "GHSA-v845-jxx5-vc9f"),  # an alias of PYSEC-2023-192
                                 ("Requests", "2.19.1", "PYSEC-2018-28"), ("nope", "1.0", "NOPE-1")])
        assert got["PYSEC-2023-192"] is Severity.HIGH and got["PYSEC-2023-212"] is Severity.MEDIUM
        assert got["GHSA-v845-jxx5-vc9f"] is Severity.HIGH  # from the record it is an alias of
        assert got["PYSEC-2018-28"] is Severity.UNKNOWN  # the record has no severity data
        # three pins, one query each; NOPE-1 is in no answer, so it is read on its own: 404
        assert osv.requests == [("POST", "/v1/query")] * 3 + [("GET", "/v1/vulns/NOPE-1")]
        assert got["NOPE-1"] is Severity.UNKNOWN and "NOPE-1: HTTP 404" in lookup.failures
        over = lookup.severities([("django", "4.2.15", "PYSEC-2024-102")])  # the fifth request: over the bound
        assert over["PYSEC-2024-102"] is Severity.UNKNOWN
        assert any("1 severity look-ups not made (limit 4 a run)" in f for f in lookup.failures)
        again = lookup.severities([("urllib3", "1.26.4", "PYSEC-2023-192"), ("urllib3", "1.26.4", "PYSEC-2023-212")])
        assert again == {"PYSEC-2023-192": Severity.HIGH, "PYSEC-2023-212": Severity.MEDIUM}  # cached
    assert len(osv.requests) == 4


def test_pins_of_a_file_with_loose_requirements_are_audited(project: Path, osv: FakeOSV) -> None:
    # pip-audit itself refuses the whole file for its one loose line: nothing of it would be audited
    (project / "requirements-dev.txt").write_text(
        "# dev tools\n--index-url https://pypi.org/simple\nurllib3==1.26.4  # pinned\npytest>=8\nblack\n",
        encoding="utf-8")
    proc = subprocess.run(
        [tool_path("pip-audit"), "-r", "requirements-dev.txt", "--no-deps", "--disable-pip", "-f", "json", "-s", "osv",
         "--osv-url", osv.query_url, "--progress-spinner", "off", "--cache-dir", str(project / ".cache")],
        cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 1 and "is not pinned" in proc.stderr
    ctx = context(project, osv)
    audit = scanner(ctx)
    scanned = audit.scan(ctx)
    findings = [f for f in scanned if f.location and f.location.path == "requirements-dev.txt"]
    # the pin was audited (its three advisories, located at its own line) and the loose two named as skipped
    assert sorted(f.rule_id for f in findings) == ["PYSEC-2021-108", "PYSEC-2023-192", "PYSEC-2023-212"]
    assert {f.location.start_line for f in findings if f.location} == {3}
    assert any("requirements-dev.txt: pytest>=8 (not a pin: a range, left as it is); "
               "requirements-dev.txt: black (not a pin: no version given)" in n
               for n in notices_of(scanned)), notices_of(scanned)
    assert ("urllib3", "1.26.4") in audited_pins(osv)


def test_a_file_without_pins_is_skipped_by_name_without_running_pip_audit(project: Path, tmp_path: Path) -> None:
    for name in ("requirements.txt", "pyproject.toml"):
        (project / name).unlink()
    (project / "requirements.txt").write_text("django>=4\nrequests\n", encoding="utf-8")
    ran = tmp_path / "ran"
    exe = fake_tool(tmp_path / "bin", "pip-audit", f'touch "{ran}"; exit 3')
    ctx = context(project, None)
    with pytest.raises(SourceFailed) as e:
        scanner(ctx, executable=exe).scan(ctx)
    assert "no dependency could be audited" in str(e.value)
    assert "django>=4 (not a pin: a range" in str(e.value) and "requests (not a pin: no version given)" in str(e.value)
    assert not ran.exists()


PYLOCK = '''lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "six"
version = "1.16.0"

[[packages]]
name = "Jinja2"
version = "2.10"
'''


def test_a_pep_751_lock_file_is_audited_by_pip_audit_locked(project: Path, osv: FakeOSV) -> None:
    # a library: ranges in pyproject (nothing to audit there), exact versions in its committed lock file
    for name in ("requirements.txt", "pyproject.toml"):
        (project / name).unlink()
    (project / "pyproject.toml").write_text('[project]\nname = "lib"\ndependencies = ["jinja2>=2"]\n',
                                            encoding="utf-8")
    (project / "pylock.toml").write_text(PYLOCK, encoding="utf-8")
    direct = subprocess.run(
        [tool_path("pip-audit"), "--locked", "-f", "json", "-s", "osv", "--osv-url", osv.query_url,
         "--progress-spinner", "off", "--cache-dir", str(project / ".cache"), str(project)],
        capture_output=True, text=True, timeout=120, check=False)
    expected = sorted(v["id"] for d in json.loads(direct.stdout)["dependencies"] for v in d.get("vulns", []))
    assert expected == ["PYSEC-2019-217", "PYSEC-2021-66"]
    ctx = context(project, osv)
    audit = scanner(ctx)
    findings = audit.scan(ctx)
    assert sorted(f.rule_id for f in findings) == expected
    assert {(f.package, f.version) for f in findings} == {("jinja2", "2.10")}
    assert {(f.location.path, f.location.start_line) for f in findings if f.location} == {("pylock.toml", 10)}
    assert any("jinja2>=2 (not a pin: a range" in n for n in notices_of(findings))  # the range is named, not audited


def test_a_wildcard_is_not_a_pin_no_crash_no_traceback(project: Path, osv: FakeOSV) -> None:
    # `==1.*` matches many versions: pip-audit given it crashes with InvalidVersion; it is named instead
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "1"\ndependencies = ["pyyaml==5.3", "six==1.*"]\n', encoding="utf-8")
    ctx = context(project, osv)
    findings = scanner(ctx).scan(ctx)
    assert sorted(f.rule_id for f in findings if f.location and f.location.path == "pyproject.toml") == [
        "PYSEC-2020-96", "PYSEC-2021-142"]
    said = " ".join(notices_of(findings))
    assert "pyproject.toml: six==1.* (not a pin: the wildcard ==1.* matches many versions)" in said
    assert "Traceback" not in said and "InvalidVersion" not in said


def test_includes_a_loose_line_triple_equals_and_lock_files_do_not_refuse_a_file(project: Path, osv: FakeOSV) -> None:
    (project / "pyproject.toml").unlink()
    (project / "requirements.txt").write_text("-r common.txt\n-c constraints.txt\njinja2===2.10\nflask\n",
                                              encoding="utf-8")
    (project / "common.txt").write_text("urllib3==1.26.4\n", encoding="utf-8")  # not a manifest of its own
    (project / "constraints.txt").write_text("six==1.16.0\n", encoding="utf-8")
    (project / "sub").mkdir()
    (project / "sub" / "uv.lock").write_text(
        'version = 1\n\n[[package]]\nname = "pyyaml"\nversion = "5.3"\n'
        'source = { registry = "https://pypi.org/simple" }\n',
        encoding="utf-8")
    ctx = context(project, osv)
    findings = scanner(ctx).scan(ctx)
    where = sorted({(f.location.path, f.package) for f in findings if f.location})
    assert where == [("requirements.txt", "jinja2"), ("requirements.txt", "urllib3"), ("sub/uv.lock", "pyyaml")]
    assert {f.location.start_line for f in findings if f.location and f.package == "jinja2"} == {3}
    assert any("requirements.txt: flask (not a pin: no version given)" in n for n in notices_of(findings))
    assert ("six", "1.16.0") in audited_pins(osv)  # the constraints file is audited too, on its own


def test_a_rest_page_named_constraints_txt_is_left_out_and_said(project: Path, osv: FakeOSV) -> None:
    # Django keeps docs/ref/models/constraints.txt, a reST page: pip-audit fails on it, and that failure
    # must not cost the real manifests their audit nor fail the source
    page = project / "docs" / "ref" / "constraints.txt"
    page.parent.mkdir(parents=True)
    page.write_text("=====================\nConstraints reference\n=====================\n\n"
                    ".. module:: django.db.models.constraints\n\n``BaseConstraint``\n------------------\n",
                    encoding="utf-8")
    direct = subprocess.run(
        [tool_path("pip-audit"), "-r", str(page), "--no-deps", "--disable-pip", "-f", "json", "-s", "osv",
         "--osv-url", osv.query_url, "--progress-spinner", "off", "--cache-dir", str(project / ".cache")],
        cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert direct.returncode == 1 and "contains invalid specifier at line 1" in direct.stderr, direct.stderr
    ctx = context(project, osv)
    findings = scanner(ctx).scan(ctx)
    assert len(findings) == 10  # requirements.txt and pyproject.toml, as without the page
    assert ("docs/ref/constraints.txt: not a requirements file: 6 of its 6 lines are neither a requirement nor a "
            "pip option (line 1: '=====================')") in " ".join(notices_of(findings))
    # a repository whose only such file is the page has nothing to audit: not applicable, not failed
    for name in ("requirements.txt", "pyproject.toml"):
        (project / name).unlink()
    with pytest.raises(NothingToScan) as e:
        scanner(ctx).scan(ctx)
    assert "left out, docs/ref/constraints.txt: not a requirements file" in str(e.value)
