#!/usr/bin/env bash
# The main job on the current checkout with the embedded default: no token, no server.
# Writes reports/project-health-report.{md,json} and reports/automation-report-YYYY-MM-DD.md.
# Extra arguments go to `repo-automation run` (e.g. --skip-security, --output-dir DIR).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/bootstrap.sh"
exec "$here/.venv/bin/repo-automation" run "$@"
