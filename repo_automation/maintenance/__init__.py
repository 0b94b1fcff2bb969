"""Maintenance: dependency-update pull requests with a merge policy, and README badge / changelog upkeep.

Planning is pure (manifests.py, deps_plan.py, docs.py produce Changes); pulls.py is the only code here that
writes, through the run's GitHubClient (reads) and PyGithub (writes). The sinks are
`deps_sink.DependencyUpdateSink` ("dependency-updates") and `docs_sink.DocsSink` ("docs").
"""
