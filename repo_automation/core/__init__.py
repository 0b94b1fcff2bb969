"""The pure core: scoring, alert rules, finding policy, derived metrics and the verdict.

Functions of domain values and the configuration only: no I/O, no clock, no environment."""
