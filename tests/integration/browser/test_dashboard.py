"""The health dashboard in a real browser: Debian's Chromium, driven by Playwright, opens the page from disk.

What a maintainer would notice: a console error, a request leaving the page (the page must work offline and
leak nothing), numbers that disagree with the JSON report, outside text that turns into markup. A screenshot
is kept in test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from repo_automation.domain import GateResult
from repo_automation.report import json_report
from repo_automation.report.dashboard import RepositoryRow, render_dashboard, render_rollup_dashboard
from repo_automation.report.views import COUNTED_STATES, fmt_number
from tests.reports import EVIL, NOW, empty_report, rich_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run", "--disable-sync", "--disable-quic"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


def history(days: int = 12) -> dict[str, list[tuple[Any, float]]]:
    """Stored values for the rich report's names, one run a day before NOW."""
    report = rich_report()
    out: dict[str, list[tuple[Any, float]]] = {}
    for i in range(days):
        at = NOW - timedelta(days=days - i)
        out.setdefault("health.overall", []).append((at, 50.0 + i * 2))
        for name in report.health.categories:
            out.setdefault(f"health.{name}", []).append((at, 40.0 + i * 3 + len(name)))
        for m in report.metrics:
            out.setdefault(m.name, []).append((at, m.value + (i % 4)))
        for severity in ("medium", "low"):
            out.setdefault(f"security.{severity}_vulnerabilities", []).append((at, float(i % 3)))
    return out


def open_page(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, errors, requests


def test_the_dashboard_shows_the_json_reports_numbers_offline(browser: Any, tmp_path: Path) -> None:
    report = rich_report()
    path = tmp_path / "dashboard" / "index.html"
    path.parent.mkdir()
    path.write_text(render_dashboard(report, history()), encoding="utf-8")
    page, errors, requests = open_page(browser, path)
    assert errors == []
    assert requests == [path.as_uri()]  # nothing but the page itself: no CDN, no font, no image
    doc = json_report.to_json(report)
    assert page.text_content("#overall") == fmt_number(doc["health"]["overall"])
    for name, category in doc["health"]["categories"].items():
        assert page.text_content(f"#category-{name}") == fmt_number(category["score"]), name
    counted = [f for f in doc["findings"] if f["state"] in COUNTED_STATES]
    for severity in ("critical", "high", "medium", "low", "unknown"):
        shown = page.text_content(f"#findings-{severity}")
        assert shown == str(sum(f["severity"] == severity for f in counted)), severity
    assert page.locator("#metrics tr").count() == len(doc["metrics"]) + 1
    assert page.locator("svg.spark").count() == len(doc["metrics"])  # every metric has its trend
    assert page.locator("svg.chart").count() == 2  # categories over time, findings by severity over time
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    page.close()


def test_outside_text_stays_text(browser: Any, tmp_path: Path) -> None:
    """A finding title, a gate message and a reason are not ours: <img onerror> must not become markup."""
    report = rich_report()
    evil = replace(report, repository=EVIL, gates=(GateResult(name=EVIL, passed=False, actual=1, threshold=2,
                                                              message=EVIL),))
    path = tmp_path / "evil.html"
    path.write_text(render_dashboard(evil, history()), encoding="utf-8")
    page, errors, requests = open_page(browser, path)
    assert errors == [] and requests == [path.as_uri()]
    assert page.locator("img").count() == 0
    assert EVIL in page.text_content("#gates")
    page.close()


def test_an_empty_report_without_history_still_renders(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "empty.html"
    path.write_text(render_dashboard(empty_report(), {}), encoding="utf-8")
    page, errors, requests = open_page(browser, path)
    assert errors == [] and requests == [path.as_uri()]
    assert page.text_content("#overall") == "—"
    assert "No scored run stored yet." in page.text_content("body")
    page.close()


def test_the_rollup_page_fits_fifty_repositories(browser: Any, tmp_path: Path) -> None:
    rows = [RepositoryRow(repository=f"octo-org/repo-{i:02d}", timestamp=NOW, overall=50.0 + i % 50,
                          grade="B", categories={"security": 70.0 + i % 30, "activity": 60.0},
                          trend=[(NOW - timedelta(days=d), 40.0 + (i + d) % 60) for d in range(30, 0, -1)])
             for i in range(50)]
    path = tmp_path / "rollup.html"
    path.write_text(render_rollup_dashboard(rows, generated_at=NOW), encoding="utf-8")
    page, errors, requests = open_page(browser, path)
    assert errors == [] and requests == [path.as_uri()]
    assert page.locator("#repositories tr").count() == 51
    assert page.locator("svg.spark").count() == 50
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "rollup-dashboard.png"), full_page=True)
    page.close()


def test_the_page_is_readable_without_javascript(browser: Any, tmp_path: Path) -> None:
    path = tmp_path / "index.html"
    path.write_text(render_dashboard(rich_report(), history()), encoding="utf-8")
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    assert page.text_content("#overall") == fmt_number(json.loads(json.dumps(
        json_report.to_json(rich_report())))["health"]["overall"])
    context.close()
