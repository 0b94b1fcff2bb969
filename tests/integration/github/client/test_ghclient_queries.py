"""Every GraphQL document we send validates against GitHub's published schema, and the fake's executor
rejects what GitHub would reject."""

from __future__ import annotations

import pytest

from repo_automation.github import queries
from tests.fakegithub import graphql as fake_graphql
from tests.fakegithub.state import State


@pytest.mark.parametrize("name", sorted(queries.ALL_QUERIES))
def test_query_validates_against_githubs_schema(name: str) -> None:
    from graphql import parse, validate

    errors = validate(fake_graphql.schema(), parse(queries.ALL_QUERIES[name]))
    assert errors == []


@pytest.mark.parametrize("name", sorted(queries.ALL_QUERIES))
def test_query_passes_values_as_variables_only(name: str) -> None:
    from graphql import parse

    assert fake_graphql._literal_strings(parse(queries.ALL_QUERIES[name])) == []


def test_health_query_costs_one_point() -> None:
    from graphql import parse

    assert fake_graphql.query_cost(parse(queries.HEALTH_QUERY), {}) == 1


def test_cost_formula_matches_githubs_documented_example() -> None:
    """docs.github.com: repositories(first:100) > issues(first:50) > labels(first:60) = 5,101 requests = 51."""
    from graphql import parse

    doc = parse("""query { viewer { login repositories(first: 100) { edges { node { id
                  issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name } } } } } } }
                  } } } }""")
    assert fake_graphql.query_cost(doc, {}) == 51


def test_executor_rejects_a_field_github_does_not_have() -> None:
    state = State()
    status, payload = fake_graphql.handle(state, {"query": "query($o: String!, $n: String!) { "
                                                           "repository(owner: $o, name: $n) { starCount } }",
                                                  "variables": {"o": "a", "n": "b"}})
    assert status == 200
    assert "Cannot query field 'starCount' on type 'Repository'" in payload["errors"][0]["message"]
    assert "data" not in payload
    assert len(state.__dict__["graphql_violations"]) == 1


def test_executor_rejects_string_built_values() -> None:
    state = State()
    _, payload = fake_graphql.handle(state, {"query": 'query { repository(owner: "a", name: "b") { id } }'})
    assert any("pass values as variables" in e["message"] for e in payload["errors"])
    assert state.__dict__["graphql_violations"]


def test_executor_answers_not_found_for_an_unknown_repository_like_github() -> None:
    state = State()
    stamp = "2026-01-01T00:00:00Z"
    variables = {"owner": "no", "name": "such", "since": stamp, **{f"w{i}": stamp for i in range(queries.WEEKS + 1)}}
    _, payload = fake_graphql.handle(state, {"query": queries.HEALTH_QUERY, "variables": variables})
    assert payload["data"]["repository"] is None
    assert payload["errors"][0]["type"] == "NOT_FOUND"
    assert "no/such" in payload["errors"][0]["message"]
    assert not state.__dict__.get("graphql_violations")
    assert payload["data"]["rateLimit"]["cost"] == 1
