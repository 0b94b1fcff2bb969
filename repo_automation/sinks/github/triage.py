"""Triage of new issues: the `triage` sink labels and assigns open, unlabelled, unassigned issues that the
action does not own, by the first matching rule of `automation.issue_triage.rules`.

A rule matches when any of its keywords appears in the title or body (case-insensitive, whole words) and any
of its path globs matches a path mentioned in the issue; a rule without keywords or paths does not test
that side, so a rule with neither is a catch-all. Pull requests are left alone. One listing per run (the 100
most recently created open issues) keeps the API cost flat. In a dry run nothing is written.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from repo_automation.config import Config
from repo_automation.context import RunContext
from repo_automation.domain import Action, ChangeKind, RunReport
from repo_automation.errors import SourceFailed, SourceSkipped
from repo_automation.github.client import GitHubClient, http_error
from repo_automation.github.fingerprint import find_fingerprint
from repo_automation.sinks.github.base import GitHubSink

log = logging.getLogger(__name__)

MAX_ISSUES = 100
_PATHLIKE = re.compile(r"(?<![\w@])(?:[\w.-]+/)*[\w.-]+\.[A-Za-z0-9]{1,8}\b|(?<![\w@])(?:[\w.-]+/)+[\w.-]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class TriageRule:
    labels: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    assignees: tuple[str, ...] = ()


def rules_from_config(config: Config) -> list[TriageRule]:
    return [TriageRule(labels=r.labels, keywords=r.keywords, paths=r.paths, assignees=r.assignees)
            for r in config.issue_triage.rules]


def mentioned_paths(text: str) -> list[str]:
    return [m.group(0).strip("./") or m.group(0) for m in _PATHLIKE.finditer(text)]


def _keyword_in(keyword: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", text, re.IGNORECASE) is not None


def match_rule(rules: Sequence[TriageRule], title: str, body: str) -> TriageRule | None:
    """The first rule that matches the issue (pure)."""
    text = f"{title}\n{body}"
    paths = mentioned_paths(text)
    for rule in rules:
        if rule.keywords and not any(_keyword_in(k, text) for k in rule.keywords):
            continue
        if rule.paths and not any(fnmatch.fnmatch(p, g) for p in paths for g in rule.paths):
            continue
        return rule
    return None


def _untriaged(item: Mapping[str, Any]) -> bool:
    """Open, not a pull request, no labels, no assignees, not one of the action's own issues."""
    return ("pull_request" not in item and not item.get("labels") and not item.get("assignees")
            and find_fingerprint(item.get("body")) is None)


class TriageSink(GitHubSink):
    name: ClassVar[str] = "triage"

    @classmethod
    def from_context(cls, ctx: RunContext, *, client: GitHubClient | None = None,
                     unavailable: str | None = None) -> TriageSink:
        """Production wiring: the run's one client, or None and why (`unavailable`)."""
        if not ctx.config.issue_triage.enabled:
            return cls(client=None, repository=None, skip_reason="issue triage is off (automation.issue_triage)")
        if not rules_from_config(ctx.config):
            return cls(client=None, repository=None, skip_reason="issue triage has no rules")
        return cls(client=client, repository=ctx.repository, skip_reason=None if client else unavailable)

    def deliver(self, report: RunReport, ctx: RunContext) -> Sequence[Action]:
        client, repository = self.connected()
        rules = rules_from_config(ctx.config)
        if not rules:
            raise SourceSkipped("issue triage has no rules")
        recent = client.list_all(f"/repos/{repository}/issues",
                                 {"state": "open", "sort": "created", "direction": "desc"}, limit=MAX_ISSUES)
        actions: list[Action] = []
        failures: list[str] = []
        for item in filter(_untriaged, recent):
            rule = match_rule(rules, str(item.get("title") or ""), str(item.get("body") or ""))
            if rule is None:
                continue
            action = self._triage(item, rule, failures, dry_run=ctx.dry_run)
            if action is not None:
                actions.append(action)
        if failures:
            raise SourceFailed(f"triage failed for {len(failures)} issue(s): {'; '.join(failures)}")
        return actions

    def _triage(self, item: Mapping[str, Any], rule: TriageRule, failures: list[str], *, dry_run: bool
                ) -> Action | None:
        """Label and assign one issue by its matching rule (a dry run only says so); None when it failed."""
        number, url = int(item["number"]), str(item.get("html_url") or "")
        what = f"triage issue #{number}: label {', '.join(rule.labels) or '-'}" + (
            f", assign {', '.join(rule.assignees)}" if rule.assignees else "")
        if not dry_run:
            try:
                self._apply(number, rule)
            except Exception as e:  # noqa: BLE001 — one issue's failure must not stop the others
                failures.append(f"issue #{number}: {http_error(e)}")
                return None
        return Action(sink=self.name, description=what, performed=not dry_run, target=url,
                      change=ChangeKind.ISSUE_TRIAGED)

    def _apply(self, number: int, rule: TriageRule) -> None:
        client, repository = self.connected()
        if rule.labels:
            client.add_labels(repository, number, rule.labels)
        if rule.assignees:
            client.add_assignees(repository, number, rule.assignees)
