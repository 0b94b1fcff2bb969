"""End-to-end runs of the action the way the runner starts it."""
