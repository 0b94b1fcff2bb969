"""Quality gates: pure verdicts over metrics, with numbers and reasons a reader can act on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from repo_automation.collectors.complexity import ComplexityCollector
from repo_automation.collectors.coverage import CoverageCollector
from repo_automation.core.derive import derive_maintainability_rating
from repo_automation.domain import Metric, Status
from repo_automation.gates import (
    ComplexityGate,
    CoverageGate,
    MaintainabilityRatingGate,
    ReliabilityRatingGate,
    SecurityRatingGate,
    build_gates,
)
from repo_automation.pipeline import Stages, evaluate_gates, measure
from tests.helpers import make_context


@pytest.fixture
def ctx(tmp_path: Path):
    return make_context(tmp_path)


def _m(name: str, value: float, source: str = "test", **meta: object) -> dict[str, Metric]:
    return {name: Metric(name=name, value=value, source=source, metadata=meta)}


def test_coverage_below_minimum_fails_with_numbers(ctx) -> None:
    r = CoverageGate(minimum=80).evaluate(_m("code_quality.coverage", 62.5, "coverage", path="coverage.xml"), ctx)
    assert r.passed is False
    assert (r.actual, r.threshold) == (62.5, 80)
    assert r.message == "coverage 62.5% is below the minimum 80.0% (coverage.xml): 17.5% short"


def test_coverage_at_minimum_passes(ctx) -> None:
    r = CoverageGate(minimum=80).evaluate(_m("code_quality.coverage", 80.0, "sonarqube"), ctx)
    assert r.passed is True
    assert "sonarqube" in r.message


def test_missing_input_is_inconclusive_not_passed(ctx) -> None:
    gates = [CoverageGate(minimum=80), ComplexityGate(threshold=10), MaintainabilityRatingGate(worst="A"),
             ReliabilityRatingGate(worst="A"), SecurityRatingGate(worst="B")]
    for gate in gates:
        r = gate.evaluate({}, ctx)
        assert r.passed is None, gate.name
        assert "cannot be checked" in r.message
        assert r.actual is None


ABSOLUTE = {"automation": {"code_quality": {"gate_modes": {"complexity_threshold": "absolute",
                                                            "coverage_minimum": "absolute"}}}}

OFFENDERS = [
    {"path": "src/a.py", "line": 10, "name": "Parser.parse", "complexity": 23},
    {"path": "src/b.py", "line": 4, "name": "route", "complexity": 12},
    {"path": "src/c.py", "line": 7, "name": "small", "complexity": 3},
]


def test_complexity_fails_naming_the_worst_offenders(ctx) -> None:
    metrics = _m("code_quality.max_complexity", 23, "complexity", worst_offenders=OFFENDERS,
                 threshold=10, over_threshold=2)
    r = ComplexityGate(threshold=10).evaluate(metrics, ctx)
    assert r.passed is False
    assert (r.actual, r.threshold) == (23, 10)
    assert r.message == "2 functions exceed complexity 10 (worst: Parser.parse at src/a.py:10, 23)"
    assert r.details == ("src/a.py:10 Parser.parse: complexity 23", "src/b.py:4 route: complexity 12")


def test_complexity_count_is_a_lower_bound_when_collected_for_another_threshold(ctx) -> None:
    metrics = _m("code_quality.max_complexity", 23, "complexity", worst_offenders=OFFENDERS,
                 threshold=5, over_threshold=9)
    r = ComplexityGate(threshold=20, list_offenders=False).evaluate(metrics, ctx)
    assert r.message == "at least 1 function exceeds complexity 20 (worst: Parser.parse at src/a.py:10, 23)"
    assert r.details == ()


def test_complexity_within_threshold_passes(ctx) -> None:
    r = ComplexityGate(threshold=10).evaluate(_m("code_quality.max_complexity", 7, "complexity"), ctx)
    assert r.passed is True
    assert r.message == "every function is at or below complexity 10 (highest: 7)"


@pytest.mark.parametrize(("value", "worst", "passed", "actual"), [
    (1.0, "A", True, "A"), (2.0, "A", False, "B"), (2.0, "B", True, "B"), (3.0, "B", False, "C"),
    (5.0, "D", False, "E"), (4.0, "E", True, "D"),
])
def test_rating_letters_compare_by_number(ctx, value: float, worst: str, passed: bool, actual: str) -> None:
    r = SecurityRatingGate(worst=worst).evaluate(_m("code_quality.security_rating", value, "sonarqube"), ctx)
    assert (r.passed, r.actual, r.threshold) == (passed, actual, worst)


def test_rating_failure_message(ctx) -> None:
    r = ReliabilityRatingGate(worst="A").evaluate(_m("code_quality.reliability_rating", 3.0, "sonarqube"), ctx)
    assert r.message == "reliability rating C is worse than the required A (sonarqube)"


def test_non_rating_value_is_inconclusive(ctx) -> None:
    r = ReliabilityRatingGate(worst="A").evaluate(_m("code_quality.reliability_rating", 7.0, "x"), ctx)
    assert r.passed is None


def test_maintainability_falls_back_to_radon_index_and_says_so(ctx) -> None:
    metrics = _m("code_quality.maintainability_index", 12.0, "complexity")
    r = MaintainabilityRatingGate(worst="B").evaluate(metrics, ctx)
    assert (r.passed, r.actual) == (False, "C")
    assert "derived from radon maintainability index 12.0" in r.message


def test_sonar_maintainability_rating_wins_over_radon(ctx) -> None:
    metrics = {**_m("code_quality.maintainability_index", 3.0, "complexity"),
               **_m("code_quality.maintainability_rating", 1.0, "sonarqube")}
    r = MaintainabilityRatingGate(worst="A").evaluate(metrics, ctx)
    assert (r.passed, r.actual) == (True, "A")
    assert "sonarqube" in r.message
    assert derive_maintainability_rating(metrics.values()) is None


def test_derived_rating_metric_explains_itself() -> None:
    [mi] = _m("code_quality.maintainability_index", 17.5, "complexity").values()
    derived = derive_maintainability_rating([mi])
    assert derived is not None
    assert (derived.name, derived.value, derived.source) == ("code_quality.maintainability_rating", 2.0, "radon-mi")
    assert derived.metadata["maintainability_index"] == 17.5


def test_build_gates_from_config(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"automation": {"code_quality": {"quality_gates": {
        "coverage_minimum": 65, "complexity_threshold": 15, "security_rating": "C"}}}})
    gates = {g.name: g for g in build_gates(ctx)}
    assert set(gates) == {"coverage_minimum", "complexity_threshold", "maintainability_rating",
                          "reliability_rating", "security_rating"}
    metrics = {**_m("code_quality.coverage", 70.0), **_m("code_quality.max_complexity", 15),
               **_m("code_quality.security_rating", 3.0)}
    assert gates["coverage_minimum"].evaluate(metrics, ctx).passed is True
    assert gates["complexity_threshold"].evaluate(metrics, ctx).passed is True
    assert gates["security_rating"].evaluate(metrics, ctx).passed is True
    assert gates["maintainability_rating"].evaluate(metrics, ctx).threshold == "A"  # the default


def test_no_gates_when_disabled_or_skipped(tmp_path: Path) -> None:
    assert build_gates(make_context(tmp_path, skip_quality=True)) == []
    assert build_gates(make_context(tmp_path, config={"automation": {"code_quality": {"enabled": False}}})) == []


def test_real_collectors_feed_the_gates(tmp_path: Path) -> None:
    """A complex function measured by radon makes the absolute complexity gate fail and name it; no coverage
    file makes the coverage gate inconclusive."""
    body = "".join(f"    if x == {i}:\n        return {i}\n" for i in range(12))
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(textwrap.dedent("""\
        def simple():
            return 0
        """) + "\n\ndef tangled(x):\n" + body + "    return -1\n", encoding="utf-8")
    ctx = make_context(tmp_path, config=ABSOLUTE)
    stages = Stages(collectors=[ComplexityCollector.from_context(ctx), CoverageCollector.from_context(ctx)])
    metrics, _, sources = measure(stages, ctx)
    assert {s.name: s.status for s in sources} == {"complexity": Status.OK, "coverage": Status.SKIPPED}
    results, gate_sources = evaluate_gates(build_gates(ctx), metrics, ctx)
    by_name = {r.name: r for r in results}
    assert all(s.status is Status.OK for s in gate_sources)
    cx = by_name["complexity_threshold"]
    assert cx.passed is False
    assert cx.actual == 13
    assert cx.details == ("pkg/mod.py:5 tangled: complexity 13",)
    assert by_name["coverage_minimum"].passed is None
    assert by_name["reliability_rating"].passed is None
    assert by_name["maintainability_rating"].passed is not None  # from radon's index
