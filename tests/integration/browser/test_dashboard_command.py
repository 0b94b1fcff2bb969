"""The dashboard as users make it: `repo-automation run --dashboard` and `repo-automation dashboard` on a
sample repository with 30 days of stored history, and `rollup --dashboard` on a history shared by 50
repositories; Debian's Chromium opens each page from disk.

The numbers the page shows are compared with the JSON report the same run wrote. The screenshots are kept in
test-artifacts/ (docs/dashboard.png in the README is the run page's).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from repo_automation.cli import main
from repo_automation.domain import Metric
from repo_automation.history import open_store
from repo_automation.report.views import COUNTED_STATES, fmt_number
from repo_automation.sinks.dashboard import DASHBOARD_PAGE
from tests.integration.browser.test_dashboard import ARTIFACTS, browser, open_page
from tests.sample_repo import write_sample_repo

__all__ = ["browser"]  # the module-scoped Chromium fixture
DAYS = 30
SEVERITIES = ("critical", "high", "medium", "low")


def _env(tmp_path: Path) -> dict[str, str]:
    return {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1"}


CATEGORIES = ("code_quality", "performance", "reliability", "security")


def seed_history(workspace: Path, names: list[str], *, now: datetime, repository: str = "", days: int = DAYS,
                 target: str = ".repo-automation/history.sqlite", phase: int = 0) -> None:
    """One stored run a day for `days` days before `now`: scores that wander and recover, counts that fall."""
    with open_store(target, workspace) as store:
        for day in range(days):
            at = now - timedelta(days=days - day, hours=1)
            wave = math.sin((day + phase) / 4)
            overall = round(62 + 12 * wave + day * 0.4, 1)
            grade = "A" if overall >= 90 else "B" if overall >= 80 else "C" if overall >= 70 else "D"
            metrics = [Metric(name="health.overall", value=overall, source="health", unit="score",
                              metadata={"grade": grade})]
            for i, category in enumerate(CATEGORIES):
                score = 55 + 15 * math.sin((day + 3 * i + phase) / 5) + day
                metrics.append(Metric(name=f"health.{category}", source="health", unit="score",
                                      value=round(max(0.0, min(100.0, score)), 1)))
            for i, severity in enumerate(SEVERITIES):
                metrics.append(Metric(name=f"security.{severity}_vulnerabilities", source="derived", unit="count",
                                      value=float(max(0, (days - day) // (4 + 3 * i) - i))))
            metrics += [Metric(name=n, value=round(10 + 5 * math.sin((day + len(n)) / 3), 2), source="seed")
                        for n in names if not n.startswith(("health.", "security."))]
            store.record(metrics, at, repository=repository)


def _report(workspace: Path) -> dict[str, Any]:
    return json.loads((workspace / "reports" / "project-health-report.json").read_text(encoding="utf-8"))


def _check_numbers(page: Any, doc: dict[str, Any]) -> None:
    assert page.text_content("#overall") == fmt_number(doc["health"]["overall"])
    for name, category in doc["health"]["categories"].items():
        assert page.text_content(f"#category-{name}") == fmt_number(category["score"]), name
    counted = [f for f in doc["findings"] if f["state"] in COUNTED_STATES]
    assert counted, "the sample repository has findings"
    for severity in (*SEVERITIES, "unknown"):
        assert page.text_content(f"#findings-{severity}") == str(sum(f["severity"] == severity for f in counted))
    assert page.locator("#metrics tr").count() == len(doc["metrics"]) + 1


def test_run_with_dashboard_draws_the_reports_numbers_over_a_month_of_history(browser: Any, tmp_path: Path) -> None:
    workspace = write_sample_repo(tmp_path / "repo")
    assert main(["run", "-C", str(workspace), "--format", "json"], env=_env(tmp_path)) in (0, 1)
    first = _report(workspace)
    assert set(first["health"]["categories"]) == set(CATEGORIES)
    assert not (workspace / "reports" / DASHBOARD_PAGE).exists()  # only when asked for
    seed_history(workspace, [m["name"] for m in first["metrics"]], now=datetime.now(UTC))
    status = main(["run", "-C", str(workspace), "--store-db", "--dashboard", "--format", "json"], env=_env(tmp_path))
    assert status in (0, 1)
    page_path = workspace / "reports" / DASHBOARD_PAGE
    page, errors, requests = open_page(browser, page_path)
    assert errors == []
    assert requests == [page_path.as_uri()]  # no request leaves the page
    doc = _report(workspace)
    _check_numbers(page, doc)
    sparks = page.locator("svg.spark")
    assert sparks.count() == len(doc["metrics"])
    assert page.locator("svg.chart").count() == 2
    assert "No scored run stored yet." not in page.text_content("body")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-run.png"), full_page=False)
    page.close()


def test_the_dashboard_command_writes_only_the_page(browser: Any, tmp_path: Path) -> None:
    workspace = write_sample_repo(tmp_path / "repo")
    assert main(["dashboard", "-C", str(workspace)], env=_env(tmp_path)) in (0, 1)
    out = workspace / "reports"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [DASHBOARD_PAGE.as_posix()]
    assert not (workspace / ".repo-automation" / "history.sqlite").exists()  # the history is only read
    page, errors, requests = open_page(browser, out / DASHBOARD_PAGE)
    assert errors == [] and requests == [(out / DASHBOARD_PAGE).as_uri()]
    assert page.text_content("#overall") not in ("", "—")
    page.close()


def test_rollup_with_dashboard_draws_fifty_repositories_from_the_shared_history(browser: Any, tmp_path: Path) -> None:
    workspace = tmp_path / "org"
    workspace.mkdir()
    now = datetime.now(UTC)
    for i in range(50):
        seed_history(workspace, [], now=now, repository=f"octo-org/repo-{i:02d}", days=12, phase=i)
    assert main(["rollup", "-C", str(workspace), "--dashboard"], env=_env(tmp_path)) == 0
    path = workspace / "reports" / DASHBOARD_PAGE
    page, errors, requests = open_page(browser, path)
    assert errors == [] and requests == [path.as_uri()]
    rows = json.loads((workspace / "reports" / "rollup-report.json").read_text(encoding="utf-8"))["repositories"]
    assert len(rows) == 50
    assert page.locator("#repositories tr").count() == 51
    assert page.locator("svg.spark").count() == 50
    for i, row in enumerate(rows):  # the JSON and the page are both in repository order
        cells = page.locator("#repositories tr").nth(i + 1).locator("td")
        shown = [cells.nth(k).text_content() for k in range(3)]
        assert shown == [row["repository"], fmt_number(row["overall"]), row["grade"]], row
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rollup-dashboard-command.png"), full_page=False)
    page.close()
