"""Health scoring: every number below is computed by hand from the formulas in scoring.py's docstring."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from repo_automation import config as config_mod
from repo_automation.config.sections import Scoring
from repo_automation.core.scoring import config_problems, grade, score
from repo_automation.domain import Metric
from tests.helpers import make_context


def _metrics(**values: float) -> list[Metric]:
    return [Metric(name=k.replace("__", "."), value=v, source="test") for k, v in values.items()]


def _score(tmp_path: Path, config: dict[str, Any] | None = None, **values: float) -> Any:
    return score(_metrics(**values), make_context(tmp_path, config=config).config)


ALL = {
    "code_quality__coverage": 72.0, "code_quality__maintainability_rating": 2.0,  # 72 + (6-2)*5 = 92
    "reliability__uptime": 99.5, "reliability__error_rate": 1.5,                   # 99.5 - 1.5 = 98
    "performance__response_time_p95": 500.0,                                       # 100 - 500/2000*100 = 75
    "security__vulnerabilities": 2.0, "security__hotspots": 3.0,                   # 100 - (20 + 15) = 65
}


def test_all_four_formulas_and_the_equal_weighted_overall(tmp_path: Path) -> None:
    health = _score(tmp_path, **ALL)
    assert {n: c.score for n, c in health.categories.items()} == {
        "code_quality": 92.0, "reliability": 98.0, "performance": 75.0, "security": 65.0}
    assert health.overall == 82.5  # (92 + 98 + 75 + 65) / 4
    assert health.grade == "B"
    assert health.weights == {"code_quality": 1.0, "reliability": 1.0, "performance": 1.0, "security": 1.0}
    cq = health.categories["code_quality"]
    assert cq.inputs == {"code_quality.coverage": 72.0, "code_quality.maintainability_rating": 2.0}
    assert cq.missing == () and "maintainability_rating" in cq.formula


@pytest.mark.parametrize(("coverage", "rating", "expected"), [
    (80.0, 1.0, 100.0),   # 80 + 25 = 105, capped
    (70.0, 3.0, 85.0),    # 70 + 15
    (0.0, 5.0, 5.0),      # 0 + 5
    (-10.0, 5.0, 5.0),    # coverage clamped to 0
    (130.0, 5.0, 100.0),  # coverage clamped to 100
    (50.0, 7.0, 50.0),    # a rating past E gives no negative bonus
    (60.0, 3.7, 71.5),    # radon-derived fractional rating: 60 + 2.3*5
])
def test_code_quality(tmp_path: Path, coverage: float, rating: float, expected: float) -> None:
    h = _score(tmp_path, code_quality__coverage=coverage, code_quality__maintainability_rating=rating)
    assert h.categories["code_quality"].score == expected


@pytest.mark.parametrize(("uptime", "error_rate", "expected"), [
    (99.9, 0.4, 99.5), (100.0, 0.0, 100.0), (2.0, 5.0, 0.0), (150.0, 0.0, 100.0)])
def test_reliability_in_percent(tmp_path: Path, uptime: float, error_rate: float, expected: float) -> None:
    h = _score(tmp_path, reliability__uptime=uptime, reliability__error_rate=error_rate)
    assert h.categories["reliability"].score == expected


@pytest.mark.parametrize(("p95", "expected"), [(0.0, 100.0), (250.0, 87.5), (1999.0, 0.05), (2000.0, 0.0),
                                               (9000.0, 0.0)])
def test_performance(tmp_path: Path, p95: float, expected: float) -> None:
    assert _score(tmp_path, performance__response_time_p95=p95).categories["performance"].score == expected


@pytest.mark.parametrize(("vulns", "hotspots", "expected"), [(0, 0, 100.0), (1, 0, 90.0), (0, 3, 85.0),
                                                             (5, 10, 0.0), (11, 0, 0.0)])
def test_security(tmp_path: Path, vulns: float, hotspots: float, expected: float) -> None:
    h = _score(tmp_path, security__vulnerabilities=vulns, security__hotspots=hotspots)
    assert h.categories["security"].score == expected


def test_missing_inputs_are_inconclusive_and_left_out(tmp_path: Path) -> None:
    h = _score(tmp_path, code_quality__coverage=90.0, reliability__uptime=99.0, reliability__error_rate=1.0,
               security__vulnerabilities=0.0)
    cq = h.categories["code_quality"]
    assert cq.score is None and cq.missing == ("code_quality.maintainability_rating",)
    assert cq.inputs == {"code_quality.coverage": 90.0}
    assert h.categories["performance"].missing == ("performance.response_time_p95",)
    assert h.categories["security"].score is None and h.categories["security"].missing == ("security.hotspots",)
    assert h.overall == 98.0 and h.grade == "A"  # only reliability is conclusive


def test_nothing_conclusive_means_no_overall(tmp_path: Path) -> None:
    h = _score(tmp_path, github__stars=10.0)
    assert h.overall is None and h.grade is None
    assert all(c.score is None for c in h.categories.values())


def test_weights_from_config(tmp_path: Path) -> None:
    cfg = {"scoring": {"weights": {"security": 3, "performance": 0}}}
    h = _score(tmp_path, cfg, **ALL)
    # (92*1 + 98*1 + 75*0 + 65*3) / 5 = 385 / 5 = 77
    assert h.overall == 77.0 and h.grade == "C"
    assert h.weights["security"] == 3.0


def test_zero_weight_on_the_only_conclusive_category(tmp_path: Path) -> None:
    h = _score(tmp_path, {"scoring": {"weights": {"performance": 0}}}, performance__response_time_p95=100.0)
    assert h.categories["performance"].score == 95.0
    assert h.overall is None and h.grade is None


@pytest.mark.parametrize(("overall", "letter"), [(100.0, "A"), (90.0, "A"), (89.99, "B"), (80.0, "B"), (70.0, "C"),
                                                 (60.0, "D"), (59.99, "F"), (0.0, "F")])
def test_default_grades(overall: float, letter: str) -> None:
    assert grade(overall, config_mod.defaults().scoring.grades) == letter


def test_configured_grades(tmp_path: Path) -> None:
    cfg = {"scoring": {"grades": {"A": 95, "B": 85}}}
    h = _score(tmp_path, cfg, reliability__uptime=94.0, reliability__error_rate=0.0)
    assert h.overall == 94.0 and h.grade == "B"


def _scoring(raw: dict[str, Any]) -> Scoring:
    return config_mod.document({"scoring": raw}).scoring


def test_config_problems() -> None:
    assert config_problems(_scoring({})) == []
    assert config_problems(_scoring({"grades": {"B": 95}})) == [
        "$.scoring.grades.B: 95 is above grade A's 90; thresholds must not rise from A to D"]
    weights = {"code_quality": 0, "reliability": 0, "performance": 0, "security": 0}
    assert config_problems(_scoring({"weights": weights})) == [
        "$.scoring.weights: every weight is 0, so no overall score could be computed"]


def test_loader_rejects_rising_grades(tmp_path: Path) -> None:
    from repo_automation.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        make_context(tmp_path, config={"scoring": {"grades": {"C": 85}}})
    assert "$.scoring.grades.C: 85 is above grade B's 80" in err.value.diagnostics()
