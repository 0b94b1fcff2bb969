"""The series handed to Prometheus: the guide's names, counters from the history's totals, one naming scheme."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from repo_automation.domain import Action, CategoryScore, ChangeKind, Health, Metric, RunReport
from repo_automation.history.automation import Totals, automation_metrics, changes_made
from repo_automation.sinks import metric_families as fam
from tests.helpers import FIXED_NOW


def samples(families: list[fam.Family]) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry, _ = fam.registry_of(families)
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for f in text_string_to_metric_families(text) for s in f.samples}


def test_the_counters_and_the_histogram_carry_the_totals() -> None:
    totals = Totals(runs=4, durations=(3.0, 20.0, 20.0, 4000.0), changes={"issue_created": 5.0, "triage": 1.0})
    got = samples(fam.total_families(totals, {"repository": "acme/app"}))
    repo = (("repository", "acme/app"),)
    assert got[("automation_runs_total", repo)] == 4
    assert got[("automation_issues_created_total", repo)] == 5
    assert got[("automation_changes_total", (*repo, ("type", "issue_created")))] == 5
    assert got[("automation_changes_total", (*repo, ("type", "pull_request_merged")))] == 0  # never: still a series
    assert ("automation_changes_total", (*repo, ("type", "triage"))) not in got  # not a ChangeKind
    buckets = {dict(labels)["le"]: v for (name, labels), v in got.items() if name.endswith("_bucket")}
    assert buckets["5.0"] == 1 and buckets["30.0"] == 3 and buckets["3600.0"] == 3 and buckets["+Inf"] == 4
    assert got[("automation_duration_seconds_sum", repo)] == 4043.0
    assert got[("automation_duration_seconds_count", repo)] == 4


def test_health_scores_are_one_gauge_by_category_with_overall() -> None:
    health = Health(overall=72.5, grade="C", categories={
        "security": CategoryScore(name="security", score=65.0, inputs={}),
        "reliability": CategoryScore(name="reliability", score=None, inputs={}, missing=("reliability.uptime",))})
    got = samples([fam.health_family(health, {})])
    assert got == {("project_health_score", (("category", "overall"),)): 72.5,
                   ("project_health_score", (("category", "security"),)): 65.0}


def test_measured_metrics_keep_their_gauge_names() -> None:
    metrics = [Metric(name="security.critical_vulnerabilities", value=2, source="pip-audit"),
               Metric(name="reliability.uptime", value=float("nan"), source="prometheus")]
    families = fam.gauge_families(metrics, {})
    _, series = fam.registry_of(families)
    assert series == 1
    assert samples(families) == {("repo_automation_security_critical_vulnerabilities", (("source", "pip-audit"),)): 2}


def test_only_performed_changes_are_counted_and_stored() -> None:
    actions = (Action(sink="issues", description="create", performed=True, change=ChangeKind.ISSUE_CREATED),
               Action(sink="issues", description="create", performed=True, change=ChangeKind.ISSUE_CREATED),
               Action(sink="issues", description="would update", performed=False, change=ChangeKind.ISSUE_UPDATED),
               Action(sink="history", description="stored", performed=True))
    report = RunReport(schema_version="1.1", repository="acme/app", generated_at=FIXED_NOW, dry_run=False,
                       health=Health(overall=None, grade=None, categories={}), actions=actions)
    assert changes_made(report) == {ChangeKind.ISSUE_CREATED: 2}
    rows = {m.name: m.value for m in automation_metrics(report, 12.3456)}
    assert rows == {"automation.duration_seconds": 12.346, "automation.changes.issue_created": 2.0}
