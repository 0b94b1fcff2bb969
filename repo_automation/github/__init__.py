"""Everything GitHub: the one client (client.py), its auth and ETag cache, the GraphQL documents, the
metrics collector, and the sinks (issues, checks, PR comments).

Nothing heavy is imported here: `repo-automation --help` must stay fast. Import the modules you need:
`from repo_automation.github.client import GitHubClient`,
`from repo_automation.github.collector import GitHubCollector`.
"""
