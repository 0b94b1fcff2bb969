"""The GitHub sinks: issues, the check run, the PR comment, triage, and the dependency and docs pull requests.

Each reads and writes through the run's one GitHubClient, which the wiring passes in."""
