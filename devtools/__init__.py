"""Development-time generators (docs/configuration.md, the README's action table). Not shipped in the package."""
