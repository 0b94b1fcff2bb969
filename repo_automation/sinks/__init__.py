"""Sinks: the only code with side effects (report files, action outputs, history, …)."""
