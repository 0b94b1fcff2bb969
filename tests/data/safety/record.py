"""How tests/data/safety/check-2.3.5.json was produced (run by hand, never by the tests).

Safety 3.x needs its platform and an API key, which cannot be had here. Safety 2.3.5 runs offline with
the PyPI package safety-db (July 2021 data), in its own venv (it pins an old `packaging`):

    python3 -m venv /tmp/safety-venv
    /tmp/safety-venv/bin/pip install safety==2.3.5 safety-db==2021.7.17
    /tmp/safety-venv/bin/python tests/data/safety/record.py > tests/data/safety/check-2.3.5.json

It runs the real `safety check -r tests/data/scan_fixture/requirements.txt --db <safety_db> --output json`.
Safety 2.3.5's JSON formatter crashes on this old database because remediations carry no
`more_info_url` (requests rejects the URL 'None'); the only change made here is to give those remediations
the package's pyup.io page, so the formatter can finish. Every vulnerability field is safety's own.
"""

import importlib.util
import os
import sys

from safety import safety as safety_core
from safety.cli import cli

_original = safety_core.calculate_remediations


def _with_urls(*args, **kwargs):
    remediations = _original(*args, **kwargs)
    for name, rem in remediations.items():
        if not str(rem.get("more_info_url") or "").startswith("http"):  # it is the string "None" here
            rem["more_info_url"] = f"https://pyup.io/packages/pypi/{name}/"
    return remediations


safety_core.calculate_remediations = _with_urls
import safety.cli as safety_cli  # noqa: E402

safety_cli.calculate_remediations = _with_urls

here = os.path.dirname(os.path.abspath(__file__))
requirements = os.path.join(here, "..", "scan_fixture", "requirements.txt")
db = os.path.dirname(importlib.util.find_spec("safety_db").origin)  # importing it fails: find it
sys.argv = ["safety", "check", "-r", requirements, "--db", db, "--output", "json", "--continue-on-error"]
cli()
