"""Health scoring: four category formulas, a weighted overall score and a letter grade. Pure.

The formulas (clamp = limit to [0, 100]):

- code_quality = min(100, clamp(coverage) + max(0, (6 - maintainability_rating) * 5)), rating A=1 … E=5
  (Sonar's rating, or the quality collector's rating derived from radon's maintainability index);
- reliability  = clamp(uptime - error_rate), both in percent (0-100). The old scripts took the error rate
  as a fraction and multiplied by 100; collectors now emit percent, so no factor appears here;
- performance  = clamp(100 - response_time_p95_ms / 2000 * 100): 0 ms scores 100, 2 s or slower scores 0;
- security     = max(0, 100 - (vulnerabilities * 10 + hotspots * 5)), where (core/derive.security_counts)
  vulnerabilities = every dependency advisory (whatever its severity) + high and critical code findings,
  hotspots = medium code findings (or Sonar's hotspots); low code findings count in neither, findings in
  test code count nowhere unless `count_test_findings`, and a finding without a severity counts as
  `unknown_severity` (default high).

A category with a missing input is inconclusive (score None, `missing` names the inputs) and is left out of
the overall score — never a silent 0 or 100. The overall score is the weighted mean of the conclusive
categories (weights from `scoring.weights`); with none conclusive, overall and grade are None. `Health.partial`
names, short, what the scored categories did not see ("pip-audit failed"), for the headline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING, Any

from repo_automation.domain import CategoryScore, Health, Metric

if TYPE_CHECKING:
    from repo_automation.config import Config
    from repo_automation.config.sections import Scoring

GRADE_LETTERS = ("A", "B", "C", "D")


def clamp(x: float) -> float:
    return min(100.0, max(0.0, x))


@dataclass(frozen=True, slots=True, kw_only=True)
class Formula:
    category: str
    inputs: tuple[str, ...]
    text: str
    compute: Callable[[Mapping[str, float]], float]


def _code_quality(v: Mapping[str, float]) -> float:
    coverage = clamp(v["code_quality.coverage"])
    bonus = max(0.0, (6.0 - v["code_quality.maintainability_rating"]) * 5.0)
    return min(100.0, coverage + bonus)


SECURITY_FORMULA = ("max(0, 100 - (vulnerabilities * 10 + hotspots * 5)); vulnerabilities = dependency advisories "
                    "+ high/critical code findings, hotspots = medium code findings; low findings and test code "
                    "count in neither")

FORMULAS: tuple[Formula, ...] = (
    Formula(category="code_quality", inputs=("code_quality.coverage", "code_quality.maintainability_rating"),
            text="min(100, clamp(coverage) + max(0, (6 - maintainability_rating) * 5))", compute=_code_quality),
    Formula(category="reliability", inputs=("reliability.uptime", "reliability.error_rate"),
            text="clamp(uptime - error_rate)  (both in percent)",
            compute=lambda v: clamp(v["reliability.uptime"] - v["reliability.error_rate"])),
    Formula(category="performance", inputs=("performance.response_time_p95",),
            text="clamp(100 - response_time_p95_ms / 2000 * 100)",
            compute=lambda v: clamp(100.0 - v["performance.response_time_p95"] / 2000.0 * 100.0)),
    Formula(category="security", inputs=("security.vulnerabilities", "security.hotspots"),
            text=SECURITY_FORMULA,
            compute=lambda v: max(0.0, 100.0 - (v["security.vulnerabilities"] * 10.0
                                                + v["security.hotspots"] * 5.0))),
)


def category_score(formula: Formula, values: Mapping[str, float],
                   metadata: Mapping[str, Mapping[str, Any]] | None = None) -> CategoryScore:
    inputs = {name: values[name] for name in formula.inputs if name in values}
    missing = tuple(name for name in formula.inputs if name not in values)
    value = None if missing else round(formula.compute(inputs), 2)
    return CategoryScore(name=formula.category, score=value, inputs=inputs, missing=missing, formula=formula.text,
                         notes=partial_evidence(inputs, metadata or {}))


def partial_evidence(inputs: Mapping[str, float], metadata: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """What an input did not see: the sources behind a derived count that were skipped or failed.

    A security score computed from bandit alone while pip-audit failed says so, so nobody reads "100" as
    "no vulnerable dependency"."""
    notes: list[str] = []
    for name in inputs:
        meta = metadata.get(name, {})
        for kind in ("failed", "skipped"):
            for entry in meta.get(kind, ()) or ():
                note = f"{kind}: {entry}"
                if note not in notes:
                    notes.append(note)
    return tuple(notes)


def partial_sources(categories: Mapping[str, CategoryScore], metadata: Mapping[str, Mapping[str, Any]]
                    ) -> tuple[str, ...]:
    """Short names of what the scored categories' inputs did not see: "pip-audit failed", "safety skipped"."""
    out: list[str] = []
    for c in categories.values():
        if c.score is None:
            continue
        for name in c.inputs:
            for kind in ("failed", "skipped"):
                for entry in metadata.get(name, {}).get(kind, ()) or ():
                    short = f"{str(entry).split(':', 1)[0]} {kind}"
                    if short not in out:
                        out.append(short)
    return tuple(out)


def grade(overall: float, thresholds: Mapping[str, float]) -> str:
    """The first letter (A, B, C, D) whose lowest score `overall` reaches; below all of them, F."""
    for letter in GRADE_LETTERS:
        if overall >= thresholds[letter]:
            return letter
    return "F"


def weights_from(config: Config) -> dict[str, float]:
    configured = config.scoring.weights
    return {f.category: configured[f.category] for f in FORMULAS}


def grades_from(config: Config) -> dict[str, float]:
    configured = config.scoring.grades
    return {letter: configured[letter] for letter in GRADE_LETTERS}


def score(metrics: Sequence[Metric], config: Config) -> Health:
    """Health from the metrics: every category (conclusive or not), the weighted overall and its grade."""
    values = {m.name: float(m.value) for m in metrics}
    metadata = {m.name: m.metadata for m in metrics}
    categories = {f.category: category_score(f, values, metadata) for f in FORMULAS}
    weights = weights_from(config)
    conclusive = [(c.score, weights[name]) for name, c in categories.items() if c.score is not None]
    total_weight = sum(w for _, w in conclusive)
    if not conclusive or total_weight <= 0:
        return Health(overall=None, grade=None, categories=categories, weights=weights)
    overall = round(sum(s * w for s, w in conclusive) / total_weight, 2)
    return Health(overall=overall, grade=grade(overall, grades_from(config)), categories=categories,
                  weights=weights, partial=partial_sources(categories, metadata))


def config_problems(scoring: Scoring) -> list[str]:
    """Scoring settings the schema cannot check: grades must not rise from A to D; some weight must count."""
    grades = scoring.grades
    values = [(letter, grades[letter]) for letter in GRADE_LETTERS]
    problems = []
    for (hi, hi_v), (lo, lo_v) in pairwise(values):
        if lo_v > hi_v:
            problems.append(f"$.scoring.grades.{lo}: {lo_v:g} is above grade {hi}'s {hi_v:g}; "
                            f"thresholds must not rise from A to D")
    weights = scoring.weights
    if all(weights[f.category] == 0 for f in FORMULAS):
        problems.append("$.scoring.weights: every weight is 0, so no overall score could be computed")
    return problems
