"""maintainability_rating / reliability_rating / security_rating: Sonar's letters A (best) … E (worst).

Metrics carry ratings as numbers, A=1 … E=5 (Sonar answers "1.0" … "5.0"). A gate configured with "B"
passes for A and B and fails for C, D and E.

Maintainability without SonarQube: when `code_quality.maintainability_rating` is absent but the
complexity collector measured `code_quality.maintainability_index`, the rating is derived from the index
with `repo_automation.core.derive.mi_rating` (A >= 20, B >= 15, C >= 10, D >= 5, E below) and the
message says so. Sonar's rating always wins when both exist.
"""

from __future__ import annotations

from collections.abc import Mapping

from repo_automation.context import RunContext
from repo_automation.core.derive import derive_maintainability_rating
from repo_automation.domain import GateResult, Metric
from repo_automation.stages import Gate

LETTERS = "ABCDE"


def letter(value: float) -> str | None:
    """1.0 → "A" … 5.0 → "E"; None for anything that is not a rating."""
    rounded = round(value)
    if abs(value - rounded) > 0.01 or not 1 <= rounded <= 5:
        return None
    return LETTERS[rounded - 1]


def number(grade: str) -> int:
    """ "A" → 1 … "E" → 5 (ValueError for anything else)."""
    g = grade.strip().upper()
    if len(g) != 1 or g not in LETTERS:
        raise ValueError(f"not a rating letter A-E: {grade!r}")
    return LETTERS.index(g) + 1


class _RatingGate(Gate):
    metric: str
    label: str

    def __init__(self, *, worst: str) -> None:
        self.worst = worst.strip().upper()
        self._limit = number(self.worst)

    def _measured(self, metrics: Mapping[str, Metric]) -> tuple[Metric | None, str]:
        metric = metrics.get(self.metric)
        return metric, (metric.source if metric is not None else "")

    def evaluate(self, metrics: Mapping[str, Metric], ctx: RunContext) -> GateResult:
        metric, where = self._measured(metrics)
        if metric is None:
            return GateResult(name=self.name, passed=None, actual=None, threshold=self.worst,
                              message=f"no {self.label} rating measured (SonarQube not configured or not "
                                      f"reachable), so the {self.worst} limit cannot be checked")
        grade = letter(metric.value)
        if grade is None:
            return GateResult(name=self.name, passed=None, actual=metric.value, threshold=self.worst,
                              message=f"{self.label} rating {metric.value!r} from {where} is not a rating 1-5")
        if number(grade) <= self._limit:
            return GateResult(name=self.name, passed=True, actual=grade, threshold=self.worst,
                              message=f"{self.label} rating {grade} meets {self.worst} or better ({where})")
        return GateResult(name=self.name, passed=False, actual=grade, threshold=self.worst,
                          message=f"{self.label} rating {grade} is worse than the required {self.worst} ({where})")


class MaintainabilityRatingGate(_RatingGate):
    name = "maintainability_rating"
    metric = "code_quality.maintainability_rating"
    label = "maintainability"

    def _measured(self, metrics: Mapping[str, Metric]) -> tuple[Metric | None, str]:
        metric = metrics.get(self.metric)
        if metric is not None and metric.source != "radon-mi":
            return metric, metric.source
        derived = metric or derive_maintainability_rating(metrics.values())
        if derived is None:
            return None, ""
        mi = derived.metadata.get("maintainability_index")
        return derived, f"derived from radon maintainability index {mi}, no SonarQube rating"


class ReliabilityRatingGate(_RatingGate):
    name = "reliability_rating"
    metric = "code_quality.reliability_rating"
    label = "reliability"


class SecurityRatingGate(_RatingGate):
    name = "security_rating"
    metric = "code_quality.security_rating"
    label = "security"
