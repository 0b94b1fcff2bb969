"""Excluded by the default `exclude` list (venv): bandit must not report this."""
import os

os.system("rm -rf /tmp/generated")
