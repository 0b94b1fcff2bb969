"""Collectors: each reads one source (local git, coverage files, SonarQube, Prometheus, …) into Metrics.

One module per source; each class is a `repo_automation.stages.Collector` with a `from_context(ctx)`.
"""
