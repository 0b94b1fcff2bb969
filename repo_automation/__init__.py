"""repo-automation: measure, scan, gate, score and maintain a repository's health."""

__version__ = "0.1.0"
