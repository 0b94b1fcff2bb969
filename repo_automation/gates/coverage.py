"""coverage_minimum: test coverage must reach the configured percentage.

It reads `code_quality.coverage`: lines and branches together when the report has branch data (coverage.py's
TOTAL, SonarQube's "coverage"), lines only otherwise. The message says which.

Two modes (`automation.code_quality.gate_modes.coverage_minimum`):
- absolute: coverage below the minimum fails;
- ratchet (the default): coverage below the minimum fails only when it fell below the baseline, the last
  stored run of the metrics history. On a pull request the lines it changes are judged first
  (`code_quality.changed_lines_coverage`): changed lines covered at least to the minimum pass, whatever the
  repository's total; otherwise the gate fails when the total also fell below the last stored run (or there
  is none to compare with). With no baseline outside a pull request the gate is inconclusive.
With `improvement_suggestions` the result names the least covered files and suggests where to add tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from repo_automation.context import RunContext
from repo_automation.domain import GateMode, GateResult, GateScope, Metric
from repo_automation.gates.baseline import Baseline, BaselineReader, no_baseline
from repo_automation.history import HistoryError
from repo_automation.stages import Gate

METRIC = "code_quality.coverage"
CHANGED = "code_quality.changed_lines_coverage"
TOLERANCE = 0.01  # percentage points: a rounding difference is not a drop
SUGGESTED = 3


class CoverageGate(Gate):
    name = "coverage_minimum"

    def __init__(self, *, minimum: float, list_files: bool = True, mode: GateMode = GateMode.ABSOLUTE,
                 baseline: BaselineReader = no_baseline) -> None:
        self.minimum = minimum
        self.list_files = list_files
        self.mode = GateMode(mode)
        self.baseline = baseline

    def evaluate(self, metrics: Mapping[str, Metric], ctx: RunContext) -> GateResult:
        metric = metrics.get(METRIC)
        if metric is None:
            return self._result(None, None, f"no coverage measured (no coverage report and no SonarQube coverage), "
                                            f"so the {_pct(self.minimum)} minimum cannot be checked")
        where = metric.metadata.get("path") or metric.source
        basis = metric.metadata.get("basis")
        where = f"{basis}, {where}" if basis else where
        files = _least_covered(metric.metadata)
        if metric.value >= self.minimum:
            return self._result(True, metric.value, f"coverage {_pct(metric.value)} meets the minimum "
                                                    f"{_pct(self.minimum)} ({where})")
        below = (f"coverage {_pct(metric.value)} is below the minimum {_pct(self.minimum)} ({where}): "
                 f"{_pct(self.minimum - metric.value)} short")
        if self.mode is GateMode.ABSOLUTE:
            return self._result(False, metric.value, below, files)
        try:
            baseline = self.baseline([METRIC])
        except HistoryError as e:
            return self._result(None, metric.value, f"{below}; the ratchet cannot read its baseline: {e}", files)
        changed = metrics.get(CHANGED)
        if changed is not None:
            return self._change(metric, changed, baseline, below, files)
        if baseline is None or METRIC not in baseline.values:
            return self._result(None, metric.value, f"{below}; ratchet: no earlier stored run to compare with, so "
                                                    "this run cannot be judged (store runs with --store-db, or set "
                                                    "gate_modes.coverage_minimum to absolute)", files)
        scope = GateScope.CHANGE if ctx.pull_request is not None else GateScope.REPOSITORY
        return self._against(metric, baseline, below, files, scope)

    def _against(self, metric: Metric, baseline: Baseline, below: str, files: Sequence[Mapping[str, Any]],
                 scope: GateScope) -> GateResult:
        before = baseline.values[METRIC]
        where = f"{baseline.label}: {_pct(before)}"
        if metric.value + TOLERANCE < before:
            return self._result(False, metric.value, f"coverage fell to {_pct(metric.value)} from {where} "
                                                     f"(below the minimum {_pct(self.minimum)})", files, where, scope)
        return self._result(True, metric.value, f"{below}; not lower than {where} (ratchet)", files, where, scope)

    def _change(self, metric: Metric, changed: Metric, baseline: Baseline | None, below: str,
                files: Sequence[Mapping[str, Any]]) -> GateResult:
        """A pull request: the changed lines' coverage first, then the total against the last stored run."""
        meta = changed.metadata
        lines = f"{meta.get('covered_lines', 0)} of {meta.get('total_lines', 0)} changed line(s)"
        if not meta.get("total_lines"):
            held = f"{below}; this pull request changes no measured line"
            if baseline is not None and METRIC in baseline.values:
                return self._against(metric, baseline, held, files, GateScope.CHANGE)
            return self._result(True, metric.value, held, files, None, GateScope.CHANGE)
        if changed.value >= self.minimum:
            held = f"{below}; the lines this pull request changes are {_pct(changed.value)} covered ({lines})"
            return self._result(True, metric.value, held, files, None, GateScope.CHANGE)
        short = (f"the lines this pull request changes are {_pct(changed.value)} covered ({lines}), below the "
                 f"minimum {_pct(self.minimum)}")
        if baseline is None or METRIC not in baseline.values:
            return self._result(False, metric.value, f"{short}, and no stored run shows the total did not fall",
                                files, None, GateScope.CHANGE, uncovered=meta)
        before = baseline.values[METRIC]
        where = f"{baseline.label}: {_pct(before)}"
        if metric.value + TOLERANCE < before:
            return self._result(False, metric.value, f"{short}, and total coverage fell to {_pct(metric.value)} "
                                                     f"from {where}", files, where, GateScope.CHANGE, uncovered=meta)
        return self._result(True, metric.value, f"{short}; but total coverage {_pct(metric.value)} is not lower "
                                                f"than {where}", files, where, GateScope.CHANGE, uncovered=meta)

    def _result(self, passed: bool | None, actual: float | None, message: str,
                files: Sequence[Mapping[str, Any]] = (), baseline: str | None = None,
                scope: GateScope = GateScope.REPOSITORY, *, uncovered: Mapping[str, Any] | None = None) -> GateResult:
        details = [f"{f['path']}: {_pct(f['percent'])} covered, {f['missing']} line(s) not run by any test"
                   for f in files]
        suggestions = [f"Add tests for {f['path']}: {f['missing']} line(s) no test runs ({_pct(f['percent'])} covered)"
                       for f in files[:SUGGESTED]]
        if uncovered and uncovered.get("uncovered"):
            suggestions.insert(0, "Cover the lines this pull request adds: " + ", ".join(
                str(u) for u in uncovered["uncovered"][:10]))
        return GateResult(name=self.name, passed=passed, actual=actual, threshold=self.minimum, message=message,
                          details=tuple(details) if self.list_files else (), mode=self.mode, scope=scope,
                          baseline=baseline, suggestions=tuple(suggestions) if self.list_files else ())


def _least_covered(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = meta.get("least_covered")
    out: list[dict[str, Any]] = []
    if isinstance(raw, Sequence):
        for f in raw:
            if isinstance(f, Mapping) and {"path", "percent", "missing"} <= f.keys():
                out.append(dict(f))
    return out


def _pct(v: float) -> str:
    return f"{v:.1f}%"
