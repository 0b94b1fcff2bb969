from __future__ import annotations

from collections.abc import Callable

from .conftest import Run


def test_second_stored_run_reports_changes_and_a_trend_chart(run_action: Callable[..., Run]) -> None:
    """Two scheduled runs storing into one SQLite history: the second compares with the first."""
    inputs = {"store-db": "true", "history-db": ".repo-automation/history.sqlite"}
    first = run_action("schedule", inputs=inputs)
    assert first.status == 0, first.stderr
    assert (first.workspace / ".repo-automation" / "history.sqlite").is_file()
    assert all(m["change"]["previous"] is None for m in first.report_json()["metrics"])

    second = run_action("schedule", inputs=inputs)
    assert second.status == 0, second.stderr
    doc = second.report_json()
    commits = next(m for m in doc["metrics"] if m["name"] == "git.contributors_total")
    assert commits["change"]["previous"] == commits["value"]
    assert commits["change"]["delta_previous"] == 0
    assert len(doc["trend"]) >= 2
    md = (second.reports / "project-health-report.md").read_text(encoding="utf-8")
    assert "```mermaid\nxychart-beta" in md
    assert "| `git.contributors_total` | 1 |" in md
