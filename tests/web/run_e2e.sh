#!/bin/sh
# Runs the dashboard's browser test (dashboard_e2e.mjs) with the pinned playwright-core, installing
# it first (npm ci, from package-lock.json) when node_modules is missing. No browser is downloaded:
# the test drives Debian's /usr/bin/chromium (scripts/bootstrap.sh installs it).
#   run_e2e.sh --demo PATH/ramp-demo --artifacts DIR
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
if ! command -v node >/dev/null 2>&1; then
  echo "run_e2e.sh: node is not installed (scripts/bootstrap.sh installs it)" >&2
  exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "run_e2e.sh: /usr/bin/chromium is not installed (scripts/bootstrap.sh installs it)" >&2
  exit 1
fi
if [ ! -f "$dir/node_modules/playwright-core/package.json" ]; then
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing, but say so anyway.
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
# Paths in the arguments stay relative to the caller's directory; node finds playwright-core
# next to the script.
exec node "$dir/dashboard_e2e.mjs" "$@"
