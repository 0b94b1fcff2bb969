"""What the `issues` sink wants to exist: one DesiredIssue per finding group, fired alert and failed gate.

Grouping (each group has one fingerprint, so one issue):
- a dependency finding (it names a package) by package — `pkg:<name>`: every advisory with its severity,
  the lowest version that fixes them all, and the open dependency-update pull request when there is one
  (issues of earlier versions, one per advisory — `dep:<advisory>` — are migrated into it by the sink);
- a code finding by its first tool, rule and file — `code:<tool>:<rule>:<path>`, every line listed (a
  finding several tools reported on one line, merged by scanners/dedup.py, names every tool);
- any other finding by tool and rule — `finding:<tool>:<rule>`;
- a fired alert by level and condition — `alert:<level>:<condition>`;
- a failed gate (when automation.code_quality.auto_create_issues) — `gate:<name>`.
Each finding issue names its owners — the tools that reported it — in a hidden marker
(`<!-- repo-automation:owners=… -->`): only its owners can close it (see issues.py).
Only active/new/existing findings count (ignored, baseline and fixed ones do not). Alerts come first, then
findings worst first (the order matters when creations are capped per run). All outside text is
escaped; bodies stay under GitHub's 65,536 characters, cut with a pointer to the full report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repo_automation.context import RunContext
from repo_automation.domain import Alert, Finding, FindingScope, FindingState, GateResult, RunReport, SourceKind, Status
from repo_automation.github.fingerprint import make_fingerprint, with_marker
from repo_automation.report.escape import ZWJ, escape_code, escape_markdown
from repo_automation.runner import run_link
from repo_automation.scanners.dedup import tool_rules
from repo_automation.scanners.fingerprint import canonical_package
from repo_automation.sinks.github.package_issue import UpdatePull, package_issue

OWNED_LABEL = "repo-automation"
MAX_BODY = 65_536
MAX_TITLE = 256
ISSUE_STATES = frozenset({FindingState.ACTIVE, FindingState.NEW, FindingState.EXISTING})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_URL = re.compile(r"https://[^\s<>\"'`()\[\]]+")
FOOTER = ("_Managed by repo-automation: updated on each run, closed when the problem is gone, reopened if it "
          "returns. Close it as \u201cnot planned\u201d to stop tracking it._")


OWNERS_PREFIX = "<!-- repo-automation:owners="
_OWNERS = re.compile(r"<!-- repo-automation:owners=([a-z0-9+,-]{1,200}) -->")
ALIASES_PREFIX = "<!-- repo-automation:aliases="
_ALIASES = re.compile(r"<!-- repo-automation:aliases=([A-Za-z0-9._:/@+=,-]{1,4000}) -->")


@dataclass(frozen=True, slots=True, kw_only=True)
class DesiredIssue:
    fingerprint: str
    title: str
    body: str  # already escaped and marked
    labels: tuple[str, ...]
    owners: tuple[str, ...] = ()  # the tools whose findings it holds
    supersedes: tuple[str, ...] = ()  # fingerprints of earlier issues it replaces (one per advisory)
    aliases: tuple[str, ...] = ()  # the fingerprints its problem has under each other tool that reports it


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuePlanInput:
    desired: tuple[DesiredIssue, ...]
    protected: tuple[str, ...]  # fingerprint prefixes whose source was not measured this run
    failed: tuple[tuple[str, str], ...] = ()  # (scanner, why) for each scanner that failed this run
    scanners: tuple[str, ...] = ()  # every scanner of this run


def _listed(marker: re.Pattern[str], body: str) -> tuple[str, ...]:
    """The comma-separated values of a body's last `marker`."""
    found = marker.findall(body or "")
    return tuple(found[-1].split(",")) if found else ()


def owners_of(body: str) -> tuple[str, ...]:
    """The owners an issue body names (none for an issue written before owners were recorded)."""
    return _listed(_OWNERS, body)


def aliases_of(body: str) -> tuple[str, ...]:
    """The other fingerprints an issue body says its problem has (see DesiredIssue.aliases)."""
    return _listed(_ALIASES, body)


def _markers(owners: Sequence[str], aliases: Sequence[str]) -> str:
    also = f"\n{ALIASES_PREFIX}{','.join(aliases)} -->" if aliases else ""
    return f"\n{OWNERS_PREFIX}{','.join(owners)} -->{also}"


def _with_owners(body: str, owners: Sequence[str], aliases: Sequence[str] = ()) -> str:
    """The owners (and aliases) markers just before the fingerprint marker (which stays last)."""
    head, sep, marker = body.rstrip().rpartition("\n\n")
    return f"{head}{_markers(owners, aliases)}{sep}{marker}\n"


def tools_of(group: Sequence[Finding]) -> tuple[str, ...]:
    return tuple(sorted({t for f in group for t in f.tool.split("+")}))


def clean_title(text: str) -> str:
    """A plain-text title: one line, no control characters, no @mentions, at most 256 characters."""
    s = _CONTROL.sub(" ", text)
    s = re.sub(r"\s+", " ", s).strip().replace("@", "@" + ZWJ)
    return s if len(s) <= MAX_TITLE else s[: MAX_TITLE - 1] + "…"


def fit_body(head: Sequence[str], items: Sequence[str], fingerprint: str, pointer: str, reserve: int = 0) -> str:
    """Head lines, then as many item lines as fit, then a cut notice, footer and marker (< 65,536), leaving
    `reserve` characters for the markers added after."""
    tail = ["", FOOTER]
    budget = MAX_BODY - len(with_marker("\n".join([*head, *tail]), fingerprint)) - len(pointer) - 200 - reserve
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
        return ("pkg", canonical_package(f.package))
    tool = f.tool.split("+")[0]  # a merged finding belongs with its first tool's
    if f.location is not None:
        return ("code", tool, f.rule_id, f.location.path)
    return ("finding", tool, f.rule_id)


def _finding_issue(key: tuple[str, ...], group: Sequence[Finding], labels: tuple[str, ...], pointer: str,
                   pulls: Mapping[str, UpdatePull]) -> DesiredIssue:
    worst = max(group, key=lambda f: f.severity.rank)
    fp = make_fingerprint(*key)
    sev = worst.severity.value
    supersedes: tuple[str, ...] = ()
    if key[0] == "pkg":
        title, head, items = package_issue(key[1], group, sev, pulls.get(key[1]))
        supersedes = tuple(sorted({make_fingerprint("dep", i) for f in group for i in f.ids}))
    else:
        title, items = _code_title_items(key, group, worst, sev)
        head = _finding_head(group, worst, sev)
    owners = tools_of(group)
    aliases = _aliases(key, group, fp)
    reserve = len(_markers(owners, aliases))
    return DesiredIssue(fingerprint=fp, title=clean_title(title), labels=labels, owners=owners,
                        body=_with_owners(fit_body(head, items, fp, pointer, reserve), owners, aliases),
                        supersedes=supersedes, aliases=aliases)


def _aliases(key: tuple[str, ...], group: Sequence[Finding], fp: str) -> tuple[str, ...]:
    """A code issue's fingerprint under each other tool of its merged findings (bandit's B602 issue is
    semgrep's subprocess-shell-true issue too): when the first tool fails or stops reporting it, the
    other tool's findings keep this issue instead of opening a second one."""
    if key[0] != "code":
        return ()
    return tuple(sorted({make_fingerprint("code", tool, rule, key[3]) for f in group for tool, rule in tool_rules(f)}
                        - {fp}))


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
    rules = list(dict.fromkeys(i for f in group for i in (f.ids or (f.rule_id,))))
    head = [f"**{escape_markdown(sev)}** finding: {escape_markdown(worst.title, max_len=300)}", "",
            f"- {'Tools' if '+' in worst.tool else 'Tool'}: {escape_markdown(', '.join(tools_of(group)))}",
            f"- {'Rules' if len(rules) > 1 else 'Rule'}: {', '.join(escape_code(r) for r in rules)}"]
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
    """Fingerprint prefixes this run cannot judge at all; a finding issue whose owner failed is kept open by
    the planner (it knows the owners), not here."""
    out: list[str] = []
    scanners = [s for s in report.sources if s.kind is SourceKind.SCANNER]
    if not findings_on or not scanners:
        out += ["pkg:", "dep:", "code:", "finding:"]
    if any(s.kind is SourceKind.COLLECTOR and s.status is Status.FAILED for s in report.sources):
        out.append("alert:")
    if not gates_on:
        out.append("gate:")
    out += [make_fingerprint("gate", g.name) for g in report.gates if g.passed is None]
    return tuple(dict.fromkeys(out))


def _finding_issues(findings: Sequence[Finding], labels: tuple[str, ...], pointer: str,
                    pulls: Mapping[str, UpdatePull]) -> list[DesiredIssue]:
    """One issue per group of open findings, worst first (the order matters when creations are capped)."""
    groups: dict[tuple[str, ...], list[Finding]] = {}
    for f in findings:
        if f.state in ISSUE_STATES:
            groups.setdefault(_group_key(f), []).append(f)
    worst_first = sorted(groups.items(), key=lambda kv: (-max(f.severity.rank for f in kv[1]), kv[0]))
    return [_finding_issue(k, g, labels, pointer, pulls) for k, g in worst_first]


def _counted(findings: Sequence[Finding], ctx: RunContext) -> list[Finding]:
    """Test code's findings are reported apart, and file issues only when they count (count_test_findings)."""
    with_tests = ctx.config.security_scanning.count_test_findings
    return [f for f in findings if f.scope is FindingScope.MAIN or with_tests]


def desired_issues(report: RunReport, ctx: RunContext, pulls: Mapping[str, UpdatePull] | None = None
                   ) -> IssuePlanInput:
    """The issues this run wants, the fingerprint prefixes it cannot judge and the scanners that failed.
    `pulls`: the open dependency-update pull request of each package (by PEP 503 name)."""
    link = run_link(ctx.env)
    pointer = f"the full report is in the workflow run's artifacts ({link})" if link else \
        "the full report is in the workflow run's artifacts"
    findings_on = ctx.config.security_scanning.auto_create_issues
    gates_on = ctx.config.code_quality.auto_create_issues
    configured = ctx.config.security_scanning.issue_labels
    labels = tuple(dict.fromkeys([OWNED_LABEL, *configured]))
    out: list[DesiredIssue] = [_alert_issue(a, pointer) for a in report.alerts]
    if findings_on:
        out += _finding_issues(_counted(report.findings, ctx), labels, pointer, pulls or {})
    if gates_on:
        out += [_gate_issue(g, pointer) for g in report.gates if g.passed is False]
    unique = {d.fingerprint: d for d in out}
    scanners = [s for s in report.sources if s.kind is SourceKind.SCANNER]
    failed = tuple((s.name, s.reason) for s in scanners if s.status is Status.FAILED)  # skipped: a steady state
    return IssuePlanInput(desired=tuple(unique.values()), protected=_protected(report, ctx, findings_on, gates_on),
                          failed=failed, scanners=tuple(s.name for s in scanners))
