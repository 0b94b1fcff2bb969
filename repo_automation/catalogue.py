"""The metric catalogue: every metric name the project knows, with unit, meaning and direction.

Names are `category.metric`. Alert conditions may only name catalogue metrics, the docs print this table,
and `core.derive.derive_metrics` adds the `security.*` counts computed from scanner findings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricInfo:
    """What one metric means. `higher_is_better` None means neither direction is better (e.g. a count)."""

    name: str
    unit: str
    description: str
    higher_is_better: bool | None

    @property
    def category(self) -> str:
        return self.name.split(".", 1)[0]


_UP, _DOWN, _NEUTRAL = True, False, None

# name, unit, higher is better, description
_TABLE: tuple[tuple[str, str, bool | None, str], ...] = (
    ("git.commits_per_week", "commits/week", _UP, "Mean commits per week on the default branch (local history)."),
    ("git.active_contributors_90d", "contributors", _UP, "Distinct authors with a commit in the last 90 days."),
    ("git.contributors_total", "contributors", _UP, "Distinct authors in the whole history."),
    ("git.contributor_absence_factor", "contributors", _UP,
     "Fewest authors who together made half of the recent commits (bus factor)."),
    ("git.days_since_last_commit", "days", _DOWN, "Days since the newest commit."),
    ("git.releases_per_quarter", "releases/quarter", _UP, "Release tags per quarter over the last year."),
    ("github.stars", "count", _UP, "Stargazers of the repository."),
    ("github.forks", "count", _UP, "Forks of the repository."),
    ("github.watchers", "count", _UP, "Watchers of the repository."),
    ("github.open_issues", "count", _DOWN, "Open issues (pull requests excluded)."),
    ("github.open_pull_requests", "count", _NEUTRAL, "Open pull requests."),
    ("github.pull_requests_merged_per_week", "pull requests/week", _UP, "Pull requests merged per week."),
    ("github.commits_per_week", "commits/week", _UP, "Commits per week on the default branch, from GitHub."),
    ("github.contributors", "contributors", _UP, "Contributors GitHub counts for the repository."),
    ("github.releases", "count", _UP, "Published releases."),
    ("github.time_to_first_response_median_hours", "hours", _DOWN,
     "Median hours until an issue or pull request gets its first response from someone else."),
    ("github.time_to_first_response_p90_hours", "hours", _DOWN, "90th percentile of the time to first response."),
    ("github.change_request_closure_ratio", "ratio", _UP,
     "Pull requests closed or merged per pull request opened in the period (0-1+)."),
    ("github.contributor_absence_factor", "contributors", _UP,
     "Fewest contributors who together made half of the recent commits, from GitHub."),
    ("github.releases_per_quarter", "releases/quarter", _UP, "Releases per quarter over the last year."),
    ("github.open_issue_age_median_days", "days", _DOWN, "Median age of the open issues."),
    ("performance.build_time", "minutes", _DOWN, "Median duration of recent workflow runs."),
    ("performance.build_time_p95", "minutes", _DOWN, "95th percentile duration of recent workflow runs."),
    ("performance.response_time_p95", "ms", _DOWN, "95th percentile response time of the application."),
    ("performance.response_time_p99", "ms", _DOWN, "99th percentile response time of the application."),
    ("performance.request_rate", "requests/s", _NEUTRAL, "Requests per second served by the application."),
    ("reliability.build_success_rate", "percent", _UP, "Share of recent completed workflow runs that succeeded."),
    ("reliability.uptime", "percent", _UP, "Share of time the application was up (0-100)."),
    ("reliability.error_rate", "percent", _DOWN, "Share of requests that failed (0-100)."),
    ("code_quality.coverage", "percent", _UP,
     "Test coverage: covered lines and branches over measurable ones (coverage.py's TOTAL); lines only "
     "when the report has no branch data."),
    ("code_quality.line_coverage", "percent", _UP, "Line coverage of the test suite (lines only)."),
    ("code_quality.branch_coverage", "percent", _UP, "Branch coverage of the test suite (reports with branch data)."),
    ("code_quality.changed_lines_coverage", "percent", _UP,
     "On a pull request: coverage of the lines it adds or changes (those the coverage report measures)."),
    ("code_quality.max_complexity", "complexity", _DOWN, "Highest cyclomatic complexity of one function."),
    ("code_quality.average_complexity", "complexity", _DOWN, "Mean cyclomatic complexity of the functions."),
    ("code_quality.complex_functions", "count", _DOWN,
     "Functions more complex than complexity_threshold (what the complexity ratchet compares)."),
    ("code_quality.complexity_threshold", "complexity", _NEUTRAL,
     "The complexity_threshold complex_functions was counted for (a ratchet never compares two thresholds)."),
    ("code_quality.changed_complex_functions", "count", _DOWN,
     "On a pull request: changed functions that are over complexity_threshold and new, or more complex than "
     "at the base."),
    ("code_quality.maintainability_index", "index", _UP, "Radon maintainability index (0-100), mean over files."),
    ("code_quality.maintainability_rating", "rating", _DOWN,
     "Maintainability rating, A=1 … E=5 (Sonar's, or derived from radon's maintainability index)."),
    ("code_quality.reliability_rating", "rating", _DOWN, "Sonar reliability rating, A=1 … E=5."),
    ("code_quality.security_rating", "rating", _DOWN, "Sonar security rating, A=1 … E=5."),
    ("code_quality.technical_debt_minutes", "minutes", _DOWN, "Sonar's estimate of the effort to fix code smells."),
    ("code_quality.duplication", "percent", _DOWN, "Duplicated lines density."),
    ("code_quality.ncloc", "lines", _NEUTRAL, "Non-comment lines of code."),
    ("security.critical_vulnerabilities", "count", _DOWN, "Critical findings not fixed or ignored."),
    ("security.high_vulnerabilities", "count", _DOWN, "High-severity findings not fixed or ignored."),
    ("security.medium_vulnerabilities", "count", _DOWN, "Medium-severity findings not fixed or ignored."),
    ("security.low_vulnerabilities", "count", _DOWN, "Low-severity findings not fixed or ignored."),
    ("security.vulnerabilities", "count", _DOWN,
     "Dependency advisories (any severity) plus high and critical code findings, test code left out (what the "
     "security score weighs)."),
    ("security.hotspots", "count", _DOWN,
     "Sonar security hotspots, or else medium-severity code findings (bandit, semgrep), test code left out."),
    ("security.sonar_vulnerabilities", "count", _DOWN, "Vulnerabilities SonarQube reports for the project."),
)

CATALOGUE: Mapping[str, MetricInfo] = MappingProxyType(
    {name: MetricInfo(name=name, unit=unit, description=desc, higher_is_better=up) for name, unit, up, desc in _TABLE}
)

def known_metrics() -> frozenset[str]:
    return frozenset(CATALOGUE)


def is_app_metric(name: str) -> bool:
    """`app.<name>` (lower case, digits, `_`): the free namespace for the application's own metrics, such as the
    database collector's queries. Alert conditions accept them besides the catalogue's names."""
    head, _, tail = name.partition(".")
    return head == "app" and tail[:1].isalpha() and tail.isascii() and tail.islower() and (
        tail.replace("_", "").isalnum())


def info(name: str) -> MetricInfo | None:
    return CATALOGUE.get(name)


def categories() -> tuple[str, ...]:
    """Categories in catalogue order."""
    return tuple(dict.fromkeys(i.category for i in CATALOGUE.values()))
