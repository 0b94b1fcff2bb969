"""The series a run hands to Prometheus (Pushgateway or node_exporter's textfile collector), one naming scheme:

- the guide's names for the automation's own numbers and the health scores, exactly as the guide spells them:
  `automation_runs_total`, `automation_duration_seconds` (a histogram: `_bucket{le}`, `_sum`, `_count`),
  `automation_changes_total{type}` (every ChangeKind, 0 when never made), `automation_issues_created_total`
  (counters: true totals over every run the metrics history holds, history/automation.py), and
  `project_health_score{category}` (each scored category and `overall`);
- every measured metric as a gauge `repo_automation_` + its name with each character Prometheus does not
  allow turned into `_` (`security.critical_vulnerabilities` → `repo_automation_security_critical_vulnerabilities`),
  labelled with the `source` that measured it, and `repo_automation_last_run_timestamp_seconds`.

Values that are not finite are left out. `labels` (the textfile's `repository`) go on every series; a
Pushgateway adds its grouping key's labels itself.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from repo_automation.catalogue import info
from repo_automation.domain import ChangeKind, Health, Metric
from repo_automation.history.automation import Totals

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric as Family

PREFIX = "repo_automation_"
HEALTH = "project_health_score"
RUNS = "automation_runs"  # prometheus-client adds the counters' `_total`
DURATION = "automation_duration_seconds"
CHANGES = "automation_changes"
ISSUES = "automation_issues_created"
LAST_RUN = PREFIX + "last_run_timestamp_seconds"
# Run durations, in seconds: a scheduled run takes from seconds (metrics only) to tens of minutes (full scans).
BUCKETS = (5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


def prometheus_name(metric: str) -> str:
    """`security.critical_vulnerabilities` -> `repo_automation_security_critical_vulnerabilities`."""
    return PREFIX + _INVALID.sub("_", metric)


def gauge_families(metrics: Sequence[Metric], labels: Mapping[str, str]) -> list[Family]:
    """One gauge per measured metric name, a series per source."""
    from prometheus_client.core import GaugeMetricFamily  # lazily, for start-up time

    families: dict[str, Any] = {}
    for m in metrics:
        if not math.isfinite(m.value):
            continue
        name = prometheus_name(m.name)
        if name not in families:
            meta = info(m.name)
            doc = f"{m.name}: {meta.description}" if meta else m.name
            families[name] = GaugeMetricFamily(name, doc, labels=[*labels, "source"])
        families[name].add_metric([*labels.values(), m.source], m.value)
    return list(families.values())


def health_family(health: Health, labels: Mapping[str, str]) -> Family:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(HEALTH, "Health score of the repository, 0 to 100, per category and overall.",
                               labels=[*labels, "category"])
    scores = {name: cat.score for name, cat in sorted(health.categories.items())}
    for category, value in {**scores, "overall": health.overall}.items():
        if value is not None and math.isfinite(value):
            family.add_metric([*labels.values(), category], float(value))
    return family


def total_families(totals: Totals, labels: Mapping[str, str]) -> list[Family]:
    """The counters and the duration histogram, from the history's totals."""
    from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily

    keys, values = list(labels), list(labels.values())
    runs = CounterMetricFamily(RUNS, "Runs of repo-automation stored in the metrics history.", labels=keys)
    runs.add_metric(values, totals.runs)
    changes = CounterMetricFamily(CHANGES, "Changes repo-automation made to the repository, by type.",
                                  labels=[*keys, "type"])
    for kind in ChangeKind:
        changes.add_metric([*values, kind.value], totals.changes.get(kind.value, 0.0))
    issues = CounterMetricFamily(ISSUES, "Issues repo-automation opened.", labels=keys)
    issues.add_metric(values, totals.issues_created)
    duration = HistogramMetricFamily(DURATION, "How long the runs took, until their metrics were stored.",
                                     labels=keys)
    duration.add_metric(values, buckets=_buckets(totals.durations), sum_value=sum(totals.durations))
    return [runs, duration, changes, issues]


def _buckets(durations: Sequence[float]) -> list[tuple[str, float]]:
    """Cumulative bucket counts, `+Inf` last (every run); bounds spelt as prometheus-client's own ("5.0")."""
    from prometheus_client.utils import floatToGoString

    out = [(str(floatToGoString(le)), float(sum(1 for d in durations if d <= le)))  # type: ignore[no-untyped-call]
           for le in BUCKETS]
    return [*out, ("+Inf", float(len(durations)))]


def registry_of(families: Iterable[Family]) -> tuple[CollectorRegistry, int]:
    """A registry serving these families, and how many series they hold (a histogram counts as one)."""
    from prometheus_client import CollectorRegistry

    held = list(families)

    class _Fixed:
        def collect(self) -> list[Family]:
            return held

    registry = CollectorRegistry(auto_describe=True)
    registry.register(_Fixed())
    series = sum(len({tuple(sorted((k, v) for k, v in s.labels.items() if k != "le")) for s in f.samples})
                 for f in held)
    return registry, series


def last_run_family(generated_at: float, labels: Mapping[str, str]) -> Family:
    from prometheus_client.core import GaugeMetricFamily

    family = GaugeMetricFamily(LAST_RUN, "When the run that pushed these metrics was made.", labels=list(labels))
    family.add_metric(list(labels.values()), generated_at)
    return family
