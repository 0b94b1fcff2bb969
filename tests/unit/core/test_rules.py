"""Alert conditions: the grammar, its error messages, and three-valued evaluation against metric values."""

from __future__ import annotations

from pathlib import Path

import pytest

from repo_automation import config as config_mod
from repo_automation.core.rules import (
    And,
    Comparison,
    ConditionError,
    MetricRef,
    Number,
    Or,
    evaluate,
    evaluate_alerts,
    evaluate_rules,
    parse_alert_rules,
    parse_condition,
)
from tests.helpers import make_context

UPTIME = MetricRef(name="reliability.uptime")
COV = MetricRef(name="code_quality.coverage")
CRIT = MetricRef(name="security.critical_vulnerabilities")


def test_simple_comparison_parses_into_frozen_nodes() -> None:
    rule = parse_condition("security.critical_vulnerabilities > 0")
    assert rule.expr == Comparison(left=CRIT, op=">", right=Number(value=0.0))
    with pytest.raises(AttributeError):
        rule.expr.op = "<"  # type: ignore[misc]


@pytest.mark.parametrize("op", [">", ">=", "<", "<=", "==", "!="])
def test_every_operator_is_accepted(op: str) -> None:
    assert parse_condition(f"reliability.uptime {op} 99.5").expr == Comparison(left=UPTIME, op=op,
                                                                                right=Number(value=99.5))


@pytest.mark.parametrize(("text", "value"), [("-3", -3.0), ("0", 0.0), ("99.0", 99.0), (".5", 0.5), ("10000", 10000.0)])
def test_numbers_ints_decimals_negatives(text: str, value: float) -> None:
    assert parse_condition(f"reliability.uptime>{text}").expr == Comparison(left=UPTIME, op=">",
                                                                             right=Number(value=value))


def test_and_binds_tighter_than_or() -> None:
    expr = parse_condition(
        "reliability.uptime < 99 or code_quality.coverage < 80 and security.critical_vulnerabilities > 0").expr
    assert isinstance(expr, Or)
    assert expr.items[0] == Comparison(left=UPTIME, op="<", right=Number(value=99.0))
    assert isinstance(expr.items[1], And)
    assert len(expr.items[1].items) == 2


def test_parentheses_override_precedence() -> None:
    expr = parse_condition(
        "(reliability.uptime < 99 or code_quality.coverage < 80) and security.critical_vulnerabilities > 0").expr
    assert isinstance(expr, And)
    assert isinstance(expr.items[0], Or)


def test_keywords_are_case_insensitive_and_metric_order_is_kept() -> None:
    rule = parse_condition("code_quality.coverage < 80 AND reliability.uptime < 99 Or code_quality.coverage < 10")
    assert rule.metrics == ("code_quality.coverage", "reliability.uptime")


@pytest.mark.parametrize(("text", "column", "fragment"), [
    ("reliability.uptme < 99", 1, "did you mean reliability.uptime?"),
    ("coverage < 80", 1, "did you mean code_quality.coverage?"),
    ("reliability.uptime = 99", 20, "use == to compare"),
    ("reliability.uptime < 99 && code_quality.coverage < 1", 25, "write 'and' / 'or'"),
    ("reliability.uptime 99", 20, "expected an operator"),
    ("reliability.uptime <", 21, "expected a metric name or a number, got the end of the condition"),
    ("(reliability.uptime < 99", 25, "expected ')' to close the '(' at column 1"),
    ("reliability.uptime < 99)", 24, "unexpected ')'"),
    ("reliability.uptime < 1.2.3", 22, "malformed number '1.2.3'"),
    ("1 < 2", 1, "compares two numbers"),
    ("   ", 1, "empty condition"),
    ("reliability.uptime < 99 and", 28, "got the end of the condition"),
])
def test_errors_say_what_and_where(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ConditionError) as err:
        parse_condition(text)
    assert err.value.column == column
    assert fragment in str(err.value)


def test_unknown_metric_lists_known_names_of_its_category() -> None:
    with pytest.raises(ConditionError) as err:
        parse_condition("reliability.availability < 99")
    msg = str(err.value)
    assert "unknown metric 'reliability.availability'" in msg
    assert "reliability.uptime" in msg and "reliability.error_rate" in msg and "reliability.build_success_rate" in msg


def test_no_python_is_evaluated() -> None:
    with pytest.raises(ConditionError):
        parse_condition("__import__('os').system('true') > 0")


def test_parse_alert_rules_reports_json_paths() -> None:
    alerts = config_mod.document({"alerts": {
        "critical": {"conditions": ["security.critical_vulnerabilities > 0", "reliability.uptim < 99"]},
        "warning": {"conditions": ["code_quality.coverage < 80"]},
    }}).alerts
    rules, problems = parse_alert_rules(alerts)
    assert [r.text for r in rules["critical"]] == ["security.critical_vulnerabilities > 0"]
    assert [r.text for r in rules["warning"]] == ["code_quality.coverage < 80"]
    assert len(problems) == 1
    assert problems[0].startswith("$.alerts.critical.conditions[1]: column 1: unknown metric 'reliability.uptim'")


def test_kleene_logic_with_missing_metrics() -> None:
    values = {"code_quality.coverage": 70.0}
    assert evaluate(parse_condition("reliability.uptime < 99").expr, values) == (None, {})
    # false and unknown = false; true or unknown = true (with only the true side's values)
    assert evaluate(parse_condition("code_quality.coverage > 80 and reliability.uptime < 99").expr, values)[0] is False
    assert evaluate(parse_condition("code_quality.coverage < 80 and reliability.uptime < 99").expr, values)[0] is None
    assert evaluate(parse_condition("code_quality.coverage < 80 or reliability.uptime < 99").expr, values) == (
        True, {"code_quality.coverage": 70.0})
    assert evaluate(parse_condition("code_quality.coverage > 80 or reliability.uptime < 99").expr, values)[0] is None


def test_witnesses_are_the_values_of_the_true_branches() -> None:
    values = {"code_quality.coverage": 70.0, "reliability.uptime": 98.0, "security.critical_vulnerabilities": 0.0}
    text = "security.critical_vulnerabilities > 0 or (code_quality.coverage < 80 and reliability.uptime < 99)"
    truth, used = evaluate(parse_condition(text).expr, values)
    assert truth is True
    assert used == {"code_quality.coverage": 70.0, "reliability.uptime": 98.0}


def test_boundaries_are_exact() -> None:
    rule = parse_condition("reliability.uptime < 99.0").expr
    assert evaluate(rule, {"reliability.uptime": 99.0})[0] is False
    assert evaluate(rule, {"reliability.uptime": 98.99})[0] is True
    eq = parse_condition("security.critical_vulnerabilities == 0").expr
    assert evaluate(eq, {"security.critical_vulnerabilities": 0.0})[0] is True
    ne = parse_condition("0 != security.critical_vulnerabilities").expr
    assert evaluate(ne, {"security.critical_vulnerabilities": 0.0})[0] is False


def test_evaluate_rules_fires_and_reports_inconclusive(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"alerts": {
        "critical": {"conditions": ["security.critical_vulnerabilities > 0", "reliability.uptime < 99.0"],
                     "notification_channels": ["pagerduty", "slack-critical"], "escalation_time_minutes": 15},
        "warning": {"conditions": ["code_quality.coverage < 80"], "notification_channels": ["email"]},
    }})
    values = {"security.critical_vulnerabilities": 2.0, "code_quality.coverage": 85.0}
    outcome = evaluate_rules(ctx.config, values)
    assert len(outcome.fired) == 1
    alert = outcome.fired[0]
    assert (alert.level, alert.condition, alert.channels, alert.escalation_time_minutes) == (
        "critical", "security.critical_vulnerabilities > 0", ("pagerduty", "slack-critical"), 15)
    assert alert.values == {"security.critical_vulnerabilities": 2.0}
    assert len(outcome.inconclusive) == 1
    inc = outcome.inconclusive[0]
    assert (inc.level, inc.condition, inc.missing) == ("critical", "reliability.uptime < 99.0", ("reliability.uptime",))
    assert inc.message == "not evaluated: reliability.uptime missing"
    assert inc.notice == "critical alert not evaluated: reliability.uptime missing (reliability.uptime < 99.0)"
    assert evaluate_alerts(ctx.config, values) == list(outcome.fired)


def test_warning_level_default_escalation_and_no_rules(tmp_path: Path) -> None:
    ctx = make_context(tmp_path, config={"alerts": {"warning": {"conditions": ["code_quality.coverage < 80"]}}})
    alerts = evaluate_alerts(ctx.config, {"code_quality.coverage": 79.9})
    assert [(a.level, a.escalation_time_minutes, a.channels) for a in alerts] == [("warning", 60, ())]
    empty = make_context(tmp_path)
    assert evaluate_alerts(empty.config, {"code_quality.coverage": 0.0}) == []


def test_any_garbage_gives_a_condition_error_never_a_crash() -> None:
    import random

    rng = random.Random(20261129)
    pieces = ["reliability.uptime", "code_quality.coverage", "and", "or", "(", ")", ">", ">=", "==", "!=", "<", "=",
              "1", "-2.5", ".5", "1.2.3", "-", "x", "&&", "\t", "AND", "nope.metric", "'", "é", "99"]
    outcomes = {"ok": 0, "error": 0}
    for _ in range(3000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        try:
            rule = parse_condition(text)
        except ConditionError as e:
            assert 1 <= e.column <= len(text) + 1
            outcomes["error"] += 1
        else:
            evaluate(rule.expr, {"reliability.uptime": 99.0})
            outcomes["ok"] += 1
    assert outcomes["ok"] > 0 and outcomes["error"] > 0
