"""Alert rules: a small grammar of our own (never eval), checked when the config loads (core.checks).

    condition  := or_expr
    or_expr    := and_expr ("or" and_expr)*
    and_expr   := primary ("and" primary)*          -- "and" binds tighter than "or"
    primary    := "(" or_expr ")" | comparison
    comparison := operand OP operand                -- at least one side names a catalogue metric
    operand    := METRIC | NUMBER                   -- 12, 99.5, -3, .5
    OP         := > | >= | < | <= | == | !=

Evaluation is three-valued: a comparison whose metric is missing is unknown, `and`/`or` follow Kleene's
logic (false and unknown = false, true or unknown = true), and a rule that ends unknown is reported as
inconclusive ("not evaluated: reliability.uptime missing"), never fired nor silently passed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from repo_automation.catalogue import is_app_metric, known_metrics
from repo_automation.config import Config
from repo_automation.config.sections import AlertRules
from repo_automation.domain import Alert, AlertLevel, UnevaluatedRule
from repo_automation.errors import ConfigError

OPERATORS = (">=", "<=", "==", "!=", ">", "<")

_TOKEN = re.compile(
    r"(?P<ws>\s+)"
    r"|(?P<number>-?(?:\d+(?:\.\d*)?|\.\d+))(?![A-Za-z_.\d])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<op>>=|<=|==|!=|>|<)"
    r"|(?P<paren>[()])"
)


class ConditionError(ValueError):
    """A condition that does not parse; `column` is 1-based."""

    def __init__(self, message: str, column: int) -> None:
        super().__init__(f"column {column}: {message}")
        self.column = column


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number | name | op | paren | keyword | end
    text: str
    column: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricRef:
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Number:
    value: float


Operand = MetricRef | Number


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    left: Operand
    op: str
    right: Operand


@dataclass(frozen=True, slots=True, kw_only=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Or:
    items: tuple[Node, ...]


Node = Comparison | And | Or


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One parsed condition of an alert level."""

    text: str
    expr: Node

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric names the condition reads, in order of appearance, without repeats."""
        return tuple(dict.fromkeys(_metric_names(self.expr)))


def _metric_names(node: Node) -> list[str]:
    if isinstance(node, Comparison):
        return [o.name for o in (node.left, node.right) if isinstance(o, MetricRef)]
    return [n for item in node.items for n in _metric_names(item)]


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = re.match(r"-?[\d.][\w.]*", text[pos:])
            if bad:
                raise ConditionError(f"malformed number {bad.group()!r}", pos + 1)
            ch = text[pos]
            hint = " (use == to compare)" if ch == "=" else " (write 'and' / 'or')" if ch in "&|" else ""
            raise ConditionError(f"unexpected character {ch!r}{hint}", pos + 1)
        kind = m.lastgroup or ""
        if kind != "ws":
            word = m.group()
            if kind == "name" and word.lower() in ("and", "or"):
                tokens.append(Token("keyword", word.lower(), pos + 1))
            else:
                tokens.append(Token(kind, word, pos + 1))
        pos = m.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str, known: frozenset[str]) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.known = known

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        if self.peek().kind == "end":
            raise ConditionError("empty condition", 1)
        node = self.or_expr()
        tok = self.peek()
        if tok.kind != "end":
            raise ConditionError(f"unexpected {_describe(tok)}; expected 'and', 'or' or the end", tok.column)
        return node

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.peek().text == "or" and self.peek().kind == "keyword":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(items=tuple(items))

    def and_expr(self) -> Node:
        items = [self.primary()]
        while self.peek().text == "and" and self.peek().kind == "keyword":
            self.take()
            items.append(self.primary())
        return items[0] if len(items) == 1 else And(items=tuple(items))

    def primary(self) -> Node:
        tok = self.peek()
        if tok.text == "(":
            self.take()
            node = self.or_expr()
            close = self.peek()
            if close.text != ")":
                raise ConditionError(f"expected ')' to close the '(' at column {tok.column}, got {_describe(close)}",
                                     close.column)
            self.take()
            return node
        return self.comparison()

    def comparison(self) -> Comparison:
        first = self.peek()
        left = self.operand()
        op = self.take()
        if op.kind != "op":
            raise ConditionError(f"expected an operator ({' '.join(OPERATORS)}), got {_describe(op)}", op.column)
        right = self.operand()
        if isinstance(left, Number) and isinstance(right, Number):
            raise ConditionError("compares two numbers; one side must name a metric", first.column)
        return Comparison(left=left, op=op.text, right=right)

    def operand(self) -> Operand:
        tok = self.take()
        if tok.kind == "number":
            return Number(value=float(tok.text))
        if tok.kind == "name":
            if tok.text not in self.known and not is_app_metric(tok.text):
                raise ConditionError(_unknown_metric(tok.text, self.known), tok.column)
            return MetricRef(name=tok.text)
        raise ConditionError(f"expected a metric name or a number, got {_describe(tok)}", tok.column)


def _describe(tok: Token) -> str:
    return "the end of the condition" if tok.kind == "end" else f"{tok.text!r}"


def _unknown_metric(name: str, known: frozenset[str]) -> str:
    import difflib  # only on the error path

    msg = f"unknown metric {name!r}"
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    if not close:  # a bare metric name without its category, e.g. `coverage`
        close = [k for k in sorted(known) if k.split(".", 1)[-1] == name][:1]
    if close:
        msg += f" (did you mean {close[0]}?)"
    category = name.split(".", 1)[0]
    same = sorted(k for k in known if k.startswith(category + "."))
    if "." in name and same:
        return msg + f"; known {category} metrics: {', '.join(same)}"
    return msg + f"; known metrics: {', '.join(sorted(known))}"


def parse_condition(text: str, known: frozenset[str] | None = None) -> Rule:
    """Parse one condition; raises ConditionError saying what is wrong and at which column."""
    return Rule(text=text, expr=_Parser(text, known if known is not None else known_metrics()).parse())


def parse_alert_rules(alerts: Mapping[AlertLevel, AlertRules]) -> tuple[dict[AlertLevel, list[Rule]], list[str]]:
    """Every level's conditions parsed, and every problem as '$.alerts.LEVEL.conditions[i]: …'."""
    known = known_metrics()
    rules: dict[AlertLevel, list[Rule]] = {}
    problems: list[str] = []
    for level, spec in alerts.items():
        rules[level] = []
        for i, text in enumerate(spec.conditions):
            where = f"$.alerts.{level}.conditions[{i}]"
            try:
                rules[level].append(parse_condition(text, known))
            except ConditionError as e:
                problems.append(f"{where}: {e} in {text!r}")
    return rules, problems


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleOutcome:
    fired: tuple[Alert, ...]
    inconclusive: tuple[UnevaluatedRule, ...]


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
}


def _value(o: Operand, values: Mapping[str, float]) -> float | None:
    return o.value if isinstance(o, Number) else values.get(o.name)


def evaluate(node: Node, values: Mapping[str, float]) -> tuple[bool | None, dict[str, float]]:
    """Kleene three-valued truth of `node`, and the metric values of the comparisons that made it true."""
    if isinstance(node, Comparison):
        return _evaluate_comparison(node, values)
    results = [evaluate(item, values) for item in node.items]
    if isinstance(node, And):
        return _combine_and(results)
    return _combine_or(results)


def _evaluate_comparison(node: Comparison, values: Mapping[str, float]) -> tuple[bool | None, dict[str, float]]:
    """A comparison is unknown when an operand is missing; when true, it reports the metric values it read."""
    a, b = _value(node.left, values), _value(node.right, values)
    if a is None or b is None:
        return None, {}
    truth = bool(_COMPARE[node.op](a, b))
    used = {o.name: values[o.name] for o in (node.left, node.right) if isinstance(o, MetricRef)}
    return truth, (used if truth else {})


def _combine_and(results: list[tuple[bool | None, dict[str, float]]]) -> tuple[bool | None, dict[str, float]]:
    """Kleene AND: any false makes it false, else any unknown makes it unknown; all witnesses count."""
    truths = [t for t, _ in results]
    if False in truths:
        return False, {}
    if None in truths:
        return None, {}
    witnesses: dict[str, float] = {}
    for _, w in results:
        witnesses.update(w)
    return True, witnesses


def _combine_or(results: list[tuple[bool | None, dict[str, float]]]) -> tuple[bool | None, dict[str, float]]:
    """Kleene OR: any true makes it true (witnessed by the true items only), else unknown beats false."""
    truths = [t for t, _ in results]
    if True in truths:
        witnesses: dict[str, float] = {}
        for t, w in results:
            if t:
                witnesses.update(w)
        return True, witnesses
    return (None if None in truths else False), {}


def alert_rules(config: Config) -> dict[AlertLevel, list[Rule]]:
    """Every level's parsed conditions; ConfigError when one does not parse (`core.checks.check_config`
    reports that when the configuration loads, so a run never gets here with a bad condition)."""
    rules, problems = parse_alert_rules(config.alerts)
    if problems:
        raise ConfigError("invalid alert conditions:", problems)
    return rules


def evaluate_rules(config: Config, values: Mapping[str, float]) -> RuleOutcome:
    """Every configured rule against the metric values: which fired and which could not be evaluated."""
    fired: list[Alert] = []
    inconclusive: list[UnevaluatedRule] = []
    for level, rules in alert_rules(config).items():
        spec = config.alerts[level]
        channels = spec.notification_channels
        escalation = spec.escalation_time_minutes
        for rule in rules:
            truth, witnesses = evaluate(rule.expr, values)
            if truth is None:
                missing = tuple(n for n in rule.metrics if n not in values)
                inconclusive.append(UnevaluatedRule(level=level, condition=rule.text, missing=missing))
            elif truth:
                fired.append(Alert(level=level, condition=rule.text, channels=channels, values=witnesses,
                                   escalation_time_minutes=escalation))
    return RuleOutcome(fired=tuple(fired), inconclusive=tuple(inconclusive))


def evaluate_alerts(config: Config, values: Mapping[str, float]) -> list[Alert]:
    """The alerts that fired (inconclusive rules are in `evaluate_rules(...).inconclusive`)."""
    return list(evaluate_rules(config, values).fired)
