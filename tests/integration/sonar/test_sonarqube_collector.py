"""The SonarQube collector against the local Sonar web API in tests/fakesonar."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from repo_automation.collectors.sonarqube import SonarQubeCollector, make_session
from repo_automation.domain import Status
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.pipeline import Stages, measure
from repo_automation.redaction import Secret
from repo_automation.stages import partial_of
from tests.fakesonar import FakeSonar, SonarProject
from tests.helpers import make_context

TOKEN = "squ_0123456789abcdef"
MEASURES = {
    "coverage": "84.3", "sqale_rating": "2.0", "reliability_rating": "1.0", "security_rating": "3.0",
    "vulnerabilities": "4", "security_hotspots": "7", "sqale_index": "1230", "duplicated_lines_density": "3.1",
    "ncloc": "15234", "bugs": "12", "alert_status": "ERROR",
}
CONDITIONS = [
    {"status": "ERROR", "metricKey": "new_coverage", "comparator": "LT", "errorThreshold": "80",
     "actualValue": "61.2"},
    {"status": "OK", "metricKey": "new_security_rating", "comparator": "GT", "errorThreshold": "1",
     "actualValue": "1"},
]


@pytest.fixture
def sonar():
    projects = [
        SonarProject(key="acme_widgets", measures=dict(MEASURES), gate_status="ERROR", gate_conditions=CONDITIONS,
                     pull_request_gates={"42": "OK"}),
        SonarProject(key="acme_secret", measures={"ncloc": "10"}),
        SonarProject(key="acme_fresh", measures={}, gate_status="NONE"),
    ]
    with FakeSonar(projects=projects, tokens={TOKEN: {"acme_widgets", "acme_fresh"}}) as fake:
        yield fake


def _ctx(tmp_path: Path, host: str | None, key: str | None = "acme_widgets", token: str | None = TOKEN,
         pull_request: int | None = None, **extra: object):
    sonar_cfg: dict[str, object] = {**extra}
    if host:
        sonar_cfg["host"] = host
    if key:
        sonar_cfg["project_key"] = key
    env = {"SONAR_TOKEN": token} if token else {}
    if pull_request is not None:
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {
            "number": pull_request, "base": {"sha": "b" * 40, "ref": "main"}, "head": {"sha": "c" * 40, "ref": "f"}}}))
        env |= {"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request"}
    return make_context(tmp_path, config={"tracking": {"data_sources": {"sonarqube": sonar_cfg}}}, env=env)


def _collect(ctx) -> dict:
    return {m.name: m for m in SonarQubeCollector.from_context(ctx).collect(ctx)}


def test_measures_are_parsed_from_strings_with_gate_status(tmp_path: Path, sonar: FakeSonar) -> None:
    metrics = _collect(_ctx(tmp_path, sonar.url, organization="acme"))
    values = {name: m.value for name, m in metrics.items()}
    assert values == {
        "code_quality.coverage": 84.3, "code_quality.maintainability_rating": 2.0,
        "code_quality.reliability_rating": 1.0, "code_quality.security_rating": 3.0,
        "security.sonar_vulnerabilities": 4.0, "security.hotspots": 7.0,
        "code_quality.technical_debt_minutes": 1230.0, "code_quality.duplication": 3.1,
        "code_quality.ncloc": 15234.0,
    }
    cov = metrics["code_quality.coverage"]
    assert cov.source == "sonarqube"
    assert cov.metadata["quality_gate"] == "ERROR"
    assert cov.metadata["quality_gate_failing_conditions"] == ["new_coverage"]
    assert cov.metadata["dashboard"] == f"{sonar.url}/dashboard?id=acme_widgets"
    assert cov.metadata["organization"] == "acme"
    # two GETs, each with the token as a Bearer header
    assert [(r.method, r.path) for r in sonar.requests] == [
        ("GET", "/api/measures/component"), ("GET", "/api/qualitygates/project_status")]
    assert all(r.authorization == f"Bearer {TOKEN}" for r in sonar.requests)


def test_unknown_extra_metric_key_is_dropped_and_retried_once(tmp_path: Path, sonar: FakeSonar) -> None:
    metrics = _collect(_ctx(tmp_path, sonar.url, metrics=["bugs", "no_such_metric", "alert_status"]))
    assert metrics["sonarqube.bugs"].value == 12.0
    assert "sonarqube.alert_status" not in metrics  # "ERROR" is not a number
    assert metrics["code_quality.coverage"].value == 84.3
    measure_calls = [r for r in sonar.requests if r.path == "/api/measures/component"]
    assert len(measure_calls) == 2
    assert "no_such_metric" in measure_calls[0].query["metricKeys"]
    assert "no_such_metric" not in measure_calls[1].query["metricKeys"]
    assert "bugs" in measure_calls[1].query["metricKeys"]


def test_wrong_token_fails_with_a_clear_reason(tmp_path: Path, sonar: FakeSonar) -> None:
    with pytest.raises(SourceFailed, match=r"refused the token \(401"):
        _collect(_ctx(tmp_path, sonar.url, token="squ_wrong_token"))


def test_missing_token_on_private_project(tmp_path: Path, sonar: FakeSonar) -> None:
    with pytest.raises(SourceFailed, match=r"requires a token .*SONAR_TOKEN"):
        _collect(_ctx(tmp_path, sonar.url, token=None))


def test_token_without_permission_is_403(tmp_path: Path, sonar: FakeSonar) -> None:
    with pytest.raises(SourceFailed, match=r"may not browse project 'acme_secret' \(403: Insufficient privileges"):
        _collect(_ctx(tmp_path, sonar.url, key="acme_secret"))


def test_unknown_project_names_the_config_key(tmp_path: Path, sonar: FakeSonar) -> None:
    with pytest.raises(SourceFailed, match=r"no project 'acme_typo'.*project_key"):
        _collect(_ctx(tmp_path, sonar.url, key="acme_typo"))


def test_project_without_analysis_is_skipped(tmp_path: Path, sonar: FakeSonar) -> None:
    with pytest.raises(SourceSkipped, match="no measures for project 'acme_fresh'"):
        _collect(_ctx(tmp_path, sonar.url, key="acme_fresh"))


def test_not_configured_is_skipped_without_any_request(tmp_path: Path, sonar: FakeSonar) -> None:
    with pytest.raises(SourceSkipped, match="host and project_key"):
        _collect(_ctx(tmp_path, None))
    with pytest.raises(SourceSkipped, match="host and project_key"):
        _collect(_ctx(tmp_path, sonar.url, key=None))
    with pytest.raises(SourceSkipped, match="disabled"):
        _collect(_ctx(tmp_path, sonar.url, enabled=False))
    assert sonar.requests == []


def test_unreachable_server_is_a_failed_source(tmp_path: Path) -> None:
    with FakeSonar(projects=[]) as gone:
        url = gone.url
    ctx = _ctx(tmp_path, url)
    _, _, [result] = measure(Stages(collectors=[SonarQubeCollector.from_context(ctx)]), ctx)
    assert result.status is Status.FAILED
    assert "not reachable" in result.reason
    assert TOKEN not in result.reason


def test_gate_status_failure_keeps_the_measures(tmp_path: Path, sonar: FakeSonar) -> None:
    class NoGate(requests.Session):
        def get(self, url, **kw):  # type: ignore[override]
            if "qualitygates" in url:
                url = url.replace("api/qualitygates/project_status", "api/qualitygates/nope")
            return super().get(url, **kw)

    ctx = _ctx(tmp_path, sonar.url)
    collector = SonarQubeCollector(host=sonar.url, project_key="acme_widgets", session=NoGate(),
                                   token=Secret(TOKEN), extra_metrics=(), enabled=True)
    collected = collector.collect(ctx)
    metrics = {m.name: m for m in collected}
    assert metrics["code_quality.ncloc"].value == 15234
    assert metrics["code_quality.ncloc"].metadata["quality_gate"] is None
    assert all("404" not in repr(m.metadata) for m in collected)  # the error is the source's, not each metric's
    assert partial_of(collected).startswith("measures read; quality gate not read: ") and "404" in partial_of(collected)


def test_sonar_ratings_drive_the_rating_gates(tmp_path: Path, sonar: FakeSonar) -> None:
    from repo_automation.gates import build_gates
    from repo_automation.pipeline import evaluate_gates

    ctx = _ctx(tmp_path, sonar.url)
    metrics, _, _ = measure(Stages(collectors=[SonarQubeCollector.from_context(ctx)]), ctx)
    results = {r.name: r for r in evaluate_gates(build_gates(ctx), metrics, ctx)[0]}
    assert (results["security_rating"].passed, results["security_rating"].actual) == (False, "C")
    assert (results["reliability_rating"].passed, results["reliability_rating"].actual) == (True, "A")
    assert (results["maintainability_rating"].passed, results["maintainability_rating"].actual) == (False, "B")
    assert results["coverage_minimum"].passed is True  # 84.3 >= 80


def test_make_session_sets_a_user_agent() -> None:
    with make_session() as s:
        assert s.headers["User-Agent"].startswith("repo-automation/")


def test_busy_server_is_retried_after_retry_after(tmp_path: Path, sonar: FakeSonar) -> None:
    import time

    sonar.unavailable = 1
    start = time.monotonic()
    metrics = _collect(_ctx(tmp_path, sonar.url))
    assert metrics["code_quality.ncloc"].value == 15234
    assert time.monotonic() - start >= 1.0  # waited as Retry-After asked
    assert [r.path for r in sonar.requests].count("/api/measures/component") == 2


def test_token_never_appears_in_reasons_or_logs(tmp_path: Path, sonar: FakeSonar,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    for key, token in (("acme_secret", TOKEN), ("acme_widgets", "squ_wrong_token"), ("acme_typo", TOKEN)):
        ctx = _ctx(tmp_path, sonar.url, key=key, token=token, metrics=["no_such_metric"])
        _, _, [result] = measure(Stages(collectors=[SonarQubeCollector.from_context(ctx)]), ctx)
        assert result.status is Status.FAILED
        assert token not in result.reason
    assert TOKEN not in caplog.text and "squ_wrong_token" not in caplog.text


@pytest.mark.parametrize(("number", "status", "scope", "calls"), [
    (42, "OK", "pull request #42", 2),  # Sonar analysed the pull request: its gate
    (7, "ERROR", "main branch", 3),  # not analysed (404): the main branch's gate instead
])
def test_pull_request_gate(tmp_path: Path, sonar: FakeSonar, number: int, status: str, scope: str,
                           calls: int) -> None:
    metrics = _collect(_ctx(tmp_path, sonar.url, pull_request=number))
    meta = metrics["code_quality.coverage"].metadata
    assert (meta["quality_gate"], meta["quality_gate_scope"]) == (status, scope)
    gate_calls = [r.query for r in sonar.requests if r.path == "/api/qualitygates/project_status"]
    assert gate_calls[0] == {"projectKey": "acme_widgets", "pullRequest": str(number)}
    assert len(sonar.requests) == calls
