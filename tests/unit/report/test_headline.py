"""The honest headline: the overall score with the share of the weight it rests on and what it did not see."""

from __future__ import annotations

from repo_automation.domain import CategoryScore, Health
from repo_automation.maintenance.docs import badge_json, badge_markdown
from repo_automation.report.views import headline

WEIGHTS = {"code_quality": 0.3, "reliability": 0.3, "performance": 0.2, "security": 0.2}


def _health(scored: dict[str, float], *, partial: tuple[str, ...] = ()) -> Health:
    categories = {name: CategoryScore(name=name, score=scored.get(name), inputs={}) for name in WEIGHTS}
    total = sum(WEIGHTS[n] for n in scored)
    overall = sum(s * WEIGHTS[n] for n, s in scored.items()) / total if scored else None
    return Health(overall=overall, grade="A" if overall is not None else None, categories=categories,
                  weights=WEIGHTS, partial=partial)


def test_one_category_of_four_on_partial_evidence_says_so() -> None:
    health = _health({"security": 100.0}, partial=("pip-audit failed",))
    assert headline(health) == "100 (A), from 1 of 4 categories (20% of the weight), partial: pip-audit failed"
    assert health.measured() == (1, 4, 0.2)
    assert badge_json(health) == {"schemaVersion": 1, "label": "health", "color": "brightgreen",
                                  "message": "100 (A), 1 of 4 categories, partial"}
    badge = badge_markdown(health)
    assert badge is not None and "1 of 4 categories (20% of the weight), partial: pip-audit failed" in badge


def test_everything_measured_is_the_plain_score() -> None:
    health = _health(dict.fromkeys(WEIGHTS, 95.0))
    assert headline(health) == "95 (A), from 4 of 4 categories"
    assert badge_json(health) == {"schemaVersion": 1, "label": "health", "color": "brightgreen", "message": "95 (A)"}


def test_a_category_of_weight_zero_counts_in_neither_side() -> None:
    health = Health(overall=80.0, grade="B", weights={"security": 1.0, "performance": 0.0},
                    categories={"security": CategoryScore(name="security", score=80.0, inputs={}),
                                "performance": CategoryScore(name="performance", score=None, inputs={})})
    assert headline(health) == "80 (B), from 1 of 1 category"


def test_inconclusive() -> None:
    assert headline(_health({})) == "inconclusive: no category had the inputs it needs"
    assert badge_json(_health({})) is None
