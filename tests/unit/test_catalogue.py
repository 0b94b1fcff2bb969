"""The metric catalogue: every agreed name known, with unit, description and direction."""

from __future__ import annotations

from repo_automation.catalogue import CATALOGUE, categories, info, known_metrics

COMMON_NAMES = """git.commits_per_week git.active_contributors_90d git.contributors_total git.contributor_absence_factor
git.days_since_last_commit git.releases_per_quarter github.stars github.forks github.watchers github.open_issues
github.open_pull_requests github.pull_requests_merged_per_week github.commits_per_week github.contributors
github.releases github.time_to_first_response_median_hours github.time_to_first_response_p90_hours
github.change_request_closure_ratio github.contributor_absence_factor github.releases_per_quarter
github.open_issue_age_median_days performance.build_time performance.build_time_p95 reliability.build_success_rate
code_quality.coverage code_quality.max_complexity code_quality.average_complexity code_quality.maintainability_rating
code_quality.reliability_rating code_quality.security_rating code_quality.technical_debt_minutes
code_quality.duplication code_quality.ncloc security.critical_vulnerabilities security.high_vulnerabilities
security.medium_vulnerabilities security.low_vulnerabilities security.vulnerabilities security.hotspots
reliability.uptime reliability.error_rate performance.response_time_p95 performance.response_time_p99
performance.request_rate""".split()


def test_every_agreed_name_is_known_with_unit_and_description() -> None:
    assert set(COMMON_NAMES) <= known_metrics()
    for name, item in CATALOGUE.items():
        assert item.name == name and item.unit and item.description.endswith(".")
        assert item.category == name.split(".")[0]
    assert categories()[:3] == ("git", "github", "performance")
    assert info("reliability.uptime") is not None and info("reliability.uptime").higher_is_better is True  # type: ignore[union-attr]
    assert info("security.vulnerabilities").higher_is_better is False  # type: ignore[union-attr]
    assert info("nope.nothing") is None
