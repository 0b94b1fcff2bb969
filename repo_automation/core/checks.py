"""Configuration checks the schema cannot make, made by the parts that own the rules: alert conditions
parse (core.rules), grades and weights hold together (core.scoring), required sources are ones that run
(core.policy).

The engine runs `check_config` right after loading the file, so a bad file still stops the run before
anything runs (ConfigError, exit status 2). `config/` only reads and validates against the schema: it
imports nothing above it.
"""

from __future__ import annotations

from repo_automation.config import Config
from repo_automation.core.policy import required_problems
from repo_automation.core.rules import parse_alert_rules
from repo_automation.core.scoring import config_problems
from repo_automation.errors import ConfigError


def check_config(config: Config) -> Config:
    """`config` when the core accepts it; ConfigError listing each problem with its JSON path otherwise."""
    where = str(config.path) if config.path else "configuration"
    _, rule_problems = parse_alert_rules(config.alerts)
    if rule_problems:
        raise ConfigError(f"{where} has invalid alert conditions:", rule_problems)
    if scoring_problems := config_problems(config.scoring):
        raise ConfigError(f"{where} has invalid scoring settings:", scoring_problems)
    if policy_problems := required_problems(config.security_scanning, config.data_sources):
        raise ConfigError(f"{where} has invalid required sources:", policy_problems)
    return config
