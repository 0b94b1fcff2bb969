"""complexity_threshold: no function may be more complex than the configured cyclomatic complexity.

Two modes (`automation.code_quality.gate_modes.complexity_threshold`):
- absolute: any function over the threshold fails the gate;
- ratchet (the default): a repository over the threshold fails only when it got worse than its baseline.
  On a pull request the baseline is the pull request's base: the gate fails when a changed function is over
  the threshold and new, or more complex than at the base (`code_quality.changed_complex_functions`).
  Otherwise it is the last stored run of the metrics history: the gate fails when more functions exceed the
  threshold than then (`code_quality.complex_functions`), or the most complex one got more complex. With no
  baseline at all the gate is inconclusive and says how to get one.
With `improvement_suggestions` the result names the worst offenders (file:line, name, complexity) and
suggests what to split first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from repo_automation.context import RunContext
from repo_automation.domain import GateMode, GateResult, GateScope, Metric
from repo_automation.gates.baseline import BaselineReader, no_baseline
from repo_automation.history import HistoryError
from repo_automation.stages import Gate

METRIC = "code_quality.max_complexity"
COUNT = "code_quality.complex_functions"
THRESHOLD = "code_quality.complexity_threshold"  # what COUNT was counted for
CHANGED = "code_quality.changed_complex_functions"
SUGGESTED = 3  # offenders turned into suggestions


class ComplexityGate(Gate):
    name = "complexity_threshold"

    def __init__(self, *, threshold: int, list_offenders: bool = True, mode: GateMode = GateMode.ABSOLUTE,
                 baseline: BaselineReader = no_baseline) -> None:
        self.threshold = threshold
        self.list_offenders = list_offenders
        self.mode = GateMode(mode)
        self.baseline = baseline

    def evaluate(self, metrics: Mapping[str, Metric], ctx: RunContext) -> GateResult:
        metric = metrics.get(METRIC)
        if metric is None:
            return self._result(None, None, "no complexity measured (no Python files, or the complexity collector "
                                            "did not run), so the threshold cannot be checked")
        actual = int(metric.value)
        if actual <= self.threshold:
            return self._result(True, actual, f"every function is at or below complexity {self.threshold} "
                                              f"(highest: {actual})")
        offenders = [o for o in _offenders(metric.metadata) if o["complexity"] > self.threshold]
        over = _count_over(metric.metadata, self.threshold, len(offenders))
        summary = f"{over} {_noun(over)} complexity {self.threshold}{_worst(offenders)}"
        if self.mode is GateMode.ABSOLUTE:
            return self._result(False, actual, summary, offenders)
        changed = metrics.get(CHANGED)
        if changed is not None:
            return self._against_base(changed, actual, summary)
        return self._against_history(metrics, actual, summary, offenders, on_pr=ctx.pull_request is not None)

    def _against_base(self, changed: Metric, actual: int, summary: str) -> GateResult:
        """A pull request: only changed functions that are new over the threshold or got worse fail it."""
        meta = changed.metadata
        worse = [o for o in meta.get("offenders", []) if isinstance(o, Mapping)]
        base = f"the base {str(meta.get('base', ''))[:12]}"
        compared = f"{meta.get('changed_functions', 0)} function(s) in {meta.get('changed_files', 0)} changed file(s)"
        if not worse:
            return self._result(True, actual, f"{summary}; this pull request adds or worsens none of them "
                                              f"({compared} compared with {base})", [], base, GateScope.CHANGE)
        lines = [f"{o['path']}:{o['line']} {o['name']}: complexity {o['complexity']} "
                 + ("(new)" if o.get("base_complexity") is None else f"(was {o['base_complexity']} at the base)")
                 for o in worse]
        return self._result(False, actual, f"this pull request adds or worsens {len(worse)} function(s) over "
                                           f"complexity {self.threshold} ({compared} compared with {base})",
                            worse, base, GateScope.CHANGE, details=lines)

    def _against_history(self, metrics: Mapping[str, Metric], actual: int, summary: str,
                         offenders: list[dict[str, Any]], *, on_pr: bool) -> GateResult:
        count = metrics.get(COUNT)
        try:
            baseline = self.baseline([COUNT, METRIC, THRESHOLD])
        except HistoryError as e:
            return self._result(None, actual, f"{summary}; the ratchet cannot read its baseline: {e}", offenders)
        if baseline is None or count is None or COUNT not in baseline.values:
            return self._result(None, actual, f"{summary}; ratchet: no earlier stored run to compare with, so this "
                                              "run cannot be judged (store runs with --store-db, or set "
                                              "gate_modes.complexity_threshold to absolute)", offenders)
        counted_for = baseline.values.get(THRESHOLD)
        if counted_for is not None and int(counted_for) != self.threshold:
            return self._result(None, actual, f"{summary}; ratchet: complexity_threshold changed since "
                                              f"{baseline.label} ({int(counted_for)} then, {self.threshold} now), "
                                              "so its count is not comparable: this run becomes the baseline",
                                offenders)
        before, now = int(baseline.values[COUNT]), int(count.value)
        top_before = baseline.values.get(METRIC)
        scope = GateScope.CHANGE if on_pr else GateScope.REPOSITORY  # the stored run stands for the base
        where = f"{baseline.label}: {before} over, highest {_int(top_before)}"
        if now > before:
            why = f"{now} functions exceed complexity {self.threshold}, {now - before} more than at {where}"
        elif top_before is not None and actual > top_before:
            why = f"the most complex function rose to {actual}, above {_int(top_before)} at {baseline.label}"
        else:
            return self._result(True, actual, f"{summary}; no worse than {where} (ratchet)", offenders,
                                where, scope)
        return self._result(False, actual, f"{why}{_worst(offenders)}", offenders, where, scope)

    def _result(self, passed: bool | None, actual: int | None, message: str,
                offenders: Sequence[Mapping[str, Any]] = (), baseline: str | None = None,
                scope: GateScope = GateScope.REPOSITORY, *, details: Sequence[str] | None = None) -> GateResult:
        listed = details if details is not None else [
            f"{o['path']}:{o['line']} {o['name']}: complexity {o['complexity']}" for o in offenders]
        return GateResult(name=self.name, passed=passed, actual=actual, threshold=self.threshold, message=message,
                          details=tuple(listed) if self.list_offenders else (), mode=self.mode, scope=scope,
                          baseline=baseline,
                          suggestions=tuple(self._suggest(offenders)) if self.list_offenders else ())

    def _suggest(self, offenders: Sequence[Mapping[str, Any]]) -> list[str]:
        return [f"Split {o['name']} ({o['path']}:{o['line']}, complexity {o['complexity']}) into smaller functions: "
                f"{o['complexity'] - self.threshold} decision point(s) over the threshold of {self.threshold}"
                for o in offenders[:SUGGESTED]]


def _int(v: float | None) -> str:
    return "unknown" if v is None else str(int(v))


def _noun(count: str) -> str:
    return "function exceeds" if count in ("1", "at least 1") else "functions exceed"


def _worst(offenders: Sequence[Mapping[str, Any]]) -> str:
    if not offenders:
        return ""
    w = offenders[0]
    return f" (worst: {w['name']} at {w['path']}:{w['line']}, {w['complexity']})"


def _offenders(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = meta.get("worst_offenders")
    out: list[dict[str, Any]] = []
    if isinstance(raw, Sequence):
        for o in raw:
            if isinstance(o, Mapping) and {"path", "line", "name", "complexity"} <= o.keys():
                out.append(dict(o))
    return sorted(out, key=lambda o: -o["complexity"])


def _count_over(meta: Mapping[str, Any], threshold: int, listed: int) -> str:
    """How many functions exceed the threshold: exact when the collector counted for this threshold."""
    if meta.get("threshold") == threshold and isinstance(meta.get("over_threshold"), int):
        return str(meta["over_threshold"])
    return f"at least {max(listed, 1)}"
