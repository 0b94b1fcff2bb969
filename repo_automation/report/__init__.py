"""Renderers: pure functions from a RunReport to JSON, Markdown and the job summary (no side effects)."""
