"""Ratchet gates: a repository that misses a threshold fails only when it got worse than its baseline."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from repo_automation import config as config_mod
from repo_automation.core.verdict import decide
from repo_automation.domain import GateMode, GateResult, GateScope, Metric
from repo_automation.errors import ConfigError
from repo_automation.gates import ComplexityGate, CoverageGate, build_gates
from repo_automation.gates.baseline import Baseline, history_baseline
from repo_automation.history import HistoryError, open_store
from tests.fakegithub.builders import report
from tests.helpers import FIXED_NOW, make_context

OLD = {"path": "app/legacy.py", "line": 3, "name": "legacy", "complexity": 14}
NEW = {"path": "app/new.py", "line": 1, "name": "fresh", "complexity": 12}


def _metrics(*items: tuple[str, float, dict[str, object]]) -> dict[str, Metric]:
    return {n: Metric(name=n, value=v, source="test", metadata=meta) for n, v, meta in items}


def _complexity(offenders: Sequence[dict[str, object]]) -> dict[str, Metric]:
    top = max(int(str(o["complexity"])) for o in offenders)
    return _metrics(("code_quality.max_complexity", top, {"worst_offenders": list(offenders), "threshold": 10,
                                                          "over_threshold": len(offenders)}),
                    ("code_quality.complex_functions", len(offenders), {}))


def _stored(**values: float):  # a baseline reader answering these values
    def read(names: Sequence[str]) -> Baseline | None:
        return Baseline(label="the last stored run (2026-01-01 06:00 UTC)", values=values)
    return read


def _ratchet(**kw: object) -> ComplexityGate:
    return ComplexityGate(threshold=10, mode=GateMode.RATCHET, **kw)  # type: ignore[arg-type]


@pytest.fixture
def ctx(tmp_path: Path):
    return make_context(tmp_path)


def test_an_old_complex_function_alone_passes_the_ratchet(ctx) -> None:
    gate = _ratchet(baseline=_stored(**{"code_quality.complex_functions": 1, "code_quality.max_complexity": 14}))
    r = gate.evaluate(_complexity([OLD]), ctx)
    assert r.passed is True
    assert r.mode is GateMode.RATCHET
    assert "no worse than the last stored run (2026-01-01 06:00 UTC): 1 over, highest 14" in r.message
    assert r.details == ("app/legacy.py:3 legacy: complexity 14",)
    assert r.suggestions[0].startswith("Split legacy (app/legacy.py:3, complexity 14) into smaller functions")


def test_a_new_complex_function_fails_the_ratchet(ctx) -> None:
    gate = _ratchet(baseline=_stored(**{"code_quality.complex_functions": 1, "code_quality.max_complexity": 14}))
    r = gate.evaluate(_complexity([OLD, NEW]), ctx)
    assert r.passed is False
    assert r.message.startswith("2 functions exceed complexity 10, 1 more than at the last stored run")
    assert r.baseline == "the last stored run (2026-01-01 06:00 UTC): 1 over, highest 14"


def test_the_worst_function_getting_worse_fails_the_ratchet(ctx) -> None:
    gate = _ratchet(baseline=_stored(**{"code_quality.complex_functions": 1, "code_quality.max_complexity": 12}))
    r = gate.evaluate(_complexity([OLD]), ctx)
    assert r.passed is False
    assert "rose to 14, above 12" in r.message


def test_the_same_repository_fails_in_absolute_mode(ctx) -> None:
    r = ComplexityGate(threshold=10, mode=GateMode.ABSOLUTE).evaluate(_complexity([OLD]), ctx)
    assert (r.passed, r.mode) == (False, GateMode.ABSOLUTE)


def test_no_baseline_is_inconclusive_and_says_how_to_get_one(ctx) -> None:
    r = _ratchet().evaluate(_complexity([OLD]), ctx)
    assert r.passed is None
    assert "store runs with --store-db" in r.message and "absolute" in r.message


def test_an_unreadable_store_makes_the_ratchet_inconclusive(ctx) -> None:
    def broken(names: Sequence[str]) -> Baseline | None:
        raise HistoryError("metrics history x: cannot read the previous run: boom")
    r = _ratchet(baseline=broken).evaluate(_complexity([OLD]), ctx)
    assert r.passed is None
    assert "cannot read its baseline: metrics history x" in r.message


def test_on_a_pull_request_only_changed_functions_count(ctx) -> None:
    clean = {**_complexity([OLD]), **_metrics(("code_quality.changed_complex_functions", 0, {
        "base": "c" * 40, "changed_files": 1, "changed_functions": 2, "over_threshold": 0, "offenders": []}))}
    r = _ratchet().evaluate(clean, ctx)
    assert (r.passed, r.scope) == (True, GateScope.CHANGE)
    assert "adds or worsens none of them (2 function(s) in 1 changed file(s) compared with the base cccccccccccc)" \
        in r.message
    worse = {**_complexity([OLD, NEW]), **_metrics(("code_quality.changed_complex_functions", 2, {
        "base": "c" * 40, "changed_files": 2, "changed_functions": 3, "over_threshold": 2,
        "offenders": [{**NEW, "base_complexity": None}, {**OLD, "base_complexity": 11}]}))}
    r = _ratchet().evaluate(worse, ctx)
    assert (r.passed, r.scope) == (False, GateScope.CHANGE)
    assert r.details == ("app/new.py:1 fresh: complexity 12 (new)",
                         "app/legacy.py:3 legacy: complexity 14 (was 11 at the base)")


def _coverage(value: float, **extra: Metric) -> dict[str, Metric]:
    least = [{"path": "app/cli.py", "percent": 12.5, "missing": 70}, {"path": "app/db.py", "percent": 40.0,
                                                                      "missing": 30}]
    return {"code_quality.coverage": Metric(name="code_quality.coverage", value=value, source="coverage",
                                            metadata={"path": "coverage.xml", "basis": "lines",
                                                      "least_covered": least}), **extra}


def test_coverage_ratchet_passes_unless_coverage_fell(ctx) -> None:
    gate = CoverageGate(minimum=80, mode=GateMode.RATCHET, baseline=_stored(**{"code_quality.coverage": 61.0}))
    held = gate.evaluate(_coverage(61.0), ctx)
    assert held.passed is True
    assert "not lower than the last stored run (2026-01-01 06:00 UTC): 61.0% (ratchet)" in held.message
    assert held.details[0] == "app/cli.py: 12.5% covered, 70 line(s) not run by any test"
    assert held.suggestions[0] == "Add tests for app/cli.py: 70 line(s) no test runs (12.5% covered)"
    fell = gate.evaluate(_coverage(58.5), ctx)
    assert fell.passed is False
    assert fell.message == ("coverage fell to 58.5% from the last stored run (2026-01-01 06:00 UTC): 61.0% "
                            "(below the minimum 80.0%)")
    assert CoverageGate(minimum=80, mode=GateMode.RATCHET).evaluate(_coverage(58.5), ctx).passed is None
    assert CoverageGate(minimum=80).evaluate(_coverage(61.0), ctx).passed is False  # absolute


def _changed(percent: float, covered: int, total: int) -> Metric:
    return Metric(name="code_quality.changed_lines_coverage", value=percent, source="coverage",
                  metadata={"covered_lines": covered, "total_lines": total, "uncovered": ["app/new.py:4"]})


def test_coverage_on_a_pull_request_judges_the_changed_lines_first(ctx) -> None:
    gate = CoverageGate(minimum=80, mode=GateMode.RATCHET, baseline=_stored(**{"code_quality.coverage": 61.0}))
    ok = gate.evaluate(_coverage(60.9, **{"code_quality.changed_lines_coverage": _changed(90.0, 9, 10)}), ctx)
    assert (ok.passed, ok.scope) == (True, GateScope.CHANGE)
    assert "the lines this pull request changes are 90.0% covered (9 of 10 changed line(s))" in ok.message
    bad = gate.evaluate(_coverage(58.0, **{"code_quality.changed_lines_coverage": _changed(20.0, 2, 10)}), ctx)
    assert (bad.passed, bad.scope) == (False, GateScope.CHANGE)
    assert bad.suggestions[0] == "Cover the lines this pull request adds: app/new.py:4"
    held = gate.evaluate(_coverage(61.0, **{"code_quality.changed_lines_coverage": _changed(20.0, 2, 10)}), ctx)
    assert held.passed is True and "is not lower than the last stored run" in held.message


def test_improvement_suggestions_off_lists_nothing(ctx) -> None:
    baseline = _stored(**{"code_quality.complex_functions": 1, "code_quality.max_complexity": 14})
    r = _ratchet(baseline=baseline, list_offenders=False).evaluate(_complexity([OLD]), ctx)
    assert (r.details, r.suggestions) == ((), ())
    c = CoverageGate(minimum=80, list_files=False).evaluate(_coverage(50.0), ctx)
    assert (c.details, c.suggestions) == ((), ())


def test_ratchet_is_the_default_and_absolute_can_be_asked_for(tmp_path: Path) -> None:
    gates = {g.name: g for g in build_gates(make_context(tmp_path))}
    assert gates["complexity_threshold"].mode is GateMode.RATCHET  # type: ignore[attr-defined]
    assert gates["coverage_minimum"].mode is GateMode.RATCHET  # type: ignore[attr-defined]
    ctx = make_context(tmp_path, config={"automation": {"code_quality": {"gate_modes": {
        "complexity_threshold": "absolute"}}}})
    gates = {g.name: g for g in build_gates(ctx)}
    assert gates["complexity_threshold"].mode is GateMode.ABSOLUTE  # type: ignore[attr-defined]
    assert gates["coverage_minimum"].mode is GateMode.RATCHET  # type: ignore[attr-defined]
    with pytest.raises(ConfigError):
        make_context(tmp_path, config={"automation": {"code_quality": {"gate_modes": {"coverage_minimum": "strict"}}}})


def test_the_history_baseline_is_the_last_stored_run_of_this_repository(tmp_path: Path) -> None:
    db = str(tmp_path / "history.sqlite")
    with open_store(db, tmp_path) as store:
        store.ensure_schema()
        store.record([Metric(name="code_quality.complex_functions", value=3, source="complexity")],
                     FIXED_NOW - timedelta(days=2), repository="octo/app")
        store.record([Metric(name="code_quality.complex_functions", value=2, source="complexity")],
                     FIXED_NOW - timedelta(days=1), repository="octo/app")
        store.record([Metric(name="code_quality.complex_functions", value=9, source="complexity")],
                     FIXED_NOW - timedelta(hours=1), repository="octo/other")
    read = history_baseline(db, tmp_path, repository="octo/app", now=FIXED_NOW)
    baseline = read(["code_quality.complex_functions", "code_quality.max_complexity"])
    assert baseline is not None
    assert baseline.values == {"code_quality.complex_functions": 2.0}
    assert baseline.label == f"the last stored run ({FIXED_NOW - timedelta(days=1):%Y-%m-%d %H:%M} UTC)"
    assert history_baseline(str(tmp_path / "none.sqlite"), tmp_path, repository="octo/app", now=FIXED_NOW)(
        ["code_quality.complex_functions"]) is None
    assert not (tmp_path / "none.sqlite").exists()  # reading does not create a store


def _gate(passed: bool, scope: GateScope) -> GateResult:
    return GateResult(name="coverage_minimum", passed=passed, actual=50.0, threshold=80, message="coverage low",
                      scope=scope)


def test_on_a_pull_request_repository_wide_failures_are_context_not_failure(tmp_path: Path) -> None:
    cfg = config_mod.defaults()
    wide = report((), gates=(_gate(False, GateScope.REPOSITORY),))
    on_pr = decide(wide, cfg, pull_request=True)
    assert on_pr.passed is True
    assert on_pr.context == ("gate coverage_minimum failed: coverage low",)
    assert decide(wide, cfg).passed is False  # a scheduled run judges the repository
    change = report((), gates=(_gate(False, GateScope.CHANGE),))
    assert decide(change, cfg, pull_request=True).reasons == ("gate coverage_minimum failed: coverage low",)


def test_a_changed_threshold_is_not_compared_with_counts_for_the_old_one(ctx) -> None:
    gate = _ratchet(baseline=_stored(**{"code_quality.complex_functions": 0, "code_quality.max_complexity": 14,
                                        "code_quality.complexity_threshold": 15}))
    r = gate.evaluate(_complexity([OLD]), ctx)
    assert r.passed is None
    assert "complexity_threshold changed since the last stored run (2026-01-01 06:00 UTC) (15 then, 10 now)" \
        in r.message
