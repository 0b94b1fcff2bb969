"""Known bandit issues: shell injection, pickle, weak hash, hard-coded password."""
import hashlib
import pickle
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def run_again(cmd):
    return subprocess.call(cmd, shell=True)


def load(blob):
    return pickle.loads(blob)


def digest(data):
    assert data, "B101 is skipped by [tool.bandit] in pyproject.toml"
    return hashlib.md5(data).hexdigest()


def trusted(cmd):
    return subprocess.call(cmd, shell=True)  # nosec B602 — reviewed: cmd is a constant
