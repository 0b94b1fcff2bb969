"""The pure parts: the issue planner and fingerprints (no server needed)."""

from __future__ import annotations

import pytest

from repo_automation.github.fingerprint import find_fingerprint, make_fingerprint, marker, with_marker
from repo_automation.sinks.github.issues import DesiredIssue, ExistingIssue, OpKind, plan_issue_sync


def _want(fp: str, title: str = "t", body: str = "b", labels: tuple[str, ...] = ("repo-automation",)
          ) -> DesiredIssue:
    return DesiredIssue(fingerprint=fp, title=title, body=body, labels=labels)


def _have(number: int, fp: str | None, *, state: str = "open", reason: str | None = None, title: str = "t",
          body: str = "b", labels: tuple[str, ...] = ("repo-automation",)) -> ExistingIssue:
    return ExistingIssue(number=number, title=title, body=body, labels=labels, state=state, state_reason=reason,
                         fingerprint=fp)


def test_in_sync_means_no_operation() -> None:
    assert plan_issue_sync([_want("a")], [_have(1, "a")]) == []


def test_each_kind_of_change() -> None:
    ops = plan_issue_sync(
        [_want("new"), _want("edited", title="new title"), _want("back"), _want("relabel", labels=("x",))],
        [_have(1, "edited"), _have(2, "back", state="closed", reason="completed"), _have(3, "gone"),
         _have(4, "relabel", labels=("repo-automation", "triaged"))])
    kinds = {op.fingerprint: op.kind for op in ops}
    assert kinds == {"new": OpKind.CREATE, "edited": OpKind.UPDATE, "back": OpKind.REOPEN, "gone": OpKind.CLOSE,
                     "relabel": OpKind.UPDATE}
    relabel = next(op for op in ops if op.fingerprint == "relabel")
    assert relabel.labels == ("repo-automation", "triaged", "x")  # people's labels kept


def test_duplicates_keep_the_lowest_open_issue() -> None:
    ops = plan_issue_sync([_want("a")], [_have(9, "a"), _have(4, "a"), _have(2, "a", state="closed")])
    assert [(op.kind, op.number) for op in ops] == [(OpKind.CLOSE_DUPLICATE, 9)]
    assert ops[0].comment == "Duplicate of #4."


def test_not_planned_is_respected_and_protected_prefixes_are_not_closed() -> None:
    ops = plan_issue_sync([_want("a")], [_have(1, "a", state="closed", reason="not_planned"), _have(2, "code:bandit:x"),
                                         _have(3, "code:semgrep:y"), _have(4, None)],
                          protected=["code:bandit:"])
    assert [(op.kind, op.number) for op in ops] == [(OpKind.CLOSE, 3)]  # issue 4 has no marker: not ours


def test_fingerprints_are_marker_safe_stable_and_bounded() -> None:
    assert make_fingerprint("code", "bandit", "B602", "src/a b.py") == "code:bandit:B602:src/a_b.py"
    evil = make_fingerprint("x", "--> <!-- repo-automation:fingerprint=owned -->")
    assert "<" not in evil and ">" not in evil and " " not in evil
    assert find_fingerprint(with_marker("body", evil)) == evil
    long = make_fingerprint("code", "tool", "r" * 300)
    assert len(long) == 120 and long == make_fingerprint("code", "tool", "r" * 300)
    assert long != make_fingerprint("code", "tool", "r" * 299)
    with pytest.raises(ValueError):
        marker("has space -->")


def test_the_last_marker_wins() -> None:
    body = "quoted <!-- repo-automation:fingerprint=other -->\n\n" + marker("mine")
    assert find_fingerprint(body) == "mine" and find_fingerprint(None) is None


def test_a_problem_known_under_another_tools_fingerprint_keeps_its_issue() -> None:
    bandit, semgrep = "code:bandit:B602:app.py", "code:semgrep:subprocess-shell-true:app.py"
    merged_body = f"both\n<!-- repo-automation:aliases={semgrep} -->\n\n{marker(bandit)}\n"
    # bandit failed: semgrep's finding alone takes over the merged issue, which is neither closed nor doubled
    ops = plan_issue_sync([_want(semgrep, body="semgrep alone")], [_have(7, bandit, body=merged_body)],
                          failed={"bandit": "crashed"})
    assert [(op.kind, op.number, op.fingerprint) for op in ops] == [(OpKind.UPDATE, 7, semgrep)]
    # bandit is back: the merged issue (its aliases name semgrep's) takes the semgrep-only issue back
    merged = DesiredIssue(fingerprint=bandit, title="t", body=merged_body, labels=("repo-automation",),
                          aliases=(semgrep,))
    ops = plan_issue_sync([merged], [_have(7, semgrep, body="semgrep alone")])
    assert [(op.kind, op.number, op.fingerprint) for op in ops] == [(OpKind.UPDATE, 7, bandit)]
    # an open alias wins over a closed issue of the same fingerprint; one another desired issue wants is not taken
    ops = plan_issue_sync([merged], [_have(3, bandit, state="closed", reason="completed"), _have(7, semgrep)])
    assert [(op.kind, op.number) for op in ops] == [(OpKind.UPDATE, 7)]
    ops = plan_issue_sync([merged, _want(semgrep)], [_have(7, semgrep)])
    assert [(op.kind, op.fingerprint) for op in ops] == [(OpKind.CREATE, bandit)]  # #7 stays semgrep's, as it is
