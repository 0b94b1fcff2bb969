"""A failing pip-audit (its OSV service down) is reported once: a one-line reason in every table, the full
stderr in the JSON report's `detail`, and no copy of it in any metric's metadata or category note."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from repo_automation.domain import DETAIL_MAX, REASON_MAX, Status
from repo_automation.pipeline import Stages, build_report
from repo_automation.report import json_report, markdown
from repo_automation.scanners import build_scanners
from tests.integration.scanners.scanning import context
from tests.servers import free_port

MANIFESTS = 8  # each one's audit fails with a traceback of a few KB


def test_a_failing_osv_is_one_line_in_the_markdown_and_one_detail_in_the_json(project: Path) -> None:
    for n in range(1, MANIFESTS):
        (project / f"service{n}").mkdir()
        shutil.copy(project / "requirements.txt", project / f"service{n}" / "requirements.txt")
    down = f"http://127.0.0.1:{free_port()}/v1/query"  # nothing listens there: connection refused
    ctx = context(project, None, tools=["bandit", "pip-audit"], osv_url=down)
    report = build_report(Stages(scanners=build_scanners(ctx)), ctx)

    audit = next(s for s in report.sources if s.name == "pip-audit")
    assert audit.status is Status.FAILED
    assert "\n" not in audit.reason and len(audit.reason) <= REASON_MAX
    assert audit.reason.startswith("no dependency could be audited")
    assert "ConnectionError" in audit.reason  # the line that says why, not the first line of a traceback
    assert audit.detail.count("Connection refused") >= 5 and len(audit.detail) <= DETAIL_MAX + 40

    doc = json_report.to_json(report)
    assert json_report.validate(doc) == []
    text = json_report.dumps(doc)
    counted = [m for m in doc["metrics"] if m["name"].startswith("security.")]
    assert counted and all(m["metadata"]["failed"] == ["pip-audit"] for m in counted)  # bandit ran: counts exist
    assert "Connection refused" not in json.dumps(doc["metrics"]) + json.dumps(doc["health"])
    in_source = json.dumps(next(s for s in doc["sources"] if s["name"] == "pip-audit"), ensure_ascii=False)
    assert text.count("Connection refused") == in_source.count("Connection refused")  # there, and only there
    findings = len(json_report.dumps({"findings": doc["findings"]}))
    # 28 KB besides the findings (80 copies of the error) when the reason was copied into six metrics and
    # the security score's notes; 8.6 KB now (11: the sources entry's reason and detail)
    assert len(text) - findings < 12_000

    md = markdown.health_report(report)
    rows = [ln for ln in md.splitlines() if ln.startswith("| pip\\-audit |")]
    assert len(rows) == 1 and "ConnectionError" in rows[0]
    assert "Traceback (most recent call last)" not in md.replace("Traceback (most recent call last): …", "")
    assert "Connection refused" not in md.split("## Sources")[0]  # not in the health notes or the metrics
