"""The Grafana dashboard, as code: `python -m devtools.grafana_dashboards` writes grafana/dashboards/*.json.

Built with grafana-foundation-sdk (Grafana's own builders; a test extra). The metric names come from the
sink that pushes them (sinks/metric_families.py) and the history's own row names (history/automation.py), so
a renamed series breaks the generator, not a dashboard in the field. A test keeps the checked-in JSON equal
to what this produces (`--check` says whether it is), and runs every PromQL expression against a real
Prometheus fed by real runs and every SQL query against a real PostgreSQL history.

Three template variables: `datasource` (a Prometheus), `history` (the PostgreSQL metrics history) and
`repository` (the repositories that pushed, from `automation_runs_total`). SQL panels read the guide's
`project_metrics` table, which every schema version of the history has under that name (on version 2 the
partitioned parent), and the repository from `metric_metadata->>'repository'`, which every version has.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from repo_automation.history.automation import CHANGES_PREFIX, DURATION
from repo_automation.history.deltas import OVERALL
from repo_automation.sinks import metric_families as fam

ROOT = Path(__file__).resolve().parents[1]
DASHBOARDS = ROOT / "grafana" / "dashboards"
UID = "repo-automation"
FILE = DASHBOARDS / f"{UID}.json"
PROMETHEUS = "prometheus"
POSTGRES = "grafana-postgresql-datasource"  # the PostgreSQL plugin's id since Grafana 10.3 ("postgres" before)
REPO = 'repository=~"$repository"'
REPO_SQL = "COALESCE(metric_metadata->>'repository', '') IN ($repository)"


class SqlQuery:
    """A PostgreSQL panel target (the SDK has no builder for it): raw SQL in code mode."""

    def __init__(self, sql: str, *, ref_id: str = "A", fmt: str = "time_series") -> None:
        self.sql, self.ref_id, self.fmt = sql, ref_id, fmt

    def build(self) -> SqlQuery:
        return self

    def to_json(self) -> dict[str, Any]:
        return {"refId": self.ref_id, "datasource": {"type": POSTGRES, "uid": "${history}"}, "editorMode": "code",
                "format": self.fmt, "rawQuery": True, "rawSql": self.sql}


def _ref(kind: str, variable: str) -> Any:
    from grafana_foundation_sdk.models.dashboard import DataSourceRef

    return DataSourceRef(type_val=kind, uid=f"${{{variable}}}")


def _prom(expr: str, legend: str, ref_id: str = "A") -> Any:
    from grafana_foundation_sdk.builders import prometheus

    return (prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(ref_id)
            .datasource(_ref(PROMETHEUS, "datasource")))


def _last() -> Any:
    from grafana_foundation_sdk.builders.common import ReduceDataOptions

    return ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def _legend() -> Any:
    from grafana_foundation_sdk.builders.common import VizLegendOptions
    from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement

    return (VizLegendOptions().display_mode(LegendDisplayMode.LIST).placement(LegendPlacement.BOTTOM)
            .show_legend(True))


def _thresholds(*steps: tuple[float | None, str]) -> Any:
    from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
    from grafana_foundation_sdk.models.dashboard import Threshold, ThresholdsMode

    return ThresholdsConfig().mode(ThresholdsMode.ABSOLUTE).steps([Threshold(value=v, color=c) for v, c in steps])


def _variables() -> list[Any]:
    from grafana_foundation_sdk.builders.dashboard import DatasourceVariable, QueryVariable
    from grafana_foundation_sdk.models.dashboard import VariableRefresh, VariableSort

    return [
        DatasourceVariable("datasource").label("Prometheus").type(PROMETHEUS),
        DatasourceVariable("history").label("Metrics history").type(POSTGRES),
        QueryVariable("repository").label("Repository").datasource(_ref(PROMETHEUS, "datasource"))
        .query({"query": f"label_values({fam.RUNS}_total, repository)", "refId": "repository"})
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
        .multi(True).include_all(True),
    ]


def _status_panels() -> list[Any]:
    from grafana_foundation_sdk.builders import bargauge, gauge, stat, timeseries

    runs = f"{fam.RUNS}_total"
    return [
        stat.Panel().title("Automation Status").description("Runs stored in the metrics history, per repository.")
        .with_target(_prom(f"sum by (repository) ({runs}{{{REPO}}})", "{{repository}}"))
        .thresholds(_thresholds((None, "red"), (1, "green"))).reduce_options(_last()).height(6).span(6),
        stat.Panel().title("Since the last run").unit("s")
        .with_target(_prom(f"time() - max by (repository) ({fam.LAST_RUN}{{{REPO}}})", "{{repository}}"))
        .thresholds(_thresholds((None, "green"), (2 * 86400, "yellow"), (7 * 86400, "red")))
        .reduce_options(_last()).height(6).span(6),
        stat.Panel().title("Issues created")
        .with_target(_prom(f"sum({fam.ISSUES}_total{{{REPO}}})", "issues"))
        .thresholds(_thresholds((None, "blue"))).reduce_options(_last()).height(6).span(4),
        bargauge.Panel().title("Changes by type")
        .with_target(_prom(f"sum by (type) ({fam.CHANGES}_total{{{REPO}}})", "{{type}}"))
        .thresholds(_thresholds((None, "blue"))).reduce_options(_last()).height(6).span(8),
        gauge.Panel().title("Project Health Scores").description("0 to 100: red below 60, yellow below 80.")
        .with_target(_prom(f"{fam.HEALTH}{{{REPO}}}", "{{category}} ({{repository}})")).min(0).max(100)
        .thresholds(_thresholds((None, "red"), (60, "yellow"), (80, "green"))).reduce_options(_last())
        .show_threshold_markers(True).height(8).span(24),
        timeseries.Panel().title("Run duration").unit("s")
        .with_target(_prom(f"histogram_quantile(0.95, sum by (le, repository) ({fam.DURATION}_bucket{{{REPO}}}))",
                           "p95 {{repository}}"))
        .with_target(_prom(f"sum by (repository) ({fam.DURATION}_sum{{{REPO}}}) / "
                           f"sum by (repository) ({fam.DURATION}_count{{{REPO}}})", "mean {{repository}}", "B"))
        .legend(_legend()).height(8).span(12),
        timeseries.Panel().title("Runs per day")
        .with_target(_prom(f"sum by (repository) (increase({runs}{{{REPO}}}[1d]))", "{{repository}}"))
        .legend(_legend()).height(8).span(12),
    ]


def _history_panels() -> list[Any]:
    from grafana_foundation_sdk.builders import table, timeseries

    health = ("SELECT timestamp AS \"time\", substr(metric_name, 8) AS metric, metric_value AS value\n"
              "FROM project_metrics\n"
              f"WHERE $__timeFilter(timestamp) AND metric_name LIKE 'health.%' AND metric_value IS NOT NULL\n"
              f"  AND {REPO_SQL}\nORDER BY 1")
    durations = ("SELECT timestamp AS \"time\", COALESCE(metric_metadata->>'repository', '') AS metric, "
                 "metric_value AS value\nFROM project_metrics\n"
                 f"WHERE $__timeFilter(timestamp) AND metric_name = '{DURATION}' AND {REPO_SQL}\nORDER BY 1")
    runs = ("SELECT timestamp AS \"time\", COALESCE(metric_metadata->>'repository', '') AS repository,\n"
            f"  MAX(metric_value) FILTER (WHERE metric_name = '{OVERALL}') AS health,\n"
            f"  MAX(metric_value) FILTER (WHERE metric_name = '{DURATION}') AS duration_seconds,\n"
            f"  SUM(metric_value) FILTER (WHERE metric_name LIKE '{CHANGES_PREFIX}%') AS changes,\n"
            "  COUNT(*) AS \"values\"\nFROM project_metrics\n"
            f"WHERE $__timeFilter(timestamp) AND {REPO_SQL}\nGROUP BY 1, 2\nORDER BY 1 DESC\nLIMIT 100")
    return [
        timeseries.Panel().title("Health history").description("health.* rows of project_metrics.")
        .with_target(SqlQuery(health)).min(0).max(100)
        .thresholds(_thresholds((None, "red"), (60, "yellow"), (80, "green"))).legend(_legend()).height(8).span(12),
        timeseries.Panel().title("Run duration history").unit("s")
        .with_target(SqlQuery(durations)).legend(_legend()).height(8).span(12),
        table.Panel().title("Stored runs")
        .with_target(SqlQuery(runs, fmt="table")).show_header(True).height(10).span(24),
    ]


def build() -> dict[str, Any]:
    """The dashboard's JSON model (as Grafana stores it)."""
    from grafana_foundation_sdk.builders.dashboard import Dashboard, Row
    from grafana_foundation_sdk.cog.encoder import JSONEncoder

    board = (Dashboard("Repository automation").uid(UID).tags(["repo-automation"]).editable()
             .description("What repo-automation measured, how its runs went, and the metrics history.")
             .time("now-30d", "now").refresh("5m").timezone("browser").variables(_variables()))
    ids = iter(range(1, 100))
    for title, source, panels in (("Automation (Prometheus)", _ref(PROMETHEUS, "datasource"), _status_panels()),
                                  ("Metrics history (PostgreSQL project_metrics)", _ref(POSTGRES, "history"),
                                   _history_panels())):
        board = board.with_row(Row(title).id(next(ids)))
        for panel in panels:
            board = board.with_panel(panel.id(next(ids)).datasource(source))
    doc: dict[str, Any] = json.loads(json.dumps(board.build(), cls=JSONEncoder))
    return doc


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.grafana_dashboards", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the checked-in JSON is not up to date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = FILE.read_text(encoding="utf-8") if FILE.is_file() else ""
        if current != text:
            print(f"{FILE.relative_to(ROOT)} is not what the generator produces: run python -m "
                  "devtools.grafana_dashboards", file=sys.stderr)
            return 1
        return 0
    FILE.parent.mkdir(parents=True, exist_ok=True)
    FILE.write_text(text, encoding="utf-8")
    print(f"wrote {FILE.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
