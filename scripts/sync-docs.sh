#!/usr/bin/env bash
# Regenerate the docs that are generated from the code: the README's action table and docs/configuration.md.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
table=$($py -m devtools.action_table)
$py - "$table" <<'PY'
import re, sys
table = sys.argv[1].strip()
text = open("README.md", encoding="utf-8").read()
new = re.sub(r"(<!-- action-table:start -->\n).*?(<!-- action-table:end -->)",
             lambda m: m.group(1) + table + "\n" + m.group(2), text, flags=re.S)
open("README.md", "w", encoding="utf-8").write(new)
PY
$py -m devtools.config_docs > docs/configuration.md
