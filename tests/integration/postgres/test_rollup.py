"""The organisation roll-up through the real CLI, on SQLite and the real PostgreSQL: three repositories'
runs stored by the history sink the way the fan-out example stores them, then read back per repository."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from repo_automation.cli import main
from repo_automation.domain import CategoryScore, Health, RunReport
from repo_automation.pipeline import Stages, deliver
from repo_automation.sinks.history import HistorySink
from tests.helpers import FIXED_NOW, make_context


def assert_valid_rollup(doc: dict) -> None:  # type: ignore[type-arg]
    """The document against the schema shipped in the package (repo_automation/report/rollup.schema.json)."""
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files("repo_automation.report").joinpath("rollup.schema.json").read_text())
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(doc)


def store_run(target: str, workspace: Path, repository: str, when: datetime, overall: float, grade: str,
              security: float | None) -> None:
    categories = {"security": CategoryScore(name="security", score=security, inputs={})}
    report = RunReport(schema_version="1.1", repository=repository, generated_at=when, dry_run=False,
                       health=Health(overall=overall, grade=grade, categories=categories))
    ctx = make_context(workspace, store_db=True, history_db=target)
    final = deliver(report, Stages(sinks=[HistorySink.from_context(ctx)]), ctx)
    assert [a.performed for a in final.actions] == [True]


def test_rollup_lists_each_repository_s_newest_run_with_its_own_changes(store_target: str, tmp_path: Path) -> None:
    day = timedelta(days=1)
    store_run(store_target, tmp_path, "acme/api", FIXED_NOW - 31 * day, 70.0, "C", 90.0)
    store_run(store_target, tmp_path, "acme/web", FIXED_NOW - 30 * day, 40.0, "F", None)
    store_run(store_target, tmp_path, "acme/api", FIXED_NOW - 2 * day, 80.0, "B", 95.0)
    store_run(store_target, tmp_path, "acme/api", FIXED_NOW - day, 86.5, "B", 100.0)
    store_run(store_target, tmp_path, "acme/web", FIXED_NOW - day + timedelta(hours=1), 45.0, "F", 60.0)
    store_run(store_target, tmp_path, "acme/docs", FIXED_NOW - day, 99.0, "A", 99.0)

    out = tmp_path / "out"
    summary = tmp_path / "summary.md"
    status = main(["rollup", "-C", str(tmp_path), "--history-db", store_target, "--output-dir", str(out)],
                  env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert status == 0
    doc = json.loads((out / "rollup-report.json").read_text(encoding="utf-8"))
    assert_valid_rollup(doc)
    rows = {r["repository"]: r for r in doc["repositories"]}
    assert list(rows) == ["acme/api", "acme/docs", "acme/web"]
    api = rows["acme/api"]
    # its newest run (86.5) against its own previous (80) and its run nearest to 30 days before (70, 31 days
    # before "now" = 30 days before that run), never web's or docs' numbers
    assert (api["overall"], api["grade"], api["delta_previous"], api["delta_30d"]) == (86.5, "B", 6.5, 16.5)
    assert api["categories"] == {"security": 100.0}
    assert datetime.fromisoformat(api["last_run"]) == FIXED_NOW - day
    web = rows["acme/web"]
    assert (web["overall"], web["delta_previous"], web["delta_30d"]) == (45.0, 5.0, 5.0)
    assert web["categories"] == {"security": 60.0}
    docs = rows["acme/docs"]
    assert (docs["delta_previous"], docs["delta_30d"]) == (None, None)  # its first run: nothing to compare

    markdown = (out / "rollup-report.md").read_text(encoding="utf-8")
    assert "| `acme/api` | " in markdown and "| 86.5 | B | +6.5 | +16.5 | 100 |" in markdown
    assert "| `acme/docs` | " in markdown and "| 99 | A | — | — | 99 |" in markdown
    assert summary.read_text(encoding="utf-8") == markdown  # the same table in the job summary


def test_a_store_without_runs_is_a_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    status = main(["rollup", "-C", str(tmp_path), "--history-db", "missing.sqlite",
                   "--output-dir", str(tmp_path / "out")], env={})
    assert status == 2
    assert "holds no runs" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "missing.sqlite").exists()


def test_a_store_with_only_unscoped_rows_rolls_up_to_an_empty_table(tmp_path: Path) -> None:
    store_run("h.sqlite", tmp_path, "", FIXED_NOW, 50.0, "F", None)  # no repository: not attributable
    assert main(["rollup", "-C", str(tmp_path), "--history-db", "h.sqlite",
                 "--output-dir", str(tmp_path / "out")], env={}) == 0
    doc = json.loads((tmp_path / "out" / "rollup-report.json").read_text(encoding="utf-8"))
    assert_valid_rollup(doc)
    assert doc["repositories"] == []
    assert "No repository has a scored run" in (tmp_path / "out" / "rollup-report.md").read_text(encoding="utf-8")
