"""Maintenance: dependency-update pull requests with a merge policy, and README badge / changelog upkeep.

Planning is pure (buckets.py and deps_plan.py over the manifest model in repo_automation.manifests, and
docs.py, produce Changes). The sinks that carry Changes out
live in sinks/github/: `dependency_updates.DependencyUpdateSink` ("dependency-updates") and
`docs_upkeep.DocsSink` ("docs"), both through `pulls.PullRequestPublisher` and the run's GitHubClient.
"""
