"""Merging only when CI agrees: GitHub's native auto-merge on a pull request the policy allows to merge.

GitHub merges a pull request with auto-merge enabled once its base branch's required checks pass, so what
is merged is what CI checked. The gate is read once per run: the repository's `allow_auto_merge` setting
and the required status checks of the default branch's protection. When the repository has auto-merge off
or the branch requires no check, nothing is merged (auto-merge would merge at once, before CI ran): the pull
request and the report say why, unless `auto_merge.without_required_checks` allows merging straight away
(then the pulls merge endpoint, with the head SHA, still lets GitHub refuse).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from repo_automation.domain import Action
from repo_automation.github.client import GitHubClient, GitHubError, http_error


@dataclass(frozen=True, slots=True, kw_only=True)
class MergeGate:
    auto_merge_allowed: bool
    required_checks: tuple[str, ...]

    def blocked(self) -> str | None:
        """Why GitHub's auto-merge cannot wait for CI here (None: it can)."""
        if not self.auto_merge_allowed:
            return "the repository has auto-merge turned off (Settings > General > Allow auto-merge)"
        if not self.required_checks:
            return "the default branch has no required status checks, so nothing would wait for CI"
        return None


def read_gate(client: GitHubClient, repository: str, repo: dict[str, Any], branch: str) -> MergeGate:
    """The repository's auto-merge setting and the default branch's required checks (404: unprotected)."""
    try:
        info = client.get_json(f"/repos/{repository}/branches/{quote(branch, safe='')}")
    except GitHubError as e:
        if e.status != 404:
            raise
        info = {}
    protection = info.get("protection") if isinstance(info, dict) else None
    checks = (protection or {}).get("required_status_checks") or {} if isinstance(protection, dict) else {}
    names = [str(c) for c in checks.get("contexts") or []]
    names += [str(c.get("context")) for c in checks.get("checks") or [] if isinstance(c, dict) and c.get("context")]
    return MergeGate(auto_merge_allowed=bool(repo.get("allow_auto_merge")),
                     required_checks=tuple(dict.fromkeys(names)))


def note_for(gate: MergeGate, allow_without_checks: bool) -> str | None:
    """The line the pull request carries when the policy would merge but the gate does not let CI decide."""
    why = gate.blocked()
    if why is None:
        return None
    if allow_without_checks:
        return f"Merged without waiting for CI: {why} (auto_merge.without_required_checks is true)."
    return (f"Not merged automatically: {why}. Turn that on, or set "
            "automation.dependency_updates.auto_merge.without_required_checks to merge without checks.")


def enable(client: GitHubClient, repository: str, *, sink: str, number: int, url: str, node_id: str,
           method: str, already: bool, gate: MergeGate) -> Action:
    """Enable auto-merge (GraphQL enablePullRequestAutoMerge) unless it is on already."""
    checks = ", ".join(gate.required_checks)
    if already:
        return Action(sink=sink, performed=False, target=url,
                      description=f"auto-merge already on for #{number}: GitHub merges it once {checks} pass")
    try:
        client.enable_auto_merge(node_id, method=method)
    except GitHubError as e:
        return Action(sink=sink, performed=False, target=url,
                      description=f"auto-merge not enabled on #{number}: {http_error(e)}; a later run tries again")
    return Action(sink=sink, performed=True, target=url,
                  description=f"auto-merge enabled on #{number} ({method}): GitHub merges it once {checks} pass")
