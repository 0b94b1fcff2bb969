"""The one GitHub client: every request to GitHub, REST and GraphQL, reads (client.py) and writes (writes.py,
typed methods the client inherits), with its auth (auth.py), ETag cache (cache.py), GraphQL documents
(queries.py) and the fingerprint markers (fingerprint.py). The wiring builds one client per run
(`client.connect`) and hands it to the collector and every sink; it is closed at the end of the run. The
metrics collector lives in `collectors/github.py`, the sinks in `sinks/github/`.

Nothing heavy is imported here: `repo-automation --help` must stay fast. Import the modules you need:
`from repo_automation.github.client import GitHubClient`.
"""
