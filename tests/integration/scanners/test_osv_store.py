"""Advisory severities kept between runs (.repo-automation/osv-severities.json): a warm run asks the OSV
service once (`/v1/querybatch`, ids and `modified` times), loses no finding, and reads an advisory again
when it was revised upstream. A dry run reads the store and never writes it."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from repo_automation.domain import Severity
from repo_automation.scanners.osv import STORE_PATH, USER_AGENT
from repo_automation.scanners.pip_audit import PipAuditScanner
from tests.fakeosv import FakeOSV, load_records
from tests.helpers import make_context
from tests.integration.scanners.scanning import scan_config


def _scan(project: Path, osv: FakeOSV, *, dry_run: bool = False) -> dict[str, Severity]:
    ctx = make_context(project, config=scan_config(osv), dry_run=dry_run)
    scanner = PipAuditScanner(options=ctx.config.security_scanning, env=dict(ctx.env))
    return {f"{f.package} {f.rule_id}": f.severity for f in scanner.scan(ctx)}


def _ours(osv: FakeOSV, since: int) -> list[tuple[str, str]]:
    return osv.requests_from(USER_AGENT)[since:]


def test_a_warm_run_asks_once_and_a_revised_advisory_is_read_again(project: Path, osv: FakeOSV) -> None:
    first = _scan(project, osv)
    assert len(first) == 10 and first["urllib3 PYSEC-2023-212"] is Severity.MEDIUM
    assert _ours(osv, 0) == [("POST", "/v1/query")] * 5  # one query per vulnerable pin: full records
    store = json.loads((project / STORE_PATH).read_text(encoding="utf-8"))
    assert store["service"] == osv.url and store["advisories"]["PYSEC-2023-212"]["severity"] == "medium"

    seen = len(osv.requests_from(USER_AGENT))
    second = _scan(project, osv)
    assert second == first  # every finding, every severity
    assert _ours(osv, seen) == [("POST", "/v1/querybatch")]  # the five pins at once, nothing else

    revised = copy.deepcopy(load_records())
    record = next(r for r in revised if r["id"] == "PYSEC-2023-212")
    record["modified"] = "2026-11-01T00:00:00Z"
    record["database_specific"] = {"severity": "CRITICAL"}
    osv.update(revised)
    seen = len(osv.requests_from(USER_AGENT))
    third = _scan(project, osv)
    assert third["urllib3 PYSEC-2023-212"] is Severity.CRITICAL  # read again: it changed
    assert {k: v for k, v in third.items() if k != "urllib3 PYSEC-2023-212"} == \
        {k: v for k, v in first.items() if k != "urllib3 PYSEC-2023-212"}
    assert _ours(osv, seen) == [("POST", "/v1/querybatch"), ("POST", "/v1/query")]  # urllib3's pin alone
    assert osv.queries_from(USER_AGENT)[-1] == ("urllib3", "1.26.4")


def test_a_dry_run_reads_the_store_and_never_writes_it(project: Path, osv: FakeOSV) -> None:
    dry = _scan(project, osv, dry_run=True)
    assert len(dry) == 10 and not (project / STORE_PATH).exists()
    _scan(project, osv)
    before = (project / STORE_PATH).read_bytes()
    seen = len(osv.requests_from(USER_AGENT))
    assert _scan(project, osv, dry_run=True) == dry
    assert _ours(osv, seen) == [("POST", "/v1/querybatch")] and (project / STORE_PATH).read_bytes() == before


def test_a_store_of_another_service_or_unreadable_is_not_used(project: Path, osv: FakeOSV) -> None:
    (project / STORE_PATH).parent.mkdir(parents=True)
    (project / STORE_PATH).write_text(json.dumps({"version": 1, "service": "https://api.osv.dev", "advisories": {
        "PYSEC-2023-212": {"severity": "low", "modified": "2099-01-01T00:00:00Z"}}}), encoding="utf-8")
    assert _scan(project, osv)["urllib3 PYSEC-2023-212"] is Severity.MEDIUM
    assert _ours(osv, 0) == [("POST", "/v1/query")] * 5
    (project / STORE_PATH).write_text("{not json", encoding="utf-8")
    assert _scan(project, osv)["urllib3 PYSEC-2023-212"] is Severity.MEDIUM  # a warning, a cold run
