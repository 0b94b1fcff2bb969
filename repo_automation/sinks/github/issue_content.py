"""What the `issues` sink wants to exist: one DesiredIssue per finding group, fired alert and failed gate.

Grouping (each group has one fingerprint, so one issue):
- a dependency finding (it names a package) by advisory id — `dep:<advisory>`, every affected package listed;
- a code finding by tool, rule and file — `code:<tool>:<rule>:<path>`, every line listed;
- any other finding by tool and rule — `finding:<tool>:<rule>`;
- a fired alert by level and condition — `alert:<level>:<condition>`;
- a failed gate (when automation.code_quality.auto_create_issues) — `gate:<name>`.
Only active/new/existing findings count (ignored, baseline and fixed ones do not). Alerts come first, then
findings worst first (the order matters when creations are capped per run). All outside text is
escaped; bodies stay under GitHub's 65,536 characters, cut with a pointer to the full report.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from repo_automation.context import RunContext
from repo_automation.domain import Alert, Finding, FindingState, GateResult, RunReport, SourceKind, Status
from repo_automation.github.fingerprint import make_fingerprint, with_marker
from repo_automation.report.escape import ZWJ, escape_code, escape_markdown
from repo_automation.runner import run_link

OWNED_LABEL = "repo-automation"
MAX_BODY = 65_536
MAX_TITLE = 256
ISSUE_STATES = frozenset({FindingState.ACTIVE, FindingState.NEW, FindingState.EXISTING})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_URL = re.compile(r"https://[^\s<>\"'`()\[\]]+")
FOOTER = ("_Managed by repo-automation: updated on each run, closed when the problem is gone, reopened if it "
          "returns. Close it as \u201cnot planned\u201d to stop tracking it._")


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredIssue:
    fingerprint: str
    title: str
    body: str  # already escaped and marked
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuePlanInput:
    desired: tuple[DesiredIssue, ...]
    protected: tuple[str, ...]  # fingerprint prefixes whose source was not measured this run


def clean_title(text: str) -> str:
    """A plain-text title: one line, no control characters, no @mentions, at most 256 characters."""
    s = _CONTROL.sub(" ", text)
    s = re.sub(r"\s+", " ", s).strip().replace("@", "@" + ZWJ)
    return s if len(s) <= MAX_TITLE else s[: MAX_TITLE - 1] + "…"


def fit_body(head: Sequence[str], items: Sequence[str], fingerprint: str, pointer: str) -> str:
    """Head lines, then as many item lines as fit, then a cut notice, footer and marker (< 65,536)."""
    tail = ["", FOOTER]
    budget = MAX_BODY - len(with_marker("\n".join([*head, *tail]), fingerprint)) - len(pointer) - 200
    kept: list[str] = []
    used = 0
    for line in items:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    lines = [*head, *kept]
    if len(kept) < len(items):
        lines += ["", f"… and {len(items) - len(kept)} more, cut to fit GitHub's issue size limit: {pointer}"]
    return with_marker("\n".join([*lines, *tail]), fingerprint)


def _link(url: str | None) -> str:
    if url and _URL.fullmatch(url):
        return f"<{url}>"
    return escape_code(url) if url else ""


def _group_key(f: Finding) -> tuple[str, ...]:
    if f.package:
        return ("dep", f.ids[0] if f.ids else f.rule_id)
    if f.location is not None:
        return ("code", f.tool, f.rule_id, f.location.path)
    return ("finding", f.tool, f.rule_id)


def _finding_issue(key: tuple[str, ...], group: Sequence[Finding], labels: tuple[str, ...], pointer: str
                   ) -> DesiredIssue:
    worst = max(group, key=lambda f: f.severity.rank)
    fp = make_fingerprint(*key)
    sev = worst.severity.value
    if key[0] == "dep":
        title, items = _dependency_title_items(key, group, sev)
    else:
        title, items = _code_title_items(key, group, worst, sev)
    head = _finding_head(group, worst, sev)
    return DesiredIssue(fingerprint=fp, title=clean_title(title), body=fit_body(head, items, fp, pointer),
                        labels=labels)


def _dependency_title_items(key: tuple[str, ...], group: Sequence[Finding], sev: str) -> tuple[str, list[str]]:
    """A vulnerable dependency: the advisory in which packages, one line per affected version."""
    packages = sorted({f.package or "" for f in group})
    title = f"[{sev}] {key[1]} in {', '.join(packages)}"
    items = [f"- {escape_code(f.package)} {escape_code(f.version)} — fixed in "
             f"{', '.join(escape_code(v) for v in f.fixed_versions) or 'no release yet'} "
             f"(reported by {escape_markdown(f.tool)})" for f in group]
    return title, items


def _code_title_items(key: tuple[str, ...], group: Sequence[Finding], worst: Finding, sev: str
                      ) -> tuple[str, list[str]]:
    """A code (or location-less) finding: the rule, in which file, one line per place it was found."""
    where = f" in {key[3]}" if key[0] == "code" else ""
    title = f"[{sev}] {worst.rule_id}: {worst.title}{where}"
    items = [f"- {escape_code(f.location.path if f.location else '')}"
             f"{f' line {f.location.start_line}' if f.location and f.location.start_line else ''}: "
             f"{escape_markdown(f.message or f.title, max_len=500)}" for f in group]
    return title, items


def _finding_head(group: Sequence[Finding], worst: Finding, sev: str) -> list[str]:
    """The body's opening: severity and title, tool, rule, then advisories, CWE and help link when known."""
    ids = sorted({i for f in group for i in f.ids})
    head = [f"**{escape_markdown(sev)}** finding: {escape_markdown(worst.title, max_len=300)}", "",
            f"- Tool: {escape_markdown(worst.tool)}", f"- Rule: {escape_code(worst.rule_id)}"]
    if ids:
        head.append(f"- Advisories: {', '.join(escape_code(i) for i in ids)}")
    if worst.cwe:
        head.append(f"- CWE: {', '.join(escape_code(c) for c in worst.cwe)}")
    if worst.help_uri:
        head.append(f"- More: {_link(worst.help_uri)}")
    head += ["", f"### Where ({len(group)})", ""]
    return head


def _alert_issue(alert: Alert, pointer: str) -> DesiredIssue:
    fp = make_fingerprint("alert", alert.level, alert.condition)
    head = [f"The **{escape_markdown(alert.level)}** alert condition {escape_code(alert.condition)} is true.", "",
            "| Metric | Value |", "|---|---|"]
    items = [f"| {escape_code(name)} | {value:g} |" for name, value in sorted(alert.values.items())]
    if alert.escalation_time_minutes:
        items.append(f"\nEscalates after {alert.escalation_time_minutes} minutes.")
    labels = (OWNED_LABEL, "alert", alert.level)
    return DesiredIssue(fingerprint=fp, title=clean_title(f"[{alert.level} alert] {alert.condition}"),
                        body=fit_body(head, items, fp, pointer), labels=labels)


def _gate_issue(gate: GateResult, pointer: str) -> DesiredIssue:
    fp = make_fingerprint("gate", gate.name)
    head = [f"The quality gate {escape_code(gate.name)} failed: {escape_markdown(gate.message, max_len=500)}", "",
            f"- Actual: {escape_code(gate.actual)}", f"- Threshold: {escape_code(gate.threshold)}", ""]
    items = [f"- {escape_markdown(d, max_len=300)}" for d in gate.details]
    return DesiredIssue(fingerprint=fp, title=clean_title(f"[quality gate] {gate.name} failed"),
                        body=fit_body(head, items, fp, pointer), labels=(OWNED_LABEL, "quality"))


def _protected(report: RunReport, ctx: RunContext, findings_on: bool, gates_on: bool) -> tuple[str, ...]:
    out: list[str] = []
    scanners = [s for s in report.sources if s.kind is SourceKind.SCANNER]
    if not findings_on or not scanners:
        out += ["dep:", "code:", "finding:"]
    for s in scanners:
        if s.status is Status.FAILED:  # skipped is a steady state; failed is a hole in this run's data
            out += ["dep:", make_fingerprint("code", s.name) + ":", make_fingerprint("finding", s.name) + ":"]
    if any(s.kind is SourceKind.COLLECTOR and s.status is Status.FAILED for s in report.sources):
        out.append("alert:")
    if not gates_on:
        out.append("gate:")
    out += [make_fingerprint("gate", g.name) for g in report.gates if g.passed is None]
    return tuple(dict.fromkeys(out))


def desired_issues(report: RunReport, ctx: RunContext) -> IssuePlanInput:
    """The issues this run wants, and the fingerprint prefixes it cannot judge."""
    link = run_link(ctx.env)
    pointer = f"the full report is in the workflow run's artifacts ({link})" if link else \
        "the full report is in the workflow run's artifacts"
    findings_on = ctx.config.security_scanning.auto_create_issues
    gates_on = ctx.config.code_quality.auto_create_issues
    configured = ctx.config.security_scanning.issue_labels
    labels = tuple(dict.fromkeys([OWNED_LABEL, *configured]))
    out: list[DesiredIssue] = [_alert_issue(a, pointer) for a in report.alerts]
    if findings_on:
        groups: dict[tuple[str, ...], list[Finding]] = {}
        for f in report.findings:
            if f.state in ISSUE_STATES:
                groups.setdefault(_group_key(f), []).append(f)
        worst_first = sorted(groups.items(), key=lambda kv: (-max(f.severity.rank for f in kv[1]), kv[0]))
        out += [_finding_issue(k, g, labels, pointer) for k, g in worst_first]
    if gates_on:
        out += [_gate_issue(g, pointer) for g in report.gates if g.passed is False]
    unique = {d.fingerprint: d for d in out}
    return IssuePlanInput(desired=tuple(unique.values()), protected=_protected(report, ctx, findings_on, gates_on))
