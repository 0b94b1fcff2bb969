"""The collector's formulas on GraphQL-shaped data, for the cases the synthetic repository does not hold."""

from __future__ import annotations

from repo_automation.collectors.github import absence_factor, first_response_hours


def commit(login: str | None, email: str) -> dict[str, object]:
    return {"committedDate": "2026-11-01T00:00:00Z",
            "author": {"email": email, "name": login or email, "user": {"login": login} if login else None}}


def test_absence_factor_leaves_bots_out_and_merges_by_login() -> None:
    nodes = ([commit("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")] * 10
             + [commit("alice", "a@x")] * 3 + [commit(None, "Bob@Example.com"), commit(None, "bob@example.com")]
             + [commit("carol", "c@x")])
    metric = absence_factor({"totalCount": len(nodes), "nodes": nodes})
    assert metric is not None
    # humans: alice 3, bob 2 (one address, two spellings), carol 1 → alice alone is half of 6
    assert metric.value == 1
    assert metric.metadata["bot_commits_left_out"] == 10 and metric.metadata["authors"] == 3
    assert metric.metadata["truncated"] is False


def test_absence_factor_of_only_bots_is_not_measured() -> None:
    nodes = [commit("renovate[bot]", "bot@renovateapp.com")] * 4
    assert absence_factor({"totalCount": 4, "nodes": nodes}) is None


def test_first_response_ignores_the_author_bots_and_ghosts_and_never_goes_negative() -> None:
    item = {"createdAt": "2026-11-10T10:00:00Z", "author": {"login": "ann", "__typename": "User"},
            "comments": {"nodes": [
                {"createdAt": "2026-11-10T09:00:00Z", "author": {"login": "imported", "__typename": "User"}},
                {"createdAt": "2026-11-10T10:30:00Z", "author": None},
            ]},
            "reviews": {"nodes": [{"submittedAt": "2026-11-10T11:00:00Z", "createdAt": "2026-11-10T10:45:00Z",
                                   "author": {"login": "ann", "__typename": "User"}}]}}
    assert first_response_hours(item) == 0.0  # the imported comment predates the issue: 0, not -1
    item["comments"]["nodes"].pop(0)  # type: ignore[index]
    assert first_response_hours(item) is None  # a ghost and the author herself: no response yet
