"""Every GraphQL document we send to GitHub, as constants. Values always travel as variables.

The documents are fixed text: `HEALTH_QUERY` has one aliased `history(since:, until:)` per week, built once
at import from a loop over week numbers (never from data). A unit test validates every document in
`ALL_QUERIES` against GitHub's published schema (@octokit/graphql-schema).

Bounded windows keep the cost constant whatever the repository's size: the whole health query costs
1 point on GitHub's formula (98 connection requests; 150 would round up to 2).
"""

from __future__ import annotations

WEEKS = 12  # commits per week: one aliased history(since:, until:) per week
TTFR_SAMPLE = 25  # recent issues and PRs sampled for time to first response
TTFR_EVENTS = 5  # first comments / reviews looked at per issue or PR
PR_WINDOW = 100  # most recently updated PRs: merged per week, change-request closure ratio
RELEASE_WINDOW = 100  # most recent releases: releases per quarter
COMMIT_AUTHORS = 100  # most recent commits of the window: contributor absence factor
OPEN_ISSUE_WINDOW = 100  # oldest and newest open issues: open issue age (exact up to 2 x this)

_week_vars = "".join(f", $w{i}: GitTimestamp!" for i in range(WEEKS + 1))
_week_fields = "\n".join(
    f"            week{i}: history(since: $w{i}, until: $w{i + 1}) {{ totalCount }}" for i in range(WEEKS)
)

HEALTH_QUERY = f"""
query RepositoryHealth($owner: String!, $name: String!, $since: GitTimestamp!{_week_vars}) {{
  rateLimit {{ cost remaining limit resetAt }}
  repository(owner: $owner, name: $name) {{
    nameWithOwner
    stargazerCount
    forkCount
    watchers {{ totalCount }}
    openIssues: issues(states: [OPEN]) {{ totalCount }}
    openPullRequests: pullRequests(states: [OPEN]) {{ totalCount }}
    releases {{ totalCount }}
    defaultBranchRef {{
      name
      target {{
        ... on Commit {{
          recent: history(since: $since, first: {COMMIT_AUTHORS}) {{
            totalCount
            nodes {{ committedDate author {{ email name user {{ login }} }} }}
          }}
{_week_fields}
        }}
      }}
    }}
    recentPullRequests: pullRequests(first: {PR_WINDOW}, orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
      totalCount
      nodes {{ createdAt updatedAt closedAt mergedAt state }}
    }}
    recentReleases: releases(first: {RELEASE_WINDOW}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
      nodes {{ createdAt publishedAt isDraft }}
    }}
    oldestOpenIssues: issues(states: [OPEN], first: {OPEN_ISSUE_WINDOW},
                             orderBy: {{field: CREATED_AT, direction: ASC}}) {{
      nodes {{ createdAt }}
    }}
    newestOpenIssues: issues(states: [OPEN], first: {OPEN_ISSUE_WINDOW},
                             orderBy: {{field: CREATED_AT, direction: DESC}}) {{
      nodes {{ createdAt }}
    }}
    responseIssues: issues(first: {TTFR_SAMPLE}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
      nodes {{
        createdAt
        author {{ login __typename }}
        comments(first: {TTFR_EVENTS}) {{ nodes {{ createdAt author {{ login __typename }} }} }}
      }}
    }}
    responsePullRequests: pullRequests(first: {TTFR_SAMPLE}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
      nodes {{
        createdAt
        author {{ login __typename }}
        comments(first: {TTFR_EVENTS}) {{ nodes {{ createdAt author {{ login __typename }} }} }}
        reviews(first: {TTFR_EVENTS}) {{ nodes {{ submittedAt createdAt author {{ login __typename }} }} }}
      }}
    }}
  }}
}}
"""

RATE_LIMIT_QUERY = """
query RateLimit {
  rateLimit { cost remaining limit resetAt used }
}
"""

ALL_QUERIES: dict[str, str] = {
    "RepositoryHealth": HEALTH_QUERY,
    "RateLimit": RATE_LIMIT_QUERY,
}
