"""A real bandit run over the fixture project, written as SARIF by the writer, checked like GitHub would."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from repo_automation.domain import Health, RunReport, Status
from repo_automation.pipeline import Stages, deliver, measure
from repo_automation.scanners import make_scanner
from repo_automation.sinks.sarif import SarifWriter
from tests.helpers import FIXED_NOW, make_context
from tests.unit.report.sarif_checks import github_problems, schema_problems

FIXTURE = Path(__file__).resolve().parents[2] / "data" / "scan_fixture"


def test_bandit_findings_become_valid_sarif(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(FIXTURE, ws)
    ctx = make_context(ws, output_dir=Path("reports"))
    scanner = make_scanner("bandit", ctx, options=ctx.config.security_scanning)
    _, findings, sources = measure(Stages(scanners=[scanner]), ctx)
    assert sources[0].status is Status.OK, sources[0].reason
    assert findings, "the fixture has known bandit issues"
    report = RunReport(schema_version="1.0", repository="acme/widgets", generated_at=FIXED_NOW, dry_run=False,
                       health=Health(overall=None, grade=None, categories={}), findings=tuple(findings),
                       sources=tuple(sources))
    final = deliver(report, Stages(writers=[SarifWriter.from_context(ctx)]), ctx)
    assert final.sources[-1].status is Status.OK, final.sources[-1].reason
    log = json.loads((ws / "reports" / "repo-automation.sarif").read_text(encoding="utf-8"))
    assert schema_problems(log) == []
    assert github_problems(log) == []
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "bandit"
    results = run["results"]
    assert len(results) == len(findings)
    shell = [r for r in results if r["ruleId"] == "B602"]
    assert shell, "shell=True in app/shell.py"
    for r in shell:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "app/shell.py"
        path_line = (ws / "app" / "shell.py").read_text().splitlines()[loc["region"]["startLine"] - 1]
        assert "shell=True" in path_line  # the line the alert points to is the offending one
        assert r["partialFingerprints"]["repoAutomation/v1"]
    assert not any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("venv/")
                   for r in results)  # excluded folders stay out
